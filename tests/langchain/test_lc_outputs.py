"""Pure conversion tests: the core's neutral results and deltas into LangChain messages."""

from __future__ import annotations

from langchain_core.messages import AIMessageChunk

from cf_ai_gateway import GatewayInfo
from cf_ai_gateway.wire.types import ChatDelta, ChatResult, ToolCall, ToolCallChunk, Usage
from langchain_cf_ai_gateway.outputs import (
    closing_chunk,
    delta_to_chunk,
    result_to_message,
    usage_metadata,
)


def test_usage_details() -> None:
    usage = usage_metadata(
        Usage(input_tokens=10, output_tokens=5, total_tokens=15, cached_tokens=4,
              reasoning_tokens=2, cache_write_tokens=1)
    )
    assert usage == {
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 15,
        "input_token_details": {"cache_read": 4, "cache_creation": 1},
        "output_token_details": {"reasoning": 2},
    }


def test_result_to_message() -> None:
    result = ChatResult(
        text="hi",
        tool_calls=[
            ToolCall(id="c1", name="add", arguments='{"a": 1}', item_id="fc_1"),
            ToolCall(id="c2", name="add", arguments='{"a": '),
            ToolCall(id="c3", name="noargs", arguments=""),
        ],
        reasoning="thought",
        reasoning_items=[{"type": "reasoning", "id": "rs_1", "summary": []}],
        usage=Usage(input_tokens=3, output_tokens=4, total_tokens=7),
        finish_reason="tool_calls",
        model="gpt-4o-mini-2024-07-18",
        id="resp_1",
        system_fingerprint="fp_1",
        info=GatewayInfo(log_id="log-1", cache_status="MISS"),
    )
    message = result_to_message(result, "gpt-4o-mini")
    assert message.content == "hi"
    assert message.id == "resp_1"
    assert [(c["name"], c["args"], c["id"]) for c in message.tool_calls] == [
        ("add", {"a": 1}, "c1"),
        ("noargs", {}, "c3"),
    ]
    assert [(c["name"], c["args"], c["id"]) for c in message.invalid_tool_calls] == [
        ("add", '{"a": ', "c2")
    ]
    assert message.additional_kwargs == {
        "reasoning_items": [{"type": "reasoning", "id": "rs_1", "summary": []}],
        "function_call_item_ids": {"c1": "fc_1"},
        "reasoning_content": "thought",
    }
    assert message.response_metadata == {
        "model_name": "gpt-4o-mini-2024-07-18",
        "finish_reason": "tool_calls",
        "id": "resp_1",
        "system_fingerprint": "fp_1",
        "gateway": {"log_id": "log-1", "cache_status": "MISS"},
    }
    assert message.usage_metadata is not None
    assert message.usage_metadata["total_tokens"] == 7
    assert [b["type"] for b in message.content_blocks] == ["reasoning", "text", "tool_call", "tool_call"]


def test_model_name_falls_back_to_the_request() -> None:
    message = result_to_message(ChatResult(text="x"), "my-model")
    assert message.response_metadata["model_name"] == "my-model"
    assert message.usage_metadata is None


def test_deltas_merge_into_tool_calls() -> None:
    deltas = [
        ChatDelta(tool_call_chunks=[ToolCallChunk(index=0, id="c1", name="add", arguments="")]),
        ChatDelta(tool_call_chunks=[ToolCallChunk(index=0, arguments='{"a": ')]),
        ChatDelta(tool_call_chunks=[ToolCallChunk(index=0, arguments="1}")]),
        ChatDelta(tool_call_chunks=[ToolCallChunk(index=1, id="c2", name="bad", arguments="not json")]),
        ChatDelta(),  # nothing visible: skipped
    ]
    chunks = [delta_to_chunk(d) for d in deltas]
    assert chunks[-1] is None
    final = closing_chunk(ChatResult(usage=Usage(1, 2, 3), finish_reason="tool_calls"), "m")
    messages = [c.message for c in chunks if c is not None] + [final.message]
    merged = messages[0]
    for m in messages[1:]:
        merged = merged + m  # type: ignore[assignment]
    assert isinstance(merged, AIMessageChunk)
    assert merged.tool_calls == [{"name": "add", "args": {"a": 1}, "id": "c1", "type": "tool_call"}]
    assert [c["name"] for c in merged.invalid_tool_calls] == ["bad"]
    assert merged.usage_metadata is not None and merged.usage_metadata["total_tokens"] == 3
    assert merged.response_metadata["finish_reason"] == "tool_calls"


def test_text_reasoning_and_refusal_deltas() -> None:
    text = delta_to_chunk(ChatDelta(text="Hel"))
    assert text is not None and text.message.content == "Hel" and text.text == "Hel"
    reasoning = delta_to_chunk(ChatDelta(reasoning="think"))
    assert reasoning is not None
    assert reasoning.message.additional_kwargs == {"reasoning_content": "think"}
    refusal = delta_to_chunk(ChatDelta(refusal="no"))
    assert refusal is not None and refusal.message.additional_kwargs == {"refusal": "no"}


def test_closing_chunk_is_last() -> None:
    chunk = closing_chunk(ChatResult(id="chatcmpl-1", model="m-1", finish_reason="stop"), "m")
    assert isinstance(chunk.message, AIMessageChunk)
    assert chunk.message.chunk_position == "last"
    assert chunk.message.id == "chatcmpl-1"
    assert chunk.message.response_metadata == {
        "model_name": "m-1", "finish_reason": "stop", "id": "chatcmpl-1"
    }
