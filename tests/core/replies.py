"""Canned replies of both endpoints for the tests that serve them from a loopback server."""

from __future__ import annotations

from typing import Any


def chat_reply(text: str = "Hello", **message: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, **message},
                "finish_reason": "tool_calls" if message.get("tool_calls") else "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


def responses_reply(
    text: str = "Hello", calls: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    if text:
        output.append(
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": text, "annotations": []}],
            }
        )
    output.extend(calls or [])
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "m",
        "status": "completed",
        "output": output,
        "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
    }


CALL = {"id": "call_1", "type": "function", "function": {"name": "get", "arguments": '{"a":1}'}}
FUNCTION_CALL = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "get",
    "arguments": '{"a":1}',
    "status": "completed",
}


def reply(api: str, text: str = "Hello", tools: bool = False) -> dict[str, Any]:
    if api == "chat":
        return chat_reply(text, tool_calls=[CALL]) if tools else chat_reply(text)
    return responses_reply(text, [FUNCTION_CALL] if tools else None)
