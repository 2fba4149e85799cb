"""Small helpers shared by the ``chat/completions`` and ``responses`` wire converters.

They cover what both endpoints read the same way: integer token counts that may be null (and
the :class:`~cf_ai_gateway.MalformedResponseError` of a reply of the wrong shape),
the error of a streamed ``error`` event, the forced-tool choice vocabulary and the
common sampling fields. Everything here is pure and stdlib-only.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from cf_ai_gateway.errors import ConfigurationError, MalformedResponseError, StreamError
from cf_ai_gateway.jsontext import shallow
from cf_ai_gateway.wire.events import error_fields
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


# What a parser of a wrong-shaped reply can raise; each is turned into MalformedResponseError.
SHAPE_ERRORS = (
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    ValueError,
    RecursionError,
    OverflowError,
)


def malformed(what: str) -> MalformedResponseError:
    """The error for a reply or stream event that is not what its endpoint sends."""
    return MalformedResponseError(f"the reply does not have the shape of its endpoint: {what}")


def count(value: Any, name: str = "token count") -> int:
    """An integer token count; null or missing counts as zero, any other type is malformed."""
    if type(value) is int:
        return value
    if value is None:
        return 0
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    raise malformed(f"usage field {name!r} is not an integer")


def detail_count(details: Any, key: str) -> int:
    """``details[key]`` as a token count, tolerating a null or missing ``details`` object."""
    if type(details) is dict:
        return count(details.get(key), key)
    if details is None:
        return 0
    raise malformed(f"a usage details field holding {key!r} is not an object")


def usage_object(usage: Any) -> dict[str, Any] | None:
    """``usage`` when it is an object, None when absent; any other type is malformed."""
    if type(usage) is dict:
        return usage
    if usage is None:
        return None
    raise malformed("'usage' is not an object")


def optional_str(value: Any) -> str | None:
    """A metadata string (id, model, ...); a value of another type is dropped."""
    return value if type(value) is str else None


def optional_int(value: Any) -> int | None:
    """A metadata integer (a timestamp); a value of another type is dropped."""
    return value if type(value) is int else None


def arguments_text(arguments: Any) -> str:
    """Tool-call arguments as JSON text: some providers send an object instead of a string."""
    if isinstance(arguments, str):
        return arguments
    if arguments is None:
        return ""
    if not isinstance(arguments, (dict, list)):
        raise malformed("tool-call arguments are neither text nor a JSON object")
    try:
        return json.dumps(arguments, ensure_ascii=False)
    except (ValueError, RecursionError):
        raise malformed("tool-call arguments are nested too deeply") from None


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


def raise_stream_error(event: Any) -> NoReturn:
    """Raise :class:`StreamError` for an error carried inside a stream, with its message and code.

    Reads every shape :func:`~cf_ai_gateway.wire.events.error_fields` knows: the provider's
    ``{"error": {...}}``, the Responses ``error`` event, a bare ``{"error": "text"}`` and the
    gateway's envelope ``{"error": [{"code": 2xxx, "message"}]}`` (whose code is kept).
    """
    message, code = error_fields(event)
    body = event if isinstance(event, dict) and shallow(event) else None
    raise StreamError(message or "the stream reported an error", code=code, body=body)
