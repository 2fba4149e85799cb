"""What ends a stream and what an error inside one says, for both endpoints.

A ``chat/completions`` stream ends with the ``[DONE]`` marker; a Responses stream ends only
with one of :data:`TERMINAL_EVENTS` (its ``[DONE]``, when sent, ends nothing).
:func:`error_fields` reads the message and gateway code of any error payload found in a stream:
an SSE ``event: error`` block, a chunk holding ``error``, or a Responses ``error`` event,
whatever its data holds. This module is pure, stdlib-only and cheap to import.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ERROR_EVENT",
    "TERMINAL_EVENTS",
    "api_for_endpoint",
    "error_fields",
    "needs_terminal_event",
]

# The event types that end a Responses stream.
TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})

# The ``type`` of a Responses error event (also the SSE ``event:`` name of an error).
ERROR_EVENT = "error"

_MAX_MESSAGE = 1000


def api_for_endpoint(endpoint: str) -> str | None:
    """``"chat"`` or ``"responses"`` for an endpoint path of that API, else None."""
    path = endpoint.split("?", 1)[0].rstrip("/")
    if path == "responses" or path.endswith("/responses"):
        return "responses"
    if path == "chat/completions" or path.endswith("/chat/completions"):
        return "chat"
    return None


def needs_terminal_event(api: str | None) -> bool:
    """True when ``[DONE]`` alone does not end a stream of ``api`` (the Responses API)."""
    return api == "responses"


def error_fields(payload: Any) -> tuple[str | None, int | None]:
    """The (message, gateway code) of an error payload found in a stream.

    Reads ``{"error": {"message", "code"}}``, ``{"type": "error", "message", "code"}``,
    ``{"error": "text"}``, the gateway's ``{"error": [{"code": 2005, "message"}]}`` (also as a
    bare list or under ``errors``) and plain text. A code is kept when it is an integer (the
    gateway's codes); a provider's string code becomes the message when there is no other.
    Both are None when the payload says nothing of an error.
    """
    message: str | None = None
    code: int | None = None
    fallback: str | None = None
    current = payload
    for _ in range(4):  # error objects nest a few levels at most
        if isinstance(current, str):
            message = message or current.strip() or None
            break
        if isinstance(current, list):
            if not current:
                break
            current = current[0]
            continue
        if not isinstance(current, dict):
            break
        if code is None:
            code = _int(current.get("code")) or _int(current.get("internalCode"))
        message = message or _text(current.get("message"))
        fallback = fallback or _text(current.get("type")) or _text(current.get("code"))
        nested = current.get("error")
        if nested is None:
            nested = current.get("errors")
        if nested is None or nested is current:
            break
        current = nested
    text = message or fallback
    return (text[:_MAX_MESSAGE] if text else None), code


def _int(value: Any) -> int | None:
    return value if type(value) is int else None


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if type(value) is int:
        return str(value)
    return None
