"""The reply side of the OpenAI ``chat/completions`` wire format: non-streamed replies.

:func:`parse_result` turns a reply body into a :class:`~cf_ai_gateway.wire.types.ChatResult`
(first choice; the others stay in ``raw``), :func:`parse_usage` and :func:`finish_reason` read
the usage object and the finish reason in the neutral vocabulary (the stream handler in
:mod:`~cf_ai_gateway.wire.chat` uses them too), and :func:`reply_events` re-emits a complete
reply as the stream events of the endpoint. No I/O happens here.
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
    TokenLogprob,
    ToolCall,
    TopLogprob,
    Usage,
)

__all__ = ["finish_reason", "parse_result", "parse_usage", "reply_events"]

# Provider finish reasons in the chat vocabulary; anything unknown counts as a normal stop.
_FINISH_REASONS: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "tool_calls",
    "error": "error",
    "max_tokens": "length",
    "model_length": "length",
    "tool_use": "tool_calls",
    "end_turn": "stop",
    "eos": "stop",
}


def parse_usage(usage: Any) -> Usage | None:
    """The neutral :class:`Usage` of a ``usage`` object; None when there is none.

    Token counts of another type than an integer (or null) make the reply malformed.
    """
    usage = usage_object(usage)
    if usage is None:
        return None
    prompt = count(usage.get("prompt_tokens"), "prompt_tokens")
    completion = count(usage.get("completion_tokens"), "completion_tokens")
    prompt_details = usage.get("prompt_tokens_details")
    return Usage(
        input_tokens=prompt,
        output_tokens=completion,
        total_tokens=count(usage.get("total_tokens"), "total_tokens") or prompt + completion,
        cached_tokens=detail_count(prompt_details, "cached_tokens"),
        reasoning_tokens=detail_count(usage.get("completion_tokens_details"), "reasoning_tokens"),
        cache_write_tokens=detail_count(prompt_details, "cache_write_tokens"),
    )


def parse_result(body: Any) -> ChatResult:
    """A non-streamed ``chat.completion`` reply as a neutral :class:`ChatResult`.

    A body that is not a ``chat.completion`` (no ``choices`` list, an empty one, a choice or
    message that is not an object, a content part or tool call of the wrong type, usage counts
    that are not integers, ...) raises :class:`~cf_ai_gateway.MalformedResponseError` saying
    what was wrong.
    """
    try:
        return _parse_result(body)
    except SHAPE_ERRORS:
        raise malformed("a chat.completion field has an unexpected type") from None


def _parse_result(body: Any) -> ChatResult:
    if type(body) is not dict:
        raise malformed("the reply is not a JSON object")
    choice = _first_choice(body.get("choices"))
    message = choice.get("message")
    if type(message) is not dict:
        raise malformed("choices[0].message is missing or not an object")
    raw_calls = message.get("tool_calls")
    if raw_calls is not None and type(raw_calls) is not list:
        raise malformed("choices[0].message.tool_calls is not a list")
    tool_calls = [_tool_call(call, position) for position, call in enumerate(raw_calls or ())]
    refusal = message.get("refusal")
    if refusal is not None and type(refusal) is not str:
        raise malformed("choices[0].message.refusal is not a string")
    return ChatResult(
        text=reply_text(message.get("content")),
        tool_calls=tool_calls,
        refusal=refusal or None,
        reasoning=_reasoning_text(message) or None,
        usage=parse_usage(body.get("usage")),
        finish_reason=finish_reason(choice.get("finish_reason")),
        model=optional_str(body.get("model")),
        id=optional_str(body.get("id")),
        created=optional_int(body.get("created")),
        system_fingerprint=optional_str(body.get("system_fingerprint")),
        service_tier=optional_str(body.get("service_tier")),
        logprobs=token_logprobs(choice.get("logprobs")),
        raw=body,
    )


def finish_reason(value: Any) -> FinishReason | None:
    """A provider's ``finish_reason`` in the neutral vocabulary (None while unfinished)."""
    if not value:
        return None
    if type(value) is not str:
        raise malformed("finish_reason is not a string")
    return _FINISH_REASONS.get(value, "stop")


def token_logprobs(logprobs: Any) -> list[TokenLogprob] | None:
    """The per-token log probabilities of a choice (its ``logprobs.content``), if any.

    Entries without a string ``token`` and a numeric ``logprob`` are left out.
    """
    if type(logprobs) is not dict:
        return None
    content = logprobs.get("content")
    if not isinstance(content, list):
        return None
    tokens = []
    for entry in content:
        token = _logprob_fields(entry)
        if token is not None:
            tops = entry.get("top_logprobs")
            alternatives = [
                TopLogprob(*fields)
                for fields in map(_logprob_fields, tops if isinstance(tops, list) else ())
                if fields is not None
            ]
            tokens.append(TokenLogprob(*token, top_logprobs=alternatives))
    return tokens


def _logprob_fields(entry: Any) -> tuple[str, float, list[int] | None] | None:
    """``(token, logprob, bytes)`` of one logprob entry, or None when it is malformed."""
    if type(entry) is not dict:
        return None
    token, logprob, raw_bytes = entry.get("token"), entry.get("logprob"), entry.get("bytes")
    if not isinstance(token, str) or type(logprob) not in (int, float):
        return None
    assert isinstance(logprob, (int, float))
    try:
        value = float(logprob)
    except OverflowError:  # an integer too large for a float
        return None
    if not (isinstance(raw_bytes, list) and all(type(b) is int for b in raw_bytes)):
        raw_bytes = None
    return token, value, raw_bytes


def _first_choice(choices: Any) -> dict[str, Any]:
    if type(choices) is not list:
        raise malformed("'choices' is missing" if choices is None else "'choices' is not a list")
    if not choices:
        raise malformed("'choices' is empty: the reply holds no answer")
    for choice in choices:
        if type(choice) is dict and choice.get("index", 0) == 0:
            return choice
    first = choices[0]
    if type(first) is not dict:
        raise malformed("choices[0] is not an object")
    return first


def _tool_call(call: Any, position: int) -> ToolCall:
    if type(call) is not dict:
        raise malformed(f"tool_calls[{position}] is not an object")
    function = call.get("function")
    if type(function) is not dict:
        raise malformed(f"tool_calls[{position}].function is missing or not an object")
    name = function.get("name")
    if type(name) is not str or not name:
        raise malformed(f"tool_calls[{position}].function.name is missing or not a string")
    return ToolCall(
        id=optional_str(call.get("id")) or f"call_{position}",
        name=name,
        arguments=arguments_text(function.get("arguments")),
    )


def reply_text(content: Any) -> str:
    """Reply content as text: a string, or the text of a list of parts some providers send."""
    if isinstance(content, str):
        return content
    if content is None:
        return ""
    if type(content) is not list:
        raise malformed("message content is neither text nor a list of parts")
    texts = []
    for part in content:
        if type(part) is not dict:
            raise malformed("a message content part is not an object")
        if part.get("type") == "text":
            text = part.get("text")
            if text is not None and type(text) is not str:
                raise malformed("the text of a content part is not a string")
            texts.append(text or "")
    return "".join(texts)


def _reasoning_text(message: dict[str, Any]) -> str:
    """Reasoning text: ``reasoning_content`` (DeepSeek, vLLM) or ``reasoning`` (Groq, others)."""
    reasoning = message.get("reasoning_content")
    if reasoning is None:
        reasoning = message.get("reasoning")
    return reasoning if isinstance(reasoning, str) else ""


def reply_events(body: Any) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` events that stream the same reply as ``body``.

    Used when a stream request is answered with one JSON reply (the gateway buffers streams
    when Guardrails are on): each choice's message becomes one delta chunk with its finish
    reason, the usage follows in a chunk of its own, as ``stream_options.include_usage``
    streams send it. ``body`` is checked first, as :func:`parse_result` checks it.
    """
    parse_result(body)
    head = {
        key: body[key]
        for key in ("id", "created", "model", "system_fingerprint", "service_tier")
        if key in body
    }
    head["object"] = "chat.completion.chunk"
    choices = []
    for position, choice in enumerate(body["choices"]):
        if type(choice) is not dict or type(choice.get("message")) is not dict:
            continue
        delta = {k: v for k, v in choice["message"].items() if k != "tool_calls"}
        calls = choice["message"].get("tool_calls")
        if calls:
            delta["tool_calls"] = [
                {**call, "index": index} for index, call in enumerate(calls) if type(call) is dict
            ]
        out: dict[str, Any] = {
            "index": choice.get("index", position),
            "delta": delta,
            "finish_reason": choice.get("finish_reason"),
        }
        if choice.get("logprobs") is not None:
            out["logprobs"] = choice["logprobs"]
        choices.append(out)
    events = [{**head, "choices": choices}]
    if body.get("usage") is not None:
        events.append({**head, "choices": [], "usage": body["usage"]})
    return events
