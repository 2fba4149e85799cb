"""The adapter's pure conversions: LlamaIndex messages and tools to neutral types and back.

These pin the shapes both endpoints' converters receive (roles, content parts, tool calls from
blocks and from legacy ``additional_kwargs``, tool results, reasoning items), how call kwargs map
to neutral request fields, the strict JSON schemas, and how replies and stream deltas become
``ChatResponse`` objects whose growing content matches the deltas.
"""

from __future__ import annotations

import base64
import json
import pickle
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    ImageBlock,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.tools import FunctionTool as LlamaFunctionTool
from pydantic import BaseModel, Field

from cf_ai_gateway.wire import chat
from cf_ai_gateway.wire.types import (
    ChatDelta,
    ChatResult,
    FunctionTool,
    ImagePart,
    ResponseFormat,
    TextPart,
    ToolCall,
    Usage,
)
from llama_index.llms.cf_ai_gateway.convert import (
    ToolCallDict,
    result_to_chat_response,
    to_neutral_messages,
)
from llama_index.llms.cf_ai_gateway.request import build_request
from llama_index.llms.cf_ai_gateway.schema import response_format_for, strict_json_schema
from llama_index.llms.cf_ai_gateway.streaming import ChatStreamState, CompletionStreamState
from llama_index.llms.cf_ai_gateway.tools import tool_selections

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_roles_text_and_tool_history() -> None:
    messages = [
        ChatMessage(role="system", content="be brief"),
        ChatMessage(role="user", content="weather?"),
        ChatMessage(
            role="assistant",
            blocks=[
                ToolCallBlock(
                    tool_call_id="call_1", tool_name="weather", tool_kwargs={"city": "Oslo"}
                )
            ],
        ),
        ChatMessage(role="tool", content="sunny", additional_kwargs={"tool_call_id": "call_1"}),
    ]
    system, user, assistant, tool = to_neutral_messages(messages)
    assert (system.role, system.content) == ("system", "be brief")
    assert (user.role, user.content) == ("user", "weather?")
    assert assistant.role == "assistant" and assistant.content is None
    assert assistant.tool_calls == [
        ToolCall(id="call_1", name="weather", arguments='{"city": "Oslo"}')
    ]
    assert (tool.role, tool.content, tool.tool_call_id) == ("tool", "sunny", "call_1")


def test_legacy_tool_calls_in_additional_kwargs() -> None:
    legacy = ChatMessage(
        role="assistant",
        content="",
        additional_kwargs={
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ]
        },
    )
    (message,) = to_neutral_messages([legacy])
    assert message.tool_calls == [ToolCall(id="c1", name="f", arguments="{}")]


def test_images_become_parts_and_reasoning_items_round_trip() -> None:
    user = ChatMessage(
        role="user",
        blocks=[
            TextBlock(text="what is this?"),
            ImageBlock(url="https://example.com/cat.png", detail="low"),
            ImageBlock(image=PNG, image_mimetype="image/png"),
        ],
    )
    item = {"type": "reasoning", "id": "rs_1", "summary": []}
    assistant = ChatMessage(
        role="assistant",
        blocks=[
            ThinkingBlock(content="hmm", additional_information={"reasoning_items": [item]}),
            TextBlock(text="a cat"),
        ],
    )
    first, second = to_neutral_messages([user, assistant])
    assert isinstance(first.content, list)
    text, remote, inline = first.content
    assert text == TextPart(text="what is this?")
    assert remote == ImagePart(url="https://example.com/cat.png", detail="low")
    assert isinstance(inline, ImagePart) and inline.url.startswith("data:image/png;base64,")
    assert second.content == "a cat" and second.reasoning_items == [item]


def test_request_maps_kwargs_and_keeps_extras() -> None:
    defaults: dict[str, Any] = {"temperature": 0.2, "max_tokens": None, "stop": "END"}
    kwargs: dict[str, Any] = {
        "max_output_tokens": 50,
        "tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
        ],
        "tool_choice": "required",
        "response_format": {"type": "json_object"},
        "gateway_options": {"cache_ttl": 60},
        "timeout": 5.0,
        "metadata": {"k": "v"},
        "reasoning": {"effort": "low", "summary": "auto"},
    }
    request, call = build_request(
        "gpt-4o", [ChatMessage(content="hi")], defaults, {"service_tier": "flex"}, None, kwargs
    )
    assert request.temperature == 0.2 and request.max_tokens == 50 and request.stop == ["END"]
    assert request.tools == [FunctionTool(name="f", parameters={"type": "object"})]
    assert request.tool_choice == "required"
    assert request.response_format == ResponseFormat(type="json_object")
    assert request.reasoning_effort == "low" and request.reasoning_summary == "auto"
    assert request.extra_body == {"service_tier": "flex", "metadata": {"k": "v"}}
    assert call.options == {"cache_ttl": 60} and call.timeout == 5.0


def test_tool_choice_and_parallel_flag_dropped_without_tools() -> None:
    request, _ = build_request(
        "m", [], {}, {}, None, {"tool_choice": "auto", "parallel_tool_calls": True}
    )
    assert request.tools is None and request.tool_choice is None
    assert request.parallel_tool_calls is None


class Pet(BaseModel):
    """A pet."""

    name: str
    age: int | None = None
    tags: list[str] = Field(default_factory=list)


class Owner(BaseModel):
    pets: list[Pet]
    favourite: Pet | None = None


def test_strict_schema() -> None:
    schema = strict_json_schema(Owner.model_json_schema())
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["pets", "favourite"]
    pet = schema["$defs"]["Pet"]
    assert pet["required"] == ["name", "age", "tags"] and pet["additionalProperties"] is False
    assert "default" not in pet["properties"]["age"]
    response_format = response_format_for(Pet)
    assert response_format.type == "json_schema" and response_format.strict is True
    assert response_format.name == "Pet" and response_format.description == "A pet."


def test_llama_tools_convert_with_strict_schemas() -> None:
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    tool = LlamaFunctionTool.from_defaults(fn=add)
    from llama_index.llms.cf_ai_gateway.convert import llama_tool_to_neutral

    loose = llama_tool_to_neutral(tool, strict=False)
    strict = llama_tool_to_neutral(tool, strict=True)
    assert loose.name == "add" and loose.strict is None
    assert loose.parameters["required"] == ["a", "b"]
    assert strict.strict is True and strict.parameters["additionalProperties"] is False


def test_result_to_chat_response() -> None:
    result = ChatResult(
        text="",
        tool_calls=[ToolCall(id="call_9", name="weather", arguments='{"city":"Paris"}')],
        reasoning="thinking",
        reasoning_items=[{"type": "reasoning", "id": "rs_9"}],
        usage=Usage(
            input_tokens=10, output_tokens=5, total_tokens=15, cached_tokens=4, reasoning_tokens=2
        ),
        finish_reason="tool_calls",
        model="gpt-4o",
        id="resp_1",
        raw={"id": "resp_1"},
    )
    response = result_to_chat_response(result)
    blocks = response.message.blocks
    assert isinstance(blocks[0], ThinkingBlock) and blocks[0].content == "thinking"
    assert blocks[0].num_tokens == 2
    assert isinstance(blocks[1], ToolCallBlock) and blocks[1].tool_call_id == "call_9"
    (call,) = response.message.additional_kwargs["tool_calls"]
    assert call["function"]["name"] == "weather" and call.function.arguments == '{"city":"Paris"}'
    assert response.raw == {"id": "resp_1"}
    kwargs = response.additional_kwargs
    assert (kwargs["prompt_tokens"], kwargs["completion_tokens"], kwargs["total_tokens"]) == (
        10,
        5,
        15,
    )
    assert (kwargs["cached_tokens"], kwargs["reasoning_tokens"]) == (4, 2)
    assert kwargs["gateway"] == {} and kwargs["finish_reason"] == "tool_calls"
    (selection,) = tool_selections(response, error_on_no_tool_call=True)
    assert (selection.tool_id, selection.tool_name, selection.tool_kwargs) == (
        "call_9",
        "weather",
        {"city": "Paris"},
    )
    # The response serialises, and its tool-call dicts become plain JSON.
    dumped = json.loads(response.message.model_dump_json())
    assert dumped["additional_kwargs"]["tool_calls"][0]["id"] == "call_9"
    assert pickle.loads(pickle.dumps(call)) == call


def test_tool_selections_from_legacy_kwargs_and_errors() -> None:
    message = ChatMessage(
        role="assistant",
        additional_kwargs={
            "tool_calls": [
                ToolCallDict(
                    id="x", type="function", function=ToolCallDict(name="f", arguments='{"a": 1')
                )
            ]
        },
    )
    from llama_index.core.base.llms.types import ChatResponse

    (selection,) = tool_selections(ChatResponse(message=message), error_on_no_tool_call=True)
    assert selection.tool_kwargs == {"a": 1}
    empty = ChatResponse(message=ChatMessage(role="assistant", content="hi"))
    assert tool_selections(empty, error_on_no_tool_call=False) == []
    with pytest.raises(ValueError):
        tool_selections(empty, error_on_no_tool_call=True)


def test_stream_state_grows_content_and_tool_calls() -> None:
    handler = chat.StreamHandler()
    state = ChatStreamState({"log_id": "L1"}, handler.tool_calls)

    def chunk(delta: dict[str, Any], **rest: Any) -> dict[str, Any]:
        return {"id": "x", "model": "m", "choices": [{"index": 0, "delta": delta, **rest}]}

    def call(**fields: Any) -> dict[str, Any]:
        return chunk({"tool_calls": [{"index": 0, **fields}]})

    events = [
        chunk({"role": "assistant"}),  # a role-only opening chunk: skipped
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        call(id="c1", function={"name": "f", "arguments": '{"a"'}),
        call(function={"arguments": ": 1}"}),
        chunk({}, finish_reason="tool_calls"),
        {"id": "x", "model": "m", "choices": [],
         "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}},
    ]
    responses = []
    for event in events:  # as a stream runs: each delta is read before the next event
        delta = handler.on_event(event)
        response = state.response(delta) if delta is not None else None
        if response is not None:
            responses.append(response)
    assert len(responses) == 6
    assert "".join(r.delta or "" for r in responses) == "Hello"
    assert [r.message.content for r in responses[:2]] == ["Hel", "Hello"]
    last = responses[-1]
    assert last.message.content == "Hello"
    (block,) = [b for b in last.message.blocks if isinstance(b, ToolCallBlock)]
    assert (block.tool_call_id, block.tool_name, block.tool_kwargs) == ("c1", "f", '{"a": 1}')
    assert last.message.additional_kwargs["tool_calls"][0].function.arguments == '{"a": 1}'
    assert last.additional_kwargs["finish_reason"] == "tool_calls"
    assert last.additional_kwargs["prompt_tokens"] == 3
    assert all(r.additional_kwargs["gateway"] == {"log_id": "L1"} for r in responses)
    assert last.message.role == MessageRole.ASSISTANT
    # Earlier chunks are not changed by later ones.
    assert responses[2].message.additional_kwargs["tool_calls"][0].function.arguments == '{"a"'


def test_completion_stream_state() -> None:
    state = CompletionStreamState({}, list)
    out = [state.response(ChatDelta(text=t)) for t in ("a", "b", "c")]
    assert [r.text for r in out if r] == ["a", "ab", "abc"]
    assert state.response(ChatDelta()) is None


def test_fast_builders_match_validated_models() -> None:
    from llama_index.core.base.llms.types import ChatResponse, CompletionResponse

    from llama_index.llms.cf_ai_gateway.convert import (
        model_builder,
        new_chat_message,
        new_chat_response,
        new_text_block,
    )

    fast = new_chat_response(
        message=new_chat_message(
            role=MessageRole.ASSISTANT, blocks=[new_text_block(text="hi")], additional_kwargs={}
        ),
        raw={"id": 1},
        delta="hi",
        additional_kwargs={"gateway": {}},
    )
    slow = ChatResponse(
        message=ChatMessage(role="assistant", content="hi"),
        raw={"id": 1},
        delta="hi",
        additional_kwargs={"gateway": {}},
    )
    assert fast == slow
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.logprobs is None and fast.message.content == "hi"
    assert pickle.loads(pickle.dumps(fast)) == slow
    completion = model_builder(CompletionResponse)(text="a", delta="a")
    assert completion == CompletionResponse(text="a", delta="a")
    assert completion.additional_kwargs == {} and completion.raw is None
