"""Unit tests of the ``chat/completions`` converter: exact request bodies, reply parsing with
null-tolerant fields, and the stream handler's accumulation, termination and error events."""

from __future__ import annotations

from typing import Any

import pytest

from cf_ai_gateway.errors import ConfigurationError, MalformedResponseError, StreamError
from cf_ai_gateway.wire import chat, converter
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


def request(**fields: Any) -> ChatRequest:
    fields.setdefault("model", "gpt-4o-mini")
    fields.setdefault("messages", [Message(role="user", content="hi")])
    return ChatRequest(**fields)


# --- build_body ------------------------------------------------------------------------------


def test_minimal_body() -> None:
    assert chat.build_body(request(), stream=False) == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_stream_body_asks_for_usage_unless_told_not_to() -> None:
    body = chat.build_body(request(), stream=True)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    body = chat.build_body(request(stream_usage=False), stream=True)
    assert body["stream"] is True
    assert "stream_options" not in body


def test_full_body() -> None:
    messages = [
        Message(role="system", content="Be brief."),
        Message(role="developer", content=[TextPart("Use metric units.")]),
        Message(
            role="user",
            name="ann",
            content=[
                TextPart("What is on these?"),
                ImagePart("https://example.com/a.png", detail="low"),
                ImagePart("data:image/png;base64,AAAA"),
                FilePart(data="data:application/pdf;base64,JVBE", filename="a.pdf"),
                FilePart(file_id="file-123"),
            ],
        ),
        Message(
            role="assistant",
            content="",
            tool_calls=[ToolCall(id="call_1", name="weather", arguments='{"city":"Oslo"}')],
        ),
        Message(role="tool", content="Sunny", tool_call_id="call_1", name="weather"),
        Message(role="assistant", content="It is sunny."),
    ]
    req = ChatRequest(
        model="gpt-4o",
        messages=messages,
        tools=[
            FunctionTool(
                name="weather", description="Weather now.", parameters=PARAMS, strict=True
            ),
            {"type": "function", "function": {"name": "raw", "parameters": {}}},
        ],
        tool_choice="weather",
        parallel_tool_calls=False,
        response_format=ResponseFormat(
            type="json_schema",
            name="Reply",
            schema={"type": "object"},
            strict=True,
            description="d",
        ),
        temperature=0.2,
        top_p=0.9,
        max_tokens=100,
        stop=["END"],
        seed=7,
        n=2,
        presence_penalty=0.1,
        frequency_penalty=0.3,
        logprobs=True,
        top_logprobs=2,
        user="u-1",
        reasoning_effort="low",
        reasoning_summary="auto",
        previous_response_id="resp_1",
        store=True,
        include=["reasoning.encrypted_content"],
        instructions="ignored here",
        truncation="auto",
    )
    assert chat.build_body(req, stream=True) == {
        "model": "gpt-4o",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
            {
                "role": "user",
                "name": "ann",
                "content": [
                    {"type": "text", "text": "What is on these?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "https://example.com/a.png", "detail": "low"},
                    },
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {
                        "type": "file",
                        "file": {
                            "filename": "a.pdf",
                            "file_data": "data:application/pdf;base64,JVBE",
                        },
                    },
                    {"type": "file", "file": {"file_id": "file-123"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "weather", "arguments": '{"city":"Oslo"}'},
                    }
                ],
            },
            {"role": "tool", "content": "Sunny", "tool_call_id": "call_1"},
            {"role": "assistant", "content": "It is sunny."},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "weather",
                    "description": "Weather now.",
                    "parameters": PARAMS,
                    "strict": True,
                },
            },
            {"type": "function", "function": {"name": "raw", "parameters": {}}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "weather"}},
        "parallel_tool_calls": False,
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "Reply",
                "schema": {"type": "object"},
                "strict": True,
                "description": "d",
            },
        },
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 100,
        "stop": ["END"],
        "seed": 7,
        "n": 2,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.3,
        "logprobs": True,
        "top_logprobs": 2,
        "user": "u-1",
        "reasoning_effort": "low",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("none", "none"),
        ("required", "required"),
        ("any", "required"),
        ("lookup", {"type": "function", "function": {"name": "lookup"}}),
    ],
)
def test_tool_choice(choice: str, wire: Any) -> None:
    assert chat.build_body(request(tool_choice=choice), stream=False)["tool_choice"] == wire


def test_function_tool_without_optional_fields() -> None:
    body = chat.build_body(request(tools=[FunctionTool(name="ping")]), stream=False)
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}},
        }
    ]


def test_response_formats() -> None:
    json_object = request(response_format=ResponseFormat(type="json_object"))
    assert chat.build_body(json_object, stream=False)["response_format"] == {"type": "json_object"}
    loose = request(response_format=ResponseFormat(type="json_schema", schema={"type": "object"}))
    assert chat.build_body(loose, stream=False)["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": {"type": "object"}},
    }


def test_assistant_content_defaults() -> None:
    messages = [
        Message(role="assistant"),
        Message(role="assistant", content="Let me check.", tool_calls=[ToolCall("c", "f", "{}")]),
        Message(role="user"),
    ]
    body = chat.build_body(request(messages=messages), stream=False)
    assert body["messages"][0] == {"role": "assistant", "content": ""}
    assert body["messages"][1]["content"] == "Let me check."
    assert body["messages"][2] == {"role": "user", "content": ""}


def test_extra_body_is_merged_last() -> None:
    req = request(max_tokens=10, extra_body={"max_tokens": 5, "max_completion_tokens": 20, "x": 1})
    body = chat.build_body(req, stream=False)
    assert (body["max_tokens"], body["max_completion_tokens"], body["x"]) == (5, 20, 1)


def test_converter_picks_the_module() -> None:
    assert converter("chat") is chat
    with pytest.raises(ValueError, match="api"):
        converter("completions")


# --- parse_result ------------------------------------------------------------------------------


def test_parse_tolerates_nulls_and_provider_extras() -> None:
    body = {
        "id": "x1",
        "model": "deepseek-reasoner",
        "created": 5,
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "reasoning_content": "Think first.",
                    "tool_calls": [
                        {"type": "function", "function": {"name": "f", "arguments": {"a": 1}}}
                    ],
                },
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": None,
            "total_tokens": None,
            "prompt_tokens_details": None,
            "completion_tokens_details": {"reasoning_tokens": None},
        },
    }
    result = chat.parse_result(body)
    assert result.text == ""
    assert result.reasoning == "Think first."
    assert result.tool_calls == [ToolCall(id="call_0", name="f", arguments='{"a": 1}')]
    assert result.usage == Usage(input_tokens=10, output_tokens=0, total_tokens=10)
    assert result.finish_reason == "tool_calls"
    assert result.status is None
    assert result.raw is body


def test_parse_cached_and_list_content() -> None:
    body = {
        "choices": [
            {
                "index": 0,
                "finish_reason": "end_turn",
                "message": {
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
                },
            }
        ],
        "usage": {
            "prompt_tokens": 100,
            "completion_tokens": 5,
            "total_tokens": 105,
            "prompt_tokens_details": {"cached_tokens": 64, "cache_write_tokens": 3},
        },
        "service_tier": "default",
    }
    result = chat.parse_result(body)
    assert result.text == "ab"
    assert result.finish_reason == "stop"
    assert result.usage == Usage(100, 5, 105, cached_tokens=64, cache_write_tokens=3)
    assert result.service_tier == "default"


def test_parse_empty_reply_is_malformed() -> None:
    # A reply without a choice holds no answer: never an empty string taken for success.
    with pytest.raises(MalformedResponseError, match="'choices' is empty"):
        chat.parse_result({"choices": []})


# --- StreamHandler -----------------------------------------------------------------------------


def chunk(
    delta: dict[str, Any] | None = None, finish: str | None = None, **top: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {"id": "c1", "model": "m", "created": 1}
    event["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish}]
    event.update(top)
    return event


def test_first_chunk_announces_id_and_model() -> None:
    handler = chat.StreamHandler()
    delta = handler.on_event(chunk({"role": "assistant", "content": ""}))
    assert delta is not None
    assert (delta.id, delta.model, delta.text) == ("c1", "m", "")
    assert handler.on_event(chunk({"role": "assistant"})) is None


def test_finish_chunk_is_not_terminal() -> None:
    handler = chat.StreamHandler()
    handler.on_event(chunk({"content": "Hi"}))
    delta = handler.on_event(chunk({}, finish="stop"))
    assert delta is not None and delta.finish_reason == "stop"
    assert not handler.done
    usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    delta = handler.on_event({"id": "c1", "model": "m", "choices": [], "usage": usage})
    assert delta is not None and delta.usage == Usage(3, 1, 4)
    handler.on_done()
    assert handler.done
    result = handler.result()
    assert (result.text, result.finish_reason, result.usage) == ("Hi", "stop", Usage(3, 1, 4))


def test_usage_repeated_on_content_chunks_is_reported_once() -> None:
    handler = chat.StreamHandler()
    running = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    first = handler.on_event(chunk({"content": "a"}, usage=running))
    assert first is not None and first.usage is None
    final = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    last = handler.on_event(chunk({"content": "b"}, finish="stop", usage=final))
    assert last is not None and last.usage == Usage(3, 2, 5)
    again = handler.on_event({"choices": [], "usage": final})
    assert again is None
    assert handler.result().usage == Usage(3, 2, 5)


def test_tool_call_chunks_merge_and_names_are_sent_once() -> None:
    handler = chat.StreamHandler()
    calls = [
        [{"index": 0, "id": "call_a", "function": {"name": "f", "arguments": ""}}],
        [{"index": 0, "id": "call_a", "function": {"name": "f", "arguments": '{"x":'}}],
        [{"index": 0, "function": {"arguments": "1}"}}],
        [{"index": 1, "id": "call_b", "function": {"name": "g", "arguments": "{}"}}],
    ]
    chunks = []
    for tool_calls in calls:
        delta = handler.on_event(chunk({"tool_calls": tool_calls}))
        assert delta is not None
        chunks.extend(delta.tool_call_chunks)
    assert chunks == [
        ToolCallChunk(index=0, id="call_a", name="f", arguments=""),
        ToolCallChunk(index=0, arguments='{"x":'),
        ToolCallChunk(index=0, arguments="1}"),
        ToolCallChunk(index=1, id="call_b", name="g", arguments="{}"),
    ]
    assert handler.result().tool_calls == [
        ToolCall(id="call_a", name="f", arguments='{"x":1}'),
        ToolCall(id="call_b", name="g", arguments="{}"),
    ]


def test_new_call_id_at_a_used_index_starts_a_new_call() -> None:
    handler = chat.StreamHandler()
    for call_id, name in (("call_a", "f"), ("call_b", "g")):
        tool_calls = [{"index": 0, "id": call_id, "function": {"name": name, "arguments": "{}"}}]
        handler.on_event(chunk({"tool_calls": tool_calls}))
    result = handler.result()
    assert [(c.id, c.name) for c in result.tool_calls] == [("call_a", "f"), ("call_b", "g")]


def test_reasoning_and_refusal_deltas() -> None:
    handler = chat.StreamHandler()
    delta = handler.on_event(chunk({"reasoning_content": "Hmm. "}))
    assert delta is not None and delta.reasoning == "Hmm. "
    handler.on_event(chunk({"reasoning": "Ok."}))
    delta = handler.on_event(chunk({"refusal": "No."}))
    assert delta is not None and delta.refusal == "No."
    result = handler.result()
    assert (result.reasoning, result.refusal, result.text) == ("Hmm. Ok.", "No.", "")


def test_other_choices_and_empty_chunks_are_ignored() -> None:
    handler = chat.StreamHandler()
    handler.on_event({"id": "", "model": "", "choices": [], "prompt_filter_results": []})
    handler.on_event(chunk({"content": "zero"}))
    other = chunk()
    other["choices"] = [{"index": 1, "delta": {"content": "one"}, "finish_reason": None}]
    assert handler.on_event(other) is None
    assert handler.on_event({"choices": None, "usage": None}) is None
    result = handler.result()
    assert (result.text, result.id, result.model) == ("zero", "c1", "m")


@pytest.mark.parametrize(
    ("event", "message", "code"),
    [
        ({"error": {"message": "Overloaded", "type": "server_error"}}, "Overloaded", None),
        ({"error": "upstream closed"}, "upstream closed", None),
        (
            {"success": False, "error": [{"code": 2016, "message": "Prompt blocked"}]},
            "Prompt blocked",
            2016,
        ),
    ],
)
def test_error_event_raises(event: dict[str, Any], message: str, code: int | None) -> None:
    handler = chat.StreamHandler()
    handler.on_event(chunk({"content": "partial"}))
    with pytest.raises(StreamError) as caught:
        handler.on_event(event)
    assert caught.value.message == message
    assert caught.value.code == code
    assert caught.value.body == event
    assert handler.result().text == "partial"


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"model": ""}, "model"),
        ({"messages": [Message(role="robot", content="x")]}, r"messages\[0\]\.role"),  # type: ignore[arg-type]
        (
            {"messages": [Message(role="user", content="x"), Message(role="tool", content="r")]},
            r"messages\[1\]\.tool_call_id",
        ),
        ({"response_format": ResponseFormat(type="json_schema")}, r"response_format\.schema"),
        ({"response_format": ResponseFormat(type="xml")}, r"response_format\.type"),  # type: ignore[arg-type]
        ({"extra_body": [("a", 1)]}, "extra_body"),
        ({"messages": [Message(role="user", content=[object()])]}, "content"),  # type: ignore[list-item]
    ],
)
def test_bad_request_raises_configuration_error(
    api: str, fields: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named):
        converter(api).build_body(request(**fields), stream=False)


def test_logprobs_from_the_recorded_stream_and_body() -> None:
    from .recordings import FIXTURE_SSE_DIR, feed_chat

    text = (FIXTURE_SSE_DIR / "chat_completions_stream__test_content_logprobs_events.sse").read_text()
    handler, deltas, events = feed_chat(text)
    expected = [
        token
        for event in events
        for choice in event.get("choices") or []
        if choice.get("index", 0) == 0 and choice.get("logprobs")
        for token in choice["logprobs"].get("content") or []
    ]
    result = handler.result().logprobs
    assert expected and result is not None
    assert [token.to_dict() for token in result] == expected
    assert [t.to_dict() for d in deltas for t in (d.logprobs or [])] == expected
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop",
                         "logprobs": {"content": expected[:1], "refusal": None}}]}
    parsed = chat.parse_result(body).logprobs
    assert parsed is not None and [token.to_dict() for token in parsed] == expected[:1]


@pytest.mark.parametrize(
    "entry",
    [
        "not a dict",
        {"token": 7, "logprob": -1.0},
        {"token": "a", "logprob": "-1"},
        {"token": "a", "logprob": True},
        {"token": "a", "logprob": 10**400},
        {"token": "a"},
    ],
)
def test_malformed_logprob_entries_are_left_out(entry: object) -> None:
    good = {"token": "b", "logprob": -0.5, "bytes": [98], "top_logprobs": [entry, {"token": "c", "logprob": -2}]}
    body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop",
                         "logprobs": {"content": [entry, good]}}]}
    parsed = chat.parse_result(body).logprobs
    assert parsed is not None and len(parsed) == 1
    token = parsed[0]
    assert (token.token, token.logprob, token.bytes) == ("b", -0.5, [98])
    assert [(top.token, top.logprob, top.bytes) for top in token.top_logprobs] == [("c", -2.0, None)]
