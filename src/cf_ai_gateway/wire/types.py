"""Neutral request, result and stream-delta types shared by both OpenAI-wire endpoints.

The adapters speak only these types: they build a :class:`ChatRequest`, and they receive a
:class:`ChatResult` (non-streaming) or a sequence of :class:`ChatDelta` (streaming). The
converters in :mod:`cf_ai_gateway.wire.chat` and :mod:`cf_ai_gateway.wire.responses` translate
them to and from the ``chat/completions`` and ``responses`` wire formats, so no adapter ever
parses endpoint JSON itself. All types are plain slotted dataclasses (see :mod:`cf_ai_gateway.records`): cheap to build per chunk.
"""

from __future__ import annotations

import json
from dataclasses import field
from typing import TYPE_CHECKING, Any, Literal

from cf_ai_gateway.records import record

if TYPE_CHECKING:
    from cf_ai_gateway.info import GatewayInfo

Role = Literal["system", "developer", "user", "assistant", "tool"]
FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error"]
Api = Literal["chat", "responses"]


@record(slots=True)
class TextPart:
    """A text content part."""

    text: str
    type: Literal["text"] = "text"


@record(slots=True)
class ImagePart:
    """An image content part: an ``https:`` URL or a ``data:`` URL holding base64 bytes."""

    url: str
    detail: str | None = None
    type: Literal["image"] = "image"


@record(slots=True)
class FilePart:
    """A file content part: base64 ``data`` (a data URL) or an uploaded ``file_id``."""

    data: str | None = None
    file_id: str | None = None
    filename: str | None = None
    type: Literal["file"] = "file"


# Audio MIME subtypes whose OpenAI ``format`` name differs from the subtype itself.
_AUDIO_FORMATS = {
    "wave": "wav",
    "vnd.wave": "wav",
    "mpeg": "mp3",
    "mpeg3": "mp3",
    "mpeg-3": "mp3",
}


@record(slots=True)
class AudioPart:
    """An audio content part: base64 ``data`` (no ``data:`` prefix) and its ``format``.

    ``format`` is OpenAI's name for the encoding (``"wav"``, ``"mp3"``, ...). Only the
    ``chat/completions`` endpoint takes audio input; the Responses API has no audio part.
    """

    data: str
    format: str
    type: Literal["audio"] = "audio"

    @classmethod
    def from_mime_type(cls, data: str, mime_type: str) -> AudioPart:
        """A part for base64 ``data`` of an ``audio/*`` MIME type (``audio/mpeg`` is ``mp3``).

        Raises ``ValueError`` when ``mime_type`` is not an ``audio/`` type.
        """
        kind, _, subtype = mime_type.split(";", 1)[0].strip().lower().partition("/")
        if kind != "audio" or not subtype:
            raise ValueError(f"audio mime_type must be 'audio/<format>', not {mime_type!r}")
        subtype = subtype.removeprefix("x-")
        return cls(data=data, format=_AUDIO_FORMATS.get(subtype, subtype))


ContentPart = TextPart | ImagePart | FilePart | AudioPart


@record(slots=True)
class ToolCall:
    """A complete tool call made by the model.

    ``id`` is the id that a tool result must echo (``call_id`` on the Responses endpoint).
    ``arguments`` is the raw JSON text exactly as the model produced it; it may be invalid.
    ``item_id`` is the Responses output item id (``fc_…``), None on chat completions.
    """

    id: str
    name: str
    arguments: str
    item_id: str | None = None

    def parsed_arguments(self) -> dict[str, Any]:
        """The arguments as a dict; raises ``ValueError`` when they are not a JSON object."""
        if not self.arguments:
            return {}
        value = json.loads(self.arguments)
        if not isinstance(value, dict):
            raise ValueError("tool-call arguments are not a JSON object")
        return value


@record(slots=True)
class ToolCallChunk:
    """A streamed piece of a tool call. Pieces with the same ``index`` concatenate."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    item_id: str | None = None


@record(slots=True)
class Message:
    """One chat message in neutral form.

    ``content`` is a string or a list of parts. ``tool_calls`` is set on assistant messages that
    called tools; ``tool_call_id`` on tool results. ``reasoning_items`` carries Responses reasoning
    output items (raw dicts) from an assistant turn back into the next request; the chat endpoint
    ignores them.
    """

    role: Role
    content: str | list[ContentPart] | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None
    reasoning_items: list[dict[str, Any]] = field(default_factory=list)


@record(slots=True)
class FunctionTool:
    """A function tool: a name, a description and a JSON-schema ``parameters`` object."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    strict: bool | None = None


# A tool is a FunctionTool or a raw endpoint-native dict (built-in tools such as
# ``{"type": "web_search"}`` pass through unchanged).
Tool = FunctionTool | dict[str, Any]


@record(slots=True)
class BuiltInToolChoice:
    """A tool choice that is not a function: a built-in tool, an MCP tool, ``allowed_tools``.

    ``type`` is the endpoint's tool type (``"web_search"``, ``"file_search"``, ``"mcp"``, ...)
    and ``fields`` the rest of its choice object (``{"server_label": ...}`` for MCP). Both
    endpoints receive ``{"type": type, **fields}``.
    """

    type: str
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The wire form, ``{"type": ..., **fields}``."""
        return {"type": self.type, **{k: v for k, v in self.fields.items() if k != "type"}}


# ``"auto" | "none" | "required"``, a function name to force that one tool, or a built-in
# tool (:class:`BuiltInToolChoice`).
ToolChoice = str | BuiltInToolChoice


@record(slots=True)
class ResponseFormat:
    """Structured-output request: ``json_schema`` (with ``schema``) or ``json_object``."""

    type: Literal["json_schema", "json_object", "text"]
    name: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None
    description: str | None = None


@record(slots=True)
class ChatRequest:
    """One neutral model call, translated to either endpoint by the wire converters.

    ``extra_body`` is merged last into the wire body, so it can set any endpoint field.
    ``tool_choice`` names a function to force it; ``"required"`` and ``"any"`` both force some
    tool; a :class:`BuiltInToolChoice` forces a built-in tool. The Responses-only fields are ignored on ``chat/completions``.
    """

    model: str
    messages: list[Message]
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    seed: int | None = None
    n: int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    user: str | None = None
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    stream_usage: bool = True
    # Responses endpoint only.
    previous_response_id: str | None = None
    store: bool | None = None
    include: list[str] | None = None
    instructions: str | None = None
    truncation: str | None = None
    extra_body: dict[str, Any] | None = None


@record(slots=True)
class TopLogprob:
    """One alternative token at a position, with its log probability."""

    token: str
    logprob: float
    bytes: list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI ``top_logprobs`` entry."""
        return {"token": self.token, "logprob": self.logprob, "bytes": self.bytes}


@record(slots=True)
class TokenLogprob:
    """The log probability of one generated token and its most likely alternatives."""

    token: str
    logprob: float
    bytes: list[int] | None = None
    top_logprobs: list[TopLogprob] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The OpenAI ``logprobs.content`` entry."""
        return {
            "token": self.token,
            "logprob": self.logprob,
            "bytes": self.bytes,
            "top_logprobs": [top.to_dict() for top in self.top_logprobs],
        }


@record(slots=True)
class Usage:
    """Token counts. ``cached_tokens`` and ``reasoning_tokens`` are parts of input and output."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    cache_write_tokens: int = 0


@record(slots=True)
class ChatResult:
    """A whole reply from either endpoint, in neutral form.

    ``finish_reason`` uses the chat vocabulary on both endpoints (an ``incomplete`` Responses
    reply for ``max_output_tokens`` is ``"length"``); ``status`` keeps the Responses status.
    ``reasoning`` is the readable reasoning summary text; ``reasoning_items`` are the raw
    Responses reasoning items to send back on the next turn. ``logprobs`` holds one
    :class:`TokenLogprob` per generated token when they were asked for (chat endpoint).
    ``raw`` is the parsed reply body.
    ``info`` is the :class:`~cf_ai_gateway.GatewayInfo` of the HTTP response.
    """

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_items: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    status: str | None = None
    model: str | None = None
    id: str | None = None
    created: int | None = None
    system_fingerprint: str | None = None
    service_tier: str | None = None
    logprobs: list[TokenLogprob] | None = None
    output_items: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    info: GatewayInfo | None = None


@record(slots=True)
class ChatDelta:
    """One streamed increment, in neutral form.

    ``text`` is the new text (``""`` when none). ``usage`` and ``finish_reason`` arrive on the
    last deltas. ``event`` is the endpoint's parsed SSE event, for users who need the rest.
    """

    text: str = ""
    tool_call_chunks: list[ToolCallChunk] = field(default_factory=list)
    reasoning: str = ""
    refusal: str = ""
    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    model: str | None = None
    id: str | None = None
    logprobs: list[TokenLogprob] | None = None
    event: dict[str, Any] | None = None
