"""The reply side of the OpenAI ``responses`` wire format: non-streamed replies.

:func:`parse_result` turns a ``response`` object into a
:class:`~cf_ai_gateway.wire.types.ChatResult`, :func:`parse_usage` and :func:`finish_reason`
read its usage and status in the neutral vocabulary (the stream handler in
:mod:`~cf_ai_gateway.wire.responses` uses them too), and :func:`reply_events` re-emits a complete
response as the stream events of the endpoint. No I/O happens here.
"""

from __future__ import annotations

from typing import Any

from cf_ai_gateway.wire._common import (
    SHAPE_ERRORS,
    arguments_text,
    count,
    detail_count,
    malformed,
    optional_int,
    optional_str,
    usage_object,
)
from cf_ai_gateway.wire.types import (
    ChatResult,
    FinishReason,
    ToolCall,
    Usage,
)

__all__ = ["REASONING_SEPARATOR", "finish_reason", "parse_result", "parse_usage", "reply_events"]

# Separates the texts of successive reasoning summary parts, streamed or not.
REASONING_SEPARATOR = "\n\n"


def parse_usage(usage: Any) -> Usage | None:
    """The neutral :class:`Usage` of a ``responses`` usage object; None when there is none.

    Token counts of another type than an integer (or null) make the reply malformed.
    """
    usage = usage_object(usage)
    if usage is None:
        return None
    input_tokens = count(usage.get("input_tokens"), "input_tokens")
    output_tokens = count(usage.get("output_tokens"), "output_tokens")
    input_details = usage.get("input_tokens_details")
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=count(usage.get("total_tokens"), "total_tokens")
        or input_tokens + output_tokens,
        cached_tokens=detail_count(input_details, "cached_tokens"),
        reasoning_tokens=detail_count(usage.get("output_tokens_details"), "reasoning_tokens"),
        cache_write_tokens=detail_count(input_details, "cache_write_tokens"),
    )


def finish_reason(
    status: Any, incomplete_details: Any, has_tool_calls: bool
) -> FinishReason | None:
    """The chat-vocabulary finish reason of a response ``status``."""
    if status == "completed" or status is None:
        return "tool_calls" if has_tool_calls else "stop"
    if status == "incomplete":
        reason = incomplete_details.get("reason") if type(incomplete_details) is dict else None
        return "content_filter" if reason == "content_filter" else "length"
    if status in ("failed", "cancelled"):
        return "error"
    return None


def parse_result(body: Any) -> ChatResult:
    """A ``response`` object (non-streamed reply or a terminal event's) as a :class:`ChatResult`.

    A body that is not a ``response`` object (no ``output`` list, an output item, content part
    or summary that is not an object, text that is not a string, usage counts that are not
    integers, ...) raises :class:`~cf_ai_gateway.MalformedResponseError` saying what was wrong.
    """
    return checked_parse(body, require_output=True)


def checked_parse(body: Any, *, require_output: bool) -> ChatResult:
    try:
        return _parse_result(body, require_output)
    except SHAPE_ERRORS:
        raise malformed("a response field has an unexpected type") from None


def _parse_result(body: Any, require_output: bool) -> ChatResult:
    if type(body) is not dict:
        raise malformed("the reply is not a JSON object")
    output = body.get("output")
    if output is None and not require_output:
        output = []  # a terminal event may carry an empty response: the stream holds the rest
    if type(output) is not list:
        raise malformed("'output' is missing" if output is None else "'output' is not a list")
    text: list[str] = []
    refusal: list[str] = []
    summary: list[str] = []
    reasoning_text: list[str] = []
    tool_calls: list[ToolCall] = []
    reasoning_items: list[dict[str, Any]] = []
    other_items: list[dict[str, Any]] = []
    for position, item in enumerate(output):
        if type(item) is not dict:
            raise malformed(f"output[{position}] is not an object")
        kind = item.get("type")
        if kind == "message":
            for part in _objects(item.get("content"), f"output[{position}].content"):
                part_type = part.get("type")
                if part_type == "output_text":
                    text.append(_part_text(part, "text", position))
                elif part_type == "refusal":
                    refusal.append(_part_text(part, "refusal", position))
        elif kind == "function_call":
            tool_calls.append(_tool_call(item, len(tool_calls)))
        elif kind == "reasoning":
            reasoning_items.append(item)
            where = f"output[{position}]"
            summary.extend(
                _part_text(s, "text", position) for s in _objects(item.get("summary"), where)
            )
            reasoning_text.extend(
                _part_text(c, "text", position)
                for c in _objects(item.get("content"), where)
                if c.get("type") == "reasoning_text"
            )
        else:
            other_items.append(item)
    status = body.get("status")
    if status is not None and type(status) is not str:
        raise malformed("'status' is not a string")
    return ChatResult(
        text="".join(text),
        tool_calls=tool_calls,
        refusal="".join(refusal) or None,
        reasoning=REASONING_SEPARATOR.join(summary or reasoning_text) or None,
        reasoning_items=reasoning_items,
        usage=parse_usage(body.get("usage")),
        finish_reason=finish_reason(status, body.get("incomplete_details"), bool(tool_calls)),
        status=status,
        model=optional_str(body.get("model")),
        id=optional_str(body.get("id")),
        created=optional_int(body.get("created_at")),
        service_tier=optional_str(body.get("service_tier")),
        output_items=other_items,
        raw=body,
    )


def _objects(value: Any, where: str) -> list[dict[str, Any]]:
    """A list of objects (content parts, summaries); null counts as empty."""
    if value is None:
        return []
    if type(value) is not list or any(type(entry) is not dict for entry in value):
        raise malformed(f"{where} holds something other than a list of objects")
    return value


def _part_text(part: dict[str, Any], key: str, position: int) -> str:
    value = part.get(key)
    if value is None:
        return ""
    if type(value) is not str:
        raise malformed(f"the {key!r} of a part of output[{position}] is not a string")
    return value


def _tool_call(item: dict[str, Any], position: int) -> ToolCall:
    item_id = optional_str(item.get("id"))
    name = item.get("name")
    if type(name) is not str or not name:
        raise malformed("a function_call output item has no name")
    return ToolCall(
        id=optional_str(item.get("call_id")) or item_id or f"call_{position}",
        name=name,
        arguments=arguments_text(item.get("arguments")),
        item_id=item_id,
    )


def reply_events(body: Any) -> list[dict[str, Any]]:
    """The Responses stream events that carry the same reply as the ``response`` ``body``.

    Used when a stream request is answered with one JSON reply (the gateway buffers streams
    when Guardrails are on): ``response.created``, then for each output item its
    ``output_item.added``, text, refusal, reasoning-summary and argument deltas and
    ``output_item.done``, then the terminal event of its status holding ``body`` itself.
    ``body`` is checked first, as :func:`parse_result` checks it.
    """
    parse_result(body)
    events: list[dict[str, Any]] = []

    def emit(kind: str, **fields: Any) -> None:
        events.append({"type": kind, "sequence_number": len(events), **fields})

    emit("response.created", response={**body, "status": "in_progress", "output": []})
    for index, item in enumerate(body["output"]):
        item_id = item.get("id")
        where = {"item_id": item_id, "output_index": index}
        kind = item.get("type")
        if kind == "message":
            emit("response.output_item.added", output_index=index, item={**item, "content": []})
            for part_index, part in enumerate(item.get("content") or ()):
                at = {**where, "content_index": part_index}
                part_type = part.get("type")
                if part_type == "output_text":
                    emit("response.output_text.delta", **at, delta=part.get("text") or "")
                    emit("response.output_text.done", **at, text=part.get("text") or "")
                elif part_type == "refusal":
                    emit("response.refusal.delta", **at, delta=part.get("refusal") or "")
                    emit("response.refusal.done", **at, refusal=part.get("refusal") or "")
        elif kind == "function_call":
            arguments = arguments_text(item.get("arguments"))
            emit("response.output_item.added", output_index=index, item={**item, "arguments": ""})
            emit("response.function_call_arguments.delta", **where, delta=arguments)
            emit("response.function_call_arguments.done", **where, arguments=arguments)
        elif kind == "reasoning":
            emit("response.output_item.added", output_index=index, item={**item, "summary": []})
            for summary_index, entry in enumerate(item.get("summary") or ()):
                emit(
                    "response.reasoning_summary_text.delta",
                    **where,
                    summary_index=summary_index,
                    delta=entry.get("text") or "",
                )
        else:
            emit("response.output_item.added", output_index=index, item=item)
        emit("response.output_item.done", output_index=index, item=item)
    emit(_TERMINAL_OF_STATUS.get(body.get("status"), "response.completed"), response=body)
    return events


# The terminal event that ends a stream of a reply in each status.
_TERMINAL_OF_STATUS = {
    "incomplete": "response.incomplete",
    "failed": "response.failed",
    "cancelled": "response.failed",
}
