"""Convert the core's neutral results and stream deltas into LangChain messages.

A :class:`~cf_ai_gateway.wire.types.ChatResult` becomes an ``AIMessage`` with parsed tool
calls (malformed argument JSON lands in ``invalid_tool_calls``), ``usage_metadata`` and a
``response_metadata`` that holds the model name, finish reason, reply id, token logprobs
(``{"content": [...]}`` when asked for, as ChatOpenAI puts them) and the gateway's
:class:`~cf_ai_gateway.GatewayInfo` as a dict under ``"gateway"``. Stream deltas become
``AIMessageChunk``s built directly, without intermediate dicts, because this is the
per-chunk hot path; the closing chunk carries usage and metadata exactly once so that
merging chunks never double-counts tokens or concatenates strings.
"""

from __future__ import annotations

import json
from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, InvalidToolCall, ToolCallChunk
from langchain_core.messages.ai import InputTokenDetails, OutputTokenDetails, UsageMetadata
from langchain_core.messages.tool import ToolCall as LCToolCall
from langchain_core.messages.tool import invalid_tool_call, tool_call_chunk
from langchain_core.messages.tool import tool_call as lc_tool_call
from langchain_core.outputs import ChatGenerationChunk

from cf_ai_gateway.wire.types import ChatDelta, ChatResult, ToolCall, Usage

from .messages import FUNCTION_CALL_ITEM_IDS_KEY, REASONING_ITEMS_KEY
from .text_chunks import text_chunk

__all__ = [
    "closing_chunk",
    "delta_to_chunk",
    "llm_output",
    "result_to_message",
    "usage_metadata",
]


def usage_metadata(usage: Usage) -> UsageMetadata:
    """LangChain usage from neutral usage, with cache-read and reasoning details."""
    input_details = InputTokenDetails(cache_read=usage.cached_tokens)
    if usage.cache_write_tokens:
        input_details["cache_creation"] = usage.cache_write_tokens
    return UsageMetadata(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens or usage.input_tokens + usage.output_tokens,
        input_token_details=input_details,
        output_token_details=OutputTokenDetails(reasoning=usage.reasoning_tokens),
    )


def split_tool_calls(calls: list[ToolCall]) -> tuple[list[LCToolCall], list[InvalidToolCall]]:
    """Parse each call's JSON arguments; calls that do not parse become invalid calls."""
    valid: list[LCToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in calls:
        try:
            args = call.parsed_arguments()
        except ValueError as exc:
            invalid.append(
                invalid_tool_call(name=call.name, args=call.arguments, id=call.id, error=str(exc))
            )
        else:
            valid.append(lc_tool_call(name=call.name, args=args, id=call.id))
    return valid, invalid


def response_metadata(result: ChatResult, request_model: str) -> dict[str, Any]:
    """``response_metadata`` for a finished reply (shared by invoke and stream ends)."""
    metadata: dict[str, Any] = {
        "model_name": result.model or request_model,
        "finish_reason": result.finish_reason,
    }
    if result.id:
        metadata["id"] = result.id
    if result.system_fingerprint:
        metadata["system_fingerprint"] = result.system_fingerprint
    if result.service_tier:
        metadata["service_tier"] = result.service_tier
    if result.status:
        metadata["status"] = result.status
    return metadata


def _output_kwargs(result: ChatResult) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if result.reasoning_items:
        extra[REASONING_ITEMS_KEY] = result.reasoning_items
    item_ids = {call.id: call.item_id for call in result.tool_calls if call.item_id}
    if item_ids:
        extra[FUNCTION_CALL_ITEM_IDS_KEY] = item_ids
    return extra


def result_to_message(result: ChatResult, request_model: str) -> AIMessage:
    """The ``AIMessage`` for a whole (non-streamed) reply."""
    tool_calls, invalid_tool_calls = split_tool_calls(result.tool_calls)
    extra = _output_kwargs(result)
    if result.reasoning:
        extra["reasoning_content"] = result.reasoning
    if result.refusal:
        extra["refusal"] = result.refusal
    metadata = response_metadata(result, request_model)
    if result.logprobs is not None:
        metadata["logprobs"] = {"content": [token.to_dict() for token in result.logprobs]}
    if result.info is not None:
        metadata["gateway"] = result.info.to_dict()
    return AIMessage(
        content=result.text,
        id=result.id,
        tool_calls=tool_calls,
        invalid_tool_calls=invalid_tool_calls,
        additional_kwargs=extra,
        response_metadata=metadata,
        usage_metadata=usage_metadata(result.usage) if result.usage is not None else None,
    )


def llm_output(result: ChatResult, request_model: str) -> dict[str, Any]:
    """``ChatResult.llm_output``, in the shape OpenAI-style callback handlers read."""
    output: dict[str, Any] = {"model_name": result.model or request_model}
    if result.usage is not None:
        output["token_usage"] = {
            "prompt_tokens": result.usage.input_tokens,
            "completion_tokens": result.usage.output_tokens,
            "total_tokens": result.usage.total_tokens,
        }
    if result.id:
        output["id"] = result.id
    if result.system_fingerprint:
        output["system_fingerprint"] = result.system_fingerprint
    return output


def delta_to_chunk(delta: ChatDelta) -> ChatGenerationChunk | None:
    """The chunk for one stream delta, or None when it adds nothing visible.

    Usage, finish reason and ids are left for :func:`closing_chunk`, which reads them from
    the accumulated result, so that exactly one chunk carries them.
    """
    text = delta.text
    if text and not (delta.tool_call_chunks or delta.reasoning or delta.refusal or delta.logprobs):
        return text_chunk(text)  # the common case, built without validation (see text_chunks)
    extra: dict[str, Any] = {}
    if delta.reasoning:
        extra["reasoning_content"] = delta.reasoning
    if delta.refusal:
        extra["refusal"] = delta.refusal
    chunks: list[ToolCallChunk] = [
        tool_call_chunk(
            name=piece.name, args=piece.arguments or None, id=piece.id, index=piece.index
        )
        for piece in delta.tool_call_chunks
    ]
    # Each chunk carries its own tokens' logprobs; merged chunks concatenate them.
    metadata = (
        {"logprobs": {"content": [token.to_dict() for token in delta.logprobs]}}
        if delta.logprobs
        else {}
    )
    if not (text or extra or chunks or metadata):
        return None
    message = AIMessageChunk(
        content=text, additional_kwargs=extra, tool_call_chunks=chunks, response_metadata=metadata
    )
    return ChatGenerationChunk(message=message, text=text)


def closing_chunk(result: ChatResult, request_model: str) -> ChatGenerationChunk:
    """The last chunk of a stream: usage, metadata, reasoning items, ``chunk_position``."""
    message = AIMessageChunk(
        content="",
        id=result.id,
        additional_kwargs=_output_kwargs(result),
        response_metadata=response_metadata(result, request_model),
        usage_metadata=usage_metadata(result.usage) if result.usage is not None else None,
        chunk_position="last",
    )
    return ChatGenerationChunk(message=message, text="")


def dumps_args(args: Any) -> str:
    """Tool-call arguments as JSON text, keeping non-ASCII characters readable."""
    return json.dumps(args, ensure_ascii=False)
