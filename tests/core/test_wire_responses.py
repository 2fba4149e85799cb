"""Unit tests of the ``responses`` converter: exact request bodies, reply parsing, and the
stream handler's tool-call numbering, reasoning text, broken-off streams and error events."""

from __future__ import annotations

from typing import Any

import pytest

from cf_ai_gateway.errors import StreamError
from cf_ai_gateway.wire import converter, responses
from cf_ai_gateway.wire.types import (
    ChatRequest,
    FilePart,
    FunctionTool,
    ImagePart,
    Message,
    ResponseFormat,
    TextPart,
    ToolCall,
    ToolCallChunk,
    Usage,
)

PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
REASONING_ITEM = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "enc"}


def request(**fields: Any) -> ChatRequest:
    fields.setdefault("model", "gpt-5-mini")
    fields.setdefault("messages", [Message(role="user", content="hi")])
    return ChatRequest(**fields)


# --- build_body ------------------------------------------------------------------------------


def test_minimal_body() -> None:
    assert responses.build_body(request(), stream=False) == {
        "model": "gpt-5-mini",
        "input": [{"type": "message", "role": "user", "content": "hi"}],
    }
    assert responses.build_body(request(), stream=True)["stream"] is True


def test_full_body() -> None:
    messages = [
        Message(role="system", content="Be brief."),
        Message(role="developer", content=[TextPart("Metric units.")]),
        Message(
            role="user",
            name="ann",
            content=[
                TextPart("Look:"),
                ImagePart("https://example.com/a.png", detail="high"),
                ImagePart("data:image/png;base64,AAAA"),
                FilePart(data="data:application/pdf;base64,JVBE", filename="a.pdf"),
                FilePart(data="https://example.com/b.pdf"),
                FilePart(file_id="file-123"),
            ],
        ),
        Message(
            role="assistant",
            content="Checking.",
            reasoning_items=[REASONING_ITEM],
            tool_calls=[
                ToolCall(id="call_1", name="weather", arguments='{"city":"Oslo"}', item_id="fc_1"),
                ToolCall(id="call_2", name="weather", arguments='{"city":"Rome"}'),
            ],
        ),
        Message(role="tool", content="Sunny", tool_call_id="call_1"),
        Message(
            role="tool",
            content=[TextPart("chart:"), ImagePart("https://example.com/c.png")],
            tool_call_id="call_2",
        ),
        Message(role="assistant", content=[TextPart("Oslo is "), TextPart("sunny.")]),
    ]
    req = ChatRequest(
        model="gpt-5",
        messages=messages,
        instructions="Answer in English.",
        tools=[
            FunctionTool(
                name="weather", description="Weather now.", parameters=PARAMS, strict=True
            ),
            {"type": "web_search"},
        ],
        tool_choice="any",
        parallel_tool_calls=True,
        response_format=ResponseFormat(
            type="json_schema", name="Reply", schema={"type": "object"}, strict=True
        ),
        temperature=0.5,
        top_p=0.8,
        max_tokens=300,
        stop=["END"],
        seed=1,
        n=2,
        presence_penalty=0.1,
        frequency_penalty=0.2,
        logprobs=True,
        top_logprobs=3,
        user="u-1",
        reasoning_effort="high",
        reasoning_summary="auto",
        previous_response_id="resp_0",
        store=False,
        include=["reasoning.encrypted_content"],
        truncation="auto",
    )
    assert responses.build_body(req, stream=True) == {
        "model": "gpt-5",
        "input": [
            {"type": "message", "role": "system", "content": "Be brief."},
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "Metric units."}],
            },
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Look:"},
                    {
                        "type": "input_image",
                        "image_url": "https://example.com/a.png",
                        "detail": "high",
                    },
                    {
                        "type": "input_image",
                        "image_url": "data:image/png;base64,AAAA",
                        "detail": "auto",
                    },
                    {
                        "type": "input_file",
                        "filename": "a.pdf",
                        "file_data": "data:application/pdf;base64,JVBE",
                    },
                    {"type": "input_file", "file_url": "https://example.com/b.pdf"},
                    {"type": "input_file", "file_id": "file-123"},
                ],
            },
            REASONING_ITEM,
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "Checking.", "annotations": []}],
            },
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "weather",
                "arguments": '{"city":"Oslo"}',
                "id": "fc_1",
            },
            {
                "type": "function_call",
                "call_id": "call_2",
                "name": "weather",
                "arguments": '{"city":"Rome"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": "Sunny"},
            {
                "type": "function_call_output",
                "call_id": "call_2",
                "output": [
                    {"type": "input_text", "text": "chart:"},
                    {
                        "type": "input_image",
                        "image_url": "https://example.com/c.png",
                        "detail": "auto",
                    },
                ],
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": "Oslo is ", "annotations": []},
                    {"type": "output_text", "text": "sunny.", "annotations": []},
                ],
            },
        ],
        "instructions": "Answer in English.",
        "tools": [
            {
                "type": "function",
                "name": "weather",
                "description": "Weather now.",
                "parameters": PARAMS,
                "strict": True,
            },
            {"type": "web_search"},
        ],
        "tool_choice": "required",
        "parallel_tool_calls": True,
        "text": {
            "format": {
                "type": "json_schema",
                "name": "Reply",
                "schema": {"type": "object"},
                "strict": True,
            }
        },
        "temperature": 0.5,
        "top_p": 0.8,
        "max_output_tokens": 300,
        "reasoning": {"effort": "high", "summary": "auto"},
        "previous_response_id": "resp_0",
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "truncation": "auto",
        "user": "u-1",
        "top_logprobs": 3,
        "stream": True,
    }


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        ("lookup", {"type": "function", "name": "lookup"}),
    ],
)
def test_tool_choice(choice: str, wire: Any) -> None:
    assert responses.build_body(request(tool_choice=choice), stream=False)["tool_choice"] == wire


def test_text_formats_and_reasoning_parts() -> None:
    body = responses.build_body(
        request(response_format=ResponseFormat(type="json_object"), reasoning_effort="low"),
        stream=False,
    )
    assert body["text"] == {"format": {"type": "json_object"}}
    assert body["reasoning"] == {"effort": "low"}
    body = responses.build_body(request(reasoning_summary="detailed"), stream=False)
    assert body["reasoning"] == {"summary": "detailed"}
    assert "reasoning" not in responses.build_body(request(), stream=False)


def test_function_tool_without_optional_fields() -> None:
    body = responses.build_body(request(tools=[FunctionTool(name="ping")]), stream=False)
    assert body["tools"] == [
        {"type": "function", "name": "ping", "parameters": {"type": "object", "properties": {}}}
    ]


def test_assistant_turn_with_only_tool_calls_sends_no_empty_message() -> None:
    messages = [
        Message(role="user", content="go"),
        Message(role="assistant", content="", tool_calls=[ToolCall("call_1", "f", "{}")]),
        Message(role="tool", content=[TextPart("do"), TextPart("ne")], tool_call_id="call_1"),
    ]
    items = responses.build_body(request(messages=messages), stream=False)["input"]
    assert [item["type"] for item in items] == ["message", "function_call", "function_call_output"]
    assert items[2]["output"] == "done"


def test_extra_body_is_merged_last() -> None:
    req = request(max_tokens=10, extra_body={"max_output_tokens": 50, "service_tier": "flex"})
    body = responses.build_body(req, stream=False)
    assert (body["max_output_tokens"], body["service_tier"]) == (50, "flex")


def test_converter_picks_the_module() -> None:
    assert converter("responses") is responses


# --- parse_result ------------------------------------------------------------------------------


def response(output: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "resp_1",
        "object": "response",
        "created_at": 9,
        "model": "gpt-5",
        "status": "completed",
        "output": output,
        "usage": {
            "input_tokens": 20,
            "input_tokens_details": {"cached_tokens": 8},
            "output_tokens": 30,
            "output_tokens_details": {"reasoning_tokens": 12},
            "total_tokens": 50,
        },
    }
    body.update(fields)
    return body


def message(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "id": "msg_1", "role": "assistant", "content": list(parts)}


def test_parse_refusal_reasoning_and_built_in_items() -> None:
    search = {"type": "web_search_call", "id": "ws_1", "status": "completed"}
    reasoning = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "Raw thoughts."}],
    }
    body = response(
        [reasoning, search, message({"type": "refusal", "refusal": "I can't help with that."})]
    )
    result = responses.parse_result(body)
    assert result.text == ""
    assert result.refusal == "I can't help with that."
    assert result.reasoning == "Raw thoughts."
    assert result.reasoning_items == [reasoning]
    assert result.output_items == [search]
    assert result.usage == Usage(20, 30, 50, cached_tokens=8, reasoning_tokens=12)
    assert (result.finish_reason, result.status, result.created) == ("stop", "completed", 9)


@pytest.mark.parametrize(
    ("status", "details", "finish"),
    [
        ("incomplete", {"reason": "max_output_tokens"}, "length"),
        ("incomplete", {"reason": "content_filter"}, "content_filter"),
        ("failed", None, "error"),
        ("in_progress", None, None),
    ],
)
def test_parse_status_to_finish_reason(status: str, details: Any, finish: str | None) -> None:
    body = response([], status=status, incomplete_details=details, usage=None)
    result = responses.parse_result(body)
    assert (result.status, result.finish_reason, result.usage) == (status, finish, None)


def test_parse_function_calls() -> None:
    call = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "arguments": '{"a":1}',
    }
    result = responses.parse_result(response([call]))
    assert result.tool_calls == [
        ToolCall(id="call_1", name="f", arguments='{"a":1}', item_id="fc_1")
    ]
    assert result.finish_reason == "tool_calls"


# --- StreamHandler -----------------------------------------------------------------------------


def created(status: str = "in_progress") -> dict[str, Any]:
    return {"type": "response.created", "response": response([], status=status, usage=None)}


def call_added(output_index: int, call_id: str, name: str) -> dict[str, Any]:
    item = {
        "type": "function_call",
        "id": f"fc_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": "",
    }
    return {"type": "response.output_item.added", "output_index": output_index, "item": item}


def args_delta(output_index: int, delta: str) -> dict[str, Any]:
    return {
        "type": "response.function_call_arguments.delta",
        "output_index": output_index,
        "delta": delta,
    }


def test_tool_calls_are_numbered_from_zero_by_output_item() -> None:
    handler = responses.StreamHandler()
    events = [
        created(),
        {"type": "response.output_item.added", "output_index": 0, "item": REASONING_ITEM},
        {"type": "response.output_item.done", "output_index": 0, "item": REASONING_ITEM},
        call_added(1, "call_a", "f"),
        args_delta(1, '{"x":'),
        call_added(2, "call_b", "g"),
        args_delta(2, "{}"),
        args_delta(1, "1}"),
    ]
    chunks = []
    for event in events:
        delta = handler.on_event(event)
        if delta is not None:
            chunks.extend(delta.tool_call_chunks)
    assert chunks == [
        ToolCallChunk(index=0, id="call_a", name="f", item_id="fc_call_a"),
        ToolCallChunk(index=0, arguments='{"x":'),
        ToolCallChunk(index=1, id="call_b", name="g", item_id="fc_call_b"),
        ToolCallChunk(index=1, arguments="{}"),
        ToolCallChunk(index=0, arguments="1}"),
    ]
    # Broken off before the terminal event: the streamed parts still make a result.
    assert not handler.done
    result = handler.result()
    assert result.tool_calls == [
        ToolCall(id="call_a", name="f", arguments='{"x":1}', item_id="fc_call_a"),
        ToolCall(id="call_b", name="g", arguments="{}", item_id="fc_call_b"),
    ]
    assert result.reasoning_items == [REASONING_ITEM]
    assert (result.status, result.finish_reason, result.id) == ("in_progress", None, "resp_1")


def test_arguments_sent_only_whole_are_reported() -> None:
    handler = responses.StreamHandler()
    handler.on_event(call_added(0, "call_a", "f"))
    delta = handler.on_event(
        {"type": "response.function_call_arguments.done", "output_index": 0, "arguments": '{"k":2}'}
    )
    assert delta is not None
    assert delta.tool_call_chunks == [ToolCallChunk(index=0, arguments='{"k":2}')]
    item = {
        "type": "function_call",
        "id": "fc_z",
        "call_id": "call_z",
        "name": "h",
        "arguments": "{}",
    }
    delta = handler.on_event({"type": "response.output_item.done", "output_index": 1, "item": item})
    assert delta is not None
    assert delta.tool_call_chunks == [
        ToolCallChunk(index=1, id="call_z", name="h", arguments="{}", item_id="fc_z")
    ]
    assert [c.arguments for c in handler.result().tool_calls] == ['{"k":2}', "{}"]


def test_reasoning_summary_parts_are_separated() -> None:
    handler = responses.StreamHandler()
    pieces = []
    for index, text in ((0, "First"), (0, " part."), (1, "Second.")):
        delta = handler.on_event(
            {
                "type": "response.reasoning_summary_text.delta",
                "item_id": "rs_1",
                "summary_index": index,
                "delta": text,
            }
        )
        assert delta is not None
        pieces.append(delta.reasoning)
    assert "".join(pieces) == "First part.\n\nSecond."
    assert handler.result().reasoning == "First part.\n\nSecond."


def test_terminal_event_with_empty_output_keeps_streamed_content() -> None:
    handler = responses.StreamHandler()
    handler.on_event(created())
    handler.on_event({"type": "response.output_text.delta", "delta": "Hel"})
    handler.on_event({"type": "response.output_text.delta", "delta": "lo"})
    handler.on_event(call_added(1, "call_a", "f"))
    handler.on_event(args_delta(1, "{}"))
    final = response([], status="completed")
    delta = handler.on_event({"type": "response.completed", "response": final})
    assert handler.done
    assert delta is not None
    assert delta.usage == Usage(20, 30, 50, cached_tokens=8, reasoning_tokens=12)
    assert delta.finish_reason == "tool_calls"
    result = handler.result()
    assert result.text == "Hello"
    assert [c.id for c in result.tool_calls] == ["call_a"]
    assert result.finish_reason == "tool_calls"
    assert result.raw is final


def test_done_marker_is_not_terminal() -> None:
    handler = responses.StreamHandler()
    handler.on_event(created())
    handler.on_done()
    assert not handler.done
    handler.on_event({"type": "response.incomplete", "response": response([], status="incomplete")})
    assert handler.done


def test_failed_stream_is_terminal_with_error_finish() -> None:
    handler = responses.StreamHandler()
    failed = response(
        [], status="failed", usage=None, error={"code": "server_error", "message": "x"}
    )
    delta = handler.on_event({"type": "response.failed", "response": failed})
    assert handler.done
    assert delta is not None and delta.finish_reason == "error"
    assert handler.result().status == "failed"


def test_refusal_delta() -> None:
    handler = responses.StreamHandler()
    delta = handler.on_event({"type": "response.refusal.delta", "delta": "No."})
    assert delta is not None and delta.refusal == "No."
    assert handler.result().refusal == "No."


def test_events_without_content_give_nothing() -> None:
    handler = responses.StreamHandler()
    delta = handler.on_event(created())
    assert delta is not None and (delta.id, delta.model, delta.text) == ("resp_1", "gpt-5", "")
    for event in (
        {"type": "response.in_progress", "response": response([], usage=None)},
        {"type": "response.content_part.added", "part": {"type": "output_text", "text": ""}},
        {"type": "response.output_text.done", "text": "x"},
        {"type": "response.web_search_call.searching", "item_id": "ws_1"},
    ):
        assert handler.on_event(event) is None


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "error", "code": "server_error", "message": "Boom", "param": None}, "Boom"),
        ({"error": {"message": "Gateway cut", "type": "x"}}, "Gateway cut"),
    ],
)
def test_error_event_raises(event: dict[str, Any], message: str) -> None:
    handler = responses.StreamHandler()
    with pytest.raises(StreamError) as caught:
        handler.on_event(event)
    assert caught.value.message == message
    assert caught.value.body == event
