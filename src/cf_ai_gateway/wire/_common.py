"""Small helpers shared by the ``chat/completions`` and ``responses`` wire converters.

They cover what both endpoints read the same way: integer token counts that may be null,
the error payload of a streamed ``error`` event, the forced-tool choice vocabulary and the
common sampling fields. Everything here is pure and stdlib-only.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from cf_ai_gateway.errors import ConfigurationError, StreamError
from cf_ai_gateway.wire.types import AudioPart, ChatRequest, ContentPart, TextPart

# Tool-choice strings that both endpoints accept as they are.
TOOL_CHOICE_MODES = frozenset({"auto", "none", "required"})

ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})


def check_request(request: ChatRequest) -> None:
    """Reject a request that no endpoint could accept, before anything is built or sent."""
    if not isinstance(request.model, str) or not request.model:
        raise ConfigurationError("model must be a non-empty string")
    for position, message in enumerate(request.messages):
        if message.role not in ROLES:
            raise ConfigurationError(
                f"messages[{position}].role must be one of {sorted(ROLES)}, not {message.role!r}"
            )
        if message.role == "tool" and not message.tool_call_id:
            raise ConfigurationError(
                f"messages[{position}].tool_call_id is required on a tool message"
            )
        if isinstance(message.content, list):
            for part in message.content:
                if isinstance(part, AudioPart):
                    _check_audio(part, position)
    if request.extra_body is not None and not isinstance(request.extra_body, dict):
        raise ConfigurationError("extra_body must be a dict of extra wire fields")
    fmt = request.response_format
    if fmt is not None:
        if fmt.type not in ("json_schema", "json_object", "text"):
            raise ConfigurationError(
                "response_format.type must be 'json_schema', 'json_object' or 'text', "
                f"not {fmt.type!r}"
            )
        if fmt.type == "json_schema" and not isinstance(fmt.schema, dict):
            raise ConfigurationError("response_format.schema is required for 'json_schema'")


def _check_audio(part: AudioPart, position: int) -> None:
    """Audio input is base64 data with a format name: OpenAI takes no audio URL."""
    if not isinstance(part.data, str) or not part.data:
        raise ConfigurationError(f"messages[{position}]: AudioPart.data must be base64 audio data")
    if part.data.startswith(("data:", "http:", "https:")):
        raise ConfigurationError(
            f"messages[{position}]: AudioPart.data must be bare base64 audio data, not a URL"
        )
    if not isinstance(part.format, str) or not part.format:
        raise ConfigurationError(
            f"messages[{position}]: AudioPart.format must name the encoding, e.g. 'wav' or 'mp3'"
        )


def bad_part(part: object) -> ConfigurationError:
    """The error for a content part of an unknown kind."""
    return ConfigurationError(
        "messages[].content parts must be TextPart, ImagePart, FilePart, AudioPart or a dict, "
        f"not {type(part).__name__}"
    )


def count(value: Any) -> int:
    """An integer token count; null, missing or non-integer values count as zero."""
    return value if type(value) is int else 0


def detail_count(details: Any, key: str) -> int:
    """``details[key]`` as a token count, tolerating a null or missing ``details`` object."""
    if type(details) is dict:
        return count(details.get(key))
    return 0


def arguments_text(arguments: Any) -> str:
    """Tool-call arguments as JSON text: some providers send an object instead of a string."""
    if isinstance(arguments, str):
        return arguments
    if arguments is None:
        return ""
    return json.dumps(arguments, ensure_ascii=False)


def content_text(content: str | list[ContentPart] | None) -> str:
    """The text of a message content: the string itself, or its text parts joined."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextPart))


def put(body: dict[str, Any], key: str, value: Any) -> None:
    """Set ``body[key]`` unless ``value`` is None (the wire formats omit unset fields)."""
    if value is not None:
        body[key] = value


def apply_extra_body(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    """Merge ``request.extra_body`` last, so it can set or override any endpoint field."""
    if request.extra_body:
        body.update(request.extra_body)
    return body


def raise_stream_error(event: dict[str, Any]) -> NoReturn:
    """Raise :class:`StreamError` for an error carried inside a stream.

    Handles the provider shape ``{"error": {"message", "type", "code"}}``, the Responses
    ``{"type": "error", "message", "code"}`` event, a bare ``{"error": "text"}``, and the
    gateway's envelope ``{"error": [{"code": 2xxx, "message"}]}`` (whose code is kept).
    """
    error: Any = event.get("error", event)
    code: int | None = None
    message: Any = None
    if isinstance(error, list) and error and isinstance(error[0], dict):
        raw_code = error[0].get("code")
        code = raw_code if type(raw_code) is int else None
        message = error[0].get("message")
    elif isinstance(error, dict):
        message = error.get("message")
        if not message and error is not event:
            message = error.get("type") or error.get("code")
    elif isinstance(error, str):
        message = error
    if not message:
        message = event.get("message") or event.get("code") or "the stream reported an error"
    raise StreamError(str(message), code=code, body=event)
