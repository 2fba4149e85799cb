"""Render a model answer as a ``chat/completions`` reply: the JSON body or the SSE chunk stream.

Shapes follow recorded OpenAI traffic: a first chunk with the role, one chunk per word of text,
tool calls announced with id and name and then argument pieces, a finish chunk, and — when
``stream_options.include_usage`` is set — ``"usage": null`` on every chunk and a final chunk with
empty ``choices`` carrying the usage, then ``data: [DONE]``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from . import ids
from .conversation import ModelRequest
from .model import AUDIO_TOKENS_PER_CLIP, ModelOutput

SYSTEM_FINGERPRINT = "fp_emulator"
_ARGUMENT_PIECE = 8


def chat_usage(output: ModelOutput, request: ModelRequest) -> dict[str, Any]:
    choices = request.choices
    completion = output.completion_tokens * choices
    audio = AUDIO_TOKENS_PER_CLIP * sum(turn.audio for turn in request.turns)
    return {
        "prompt_tokens": output.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": output.prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": output.cached_tokens, "audio_tokens": audio},
        "completion_tokens_details": {
            "reasoning_tokens": output.reasoning_tokens * choices,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def chat_body(request: ModelRequest, output: ModelOutput) -> dict[str, Any]:
    """The non-streamed ``chat.completion`` object."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": output.text,
        "refusal": None,
        "annotations": [],
    }
    if output.tool_calls:
        message["content"] = None
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in output.tool_calls
        ]
    choices = [
        {
            "index": index,
            "message": message,
            "logprobs": None,
            "finish_reason": output.finish_reason,
        }
        for index in range(request.choices)
    ]
    return {
        "id": ids.chat_completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": choices,
        "usage": chat_usage(output, request),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def encode_data(payload: dict[str, Any] | str) -> bytes:
    """One ``data:`` SSE event."""
    data = (
        payload
        if isinstance(payload, str)
        else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    )
    return f"data: {data}\n\n".encode()


def chat_stream(request: ModelRequest, output: ModelOutput) -> Iterator[bytes]:
    """The SSE events of a streamed reply, ``data: [DONE]`` included."""
    completion_id = ids.chat_completion_id()
    created = int(time.time())
    with_usage = request.include_usage

    def chunk(choice_index: int, delta: dict[str, Any], finish: str | None = None) -> bytes:
        payload: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": request.model,
            "service_tier": "default",
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": [
                {"index": choice_index, "delta": delta, "logprobs": None, "finish_reason": finish}
            ],
        }
        if with_usage:
            payload["usage"] = None
        return encode_data(payload)

    for index in range(request.choices):
        if output.tool_calls:
            for position, call in enumerate(output.tool_calls):
                header = {
                    "index": position,
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": ""},
                }
                if position == 0:
                    yield chunk(
                        index,
                        {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [header],
                            "refusal": None,
                        },
                    )
                else:
                    yield chunk(index, {"tool_calls": [header]})
                for start in range(0, len(call.arguments), _ARGUMENT_PIECE):
                    piece = call.arguments[start : start + _ARGUMENT_PIECE]
                    yield chunk(
                        index,
                        {"tool_calls": [{"index": position, "function": {"arguments": piece}}]},
                    )
        else:
            yield chunk(index, {"role": "assistant", "content": "", "refusal": None})
            for piece in output.text_pieces():
                yield chunk(index, {"content": piece})
        yield chunk(index, {}, output.finish_reason)
    if with_usage:
        yield encode_data(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": request.model,
                "service_tier": "default",
                "system_fingerprint": SYSTEM_FINGERPRINT,
                "choices": [],
                "usage": chat_usage(output, request),
            }
        )
    yield encode_data("[DONE]")
