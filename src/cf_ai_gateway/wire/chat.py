"""Pure converter and stream handler for the OpenAI ``chat/completions`` wire format.

:func:`build_body` turns a neutral :class:`~cf_ai_gateway.wire.types.ChatRequest` into the JSON
body to POST, :func:`parse_result` turns a non-streamed reply into a
:class:`~cf_ai_gateway.wire.types.ChatResult`, and :class:`StreamHandler` turns each parsed SSE
chunk into a :class:`~cf_ai_gateway.wire.types.ChatDelta` while accumulating the whole result.
The reading of non-streamed replies lives in :mod:`~cf_ai_gateway.wire.chat_reply` and is
re-exported here. The neutral result follows the first choice (``index`` 0); with ``n > 1`` the other choices stay
in ``raw`` (non-streamed) or in each delta's ``event`` (streamed). No I/O happens here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cf_ai_gateway.wire._common import (
    SHAPE_ERRORS,
    TOOL_CHOICE_MODES,
    apply_extra_body,
    arguments_text,
    bad_part,
    check_request,
    malformed,
    optional_int,
    optional_str,
    put,
    raise_stream_error,
)
from cf_ai_gateway.wire.chat_reply import (
    finish_reason,
    parse_result,
    parse_usage,
    reply_events,
    reply_text,
    token_logprobs,
)
from cf_ai_gateway.wire.types import (
    AudioPart,
    BuiltInToolChoice,
    ChatDelta,
    ChatRequest,
    ChatResult,
    ContentPart,
    FilePart,
    FinishReason,
    FunctionTool,
    ImagePart,
    Message,
    TextPart,
    TokenLogprob,
    Tool,
    ToolCall,
    ToolCallChunk,
    Usage,
)

__all__ = [
    "StreamHandler",
    "build_body",
    "finish_reason",
    "parse_result",
    "parse_usage",
    "reply_events",
]


# --- request -------------------------------------------------------------------------------


def build_body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The ``chat/completions`` body for ``request``; unset (None) fields are omitted.

    ``max_tokens`` is sent as ``max_completion_tokens`` (reasoning models reject the old
    field). The Responses-only fields (``previous_response_id``, ``store``, ``include``,
    ``instructions``, ``truncation``, ``reasoning_summary``) are not sent. ``extra_body`` is
    merged last and wins over every computed field. A request no endpoint could accept (an
    unknown role, a tool message without ``tool_call_id``, a ``json_schema`` format without a
    schema) raises :class:`~cf_ai_gateway.errors.ConfigurationError` naming the argument.
    """
    check_request(request)
    body: dict[str, Any] = {
        "model": request.model,
        "messages": _messages(request.messages),
    }
    if request.tools:
        body["tools"] = [_tool(tool) for tool in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = _tool_choice(request.tool_choice)
    put(body, "parallel_tool_calls", request.parallel_tool_calls)
    fmt = request.response_format
    if fmt is not None:
        if fmt.type == "json_schema":
            schema: dict[str, Any] = {"name": fmt.name or "response", "schema": fmt.schema}
            put(schema, "strict", fmt.strict)
            put(schema, "description", fmt.description)
            body["response_format"] = {"type": "json_schema", "json_schema": schema}
        else:
            body["response_format"] = {"type": fmt.type}
    put(body, "temperature", request.temperature)
    put(body, "top_p", request.top_p)
    put(body, "max_completion_tokens", request.max_tokens)
    put(body, "stop", request.stop)
    put(body, "seed", request.seed)
    put(body, "n", request.n)
    put(body, "presence_penalty", request.presence_penalty)
    put(body, "frequency_penalty", request.frequency_penalty)
    put(body, "logprobs", request.logprobs)
    put(body, "top_logprobs", request.top_logprobs)
    put(body, "user", request.user)
    put(body, "reasoning_effort", request.reasoning_effort)
    if stream:
        body["stream"] = True
        if request.stream_usage:
            body["stream_options"] = {"include_usage": True}
    return apply_extra_body(body, request)


def _messages(messages: list[Message]) -> list[dict[str, Any]]:
    """The wire messages; images and files of tool results follow their tool messages.

    A ``tool`` message on this endpoint holds text only, so the other parts of a tool result
    go, in order, into one ``user`` message right after the run of tool messages.
    """
    out: list[dict[str, Any]] = []
    held: list[ContentPart] = []
    for message in messages:
        content = message.content
        if message.role == "tool" and isinstance(content, list):
            texts: list[ContentPart] = [part for part in content if isinstance(part, TextPart)]
            held.extend(part for part in content if not isinstance(part, TextPart))
            message = replace(message, content=texts if texts else "")
        elif held:
            out.append({"role": "user", "content": _content(held)})
            held = []
        out.append(_message(message))
    if held:
        out.append({"role": "user", "content": _content(held)})
    return out


def _message(message: Message) -> dict[str, Any]:
    role = message.role
    out: dict[str, Any] = {"role": role}
    if role == "assistant":
        content = message.content
        if message.tool_calls:
            # Content may be null when the turn only called tools.
            out["content"] = _content(content) if content else None
            out["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
                for call in message.tool_calls
            ]
        else:
            out["content"] = _content(content) if content is not None else ""
    else:
        out["content"] = _content(message.content) if message.content is not None else ""
        if role == "tool":
            out["tool_call_id"] = message.tool_call_id or ""
    # Tool messages have no ``name`` field on this endpoint.
    if message.name is not None and role != "tool":
        out["name"] = message.name
    return out


def _content(content: str | list[ContentPart]) -> str | list[dict[str, Any]]:
    if isinstance(content, str):
        return content
    return [_part(part) for part in content]


def _part(part: ContentPart) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ImagePart):
        image: dict[str, Any] = {"url": part.url}
        put(image, "detail", part.detail)
        return {"type": "image_url", "image_url": image}
    if isinstance(part, FilePart):
        file: dict[str, Any] = {}
        put(file, "filename", part.filename)
        put(file, "file_data", part.data)
        put(file, "file_id", part.file_id)
        return {"type": "file", "file": file}
    if isinstance(part, AudioPart):
        return {"type": "input_audio", "input_audio": {"data": part.data, "format": part.format}}
    if isinstance(part, dict):  # an endpoint-native part passes through
        return part
    raise bad_part(part)


def _tool(tool: Tool) -> dict[str, Any]:
    if isinstance(tool, FunctionTool):
        function: dict[str, Any] = {"name": tool.name}
        put(function, "description", tool.description)
        function["parameters"] = tool.parameters
        put(function, "strict", tool.strict)
        return {"type": "function", "function": function}
    return tool


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, BuiltInToolChoice):
        return choice.to_dict()
    if not isinstance(choice, str):
        return choice  # an endpoint-native dict passes through
    if choice in TOOL_CHOICE_MODES:
        return choice
    if choice == "any":
        return "required"
    return {"type": "function", "function": {"name": choice}}


# --- stream --------------------------------------------------------------------------------


class _CallParts:
    """The pieces of one streamed tool call."""

    __slots__ = ("arguments", "id", "name")

    def __init__(self, call_id: str | None, name: str | None) -> None:
        self.id = call_id
        self.name = name
        self.arguments: list[str] = []


class StreamHandler:
    """Turns ``chat.completion.chunk`` events into neutral deltas and accumulates the result.

    One handler serves one stream. A chunk that carries ``finish_reason`` is not the end: the
    usage chunk may follow, so the transport calls :meth:`on_done` when ``[DONE]`` arrives, and
    :attr:`done` turns true only then. A chunk holding ``error`` raises
    :class:`~cf_ai_gateway.errors.StreamError` with the provider's message.
    """

    __slots__ = (
        "_calls",
        "_created",
        "_done",
        "_finish_reason",
        "_id",
        "_logprobs",
        "_model",
        "_reasoning",
        "_refusal",
        "_service_tier",
        "_started",
        "_system_fingerprint",
        "_text",
        "_usage",
        "_usage_sent",
        "_wire_index",
    )

    def __init__(self) -> None:
        self._text: list[str] = []
        self._refusal: list[str] = []
        self._reasoning: list[str] = []
        self._calls: list[_CallParts] = []
        self._wire_index: dict[Any, int] = {}
        self._finish_reason: FinishReason | None = None
        self._usage: Usage | None = None
        self._usage_sent: Usage | None = None
        self._id: str | None = None
        self._model: str | None = None
        self._created: int | None = None
        self._system_fingerprint: str | None = None
        self._service_tier: str | None = None
        self._logprobs: list[TokenLogprob] | None = None
        self._started = False
        self._done = False

    @property
    def done(self) -> bool:
        """True once the ``[DONE]`` marker was reported through :meth:`on_done`."""
        return self._done

    def on_done(self) -> None:
        """Record that the stream's ``[DONE]`` marker arrived."""
        self._done = True

    def on_event(self, event: dict[str, Any]) -> ChatDelta | None:
        """The neutral delta of one chunk, or None when the chunk carries nothing new.

        A chunk of the wrong shape raises :class:`~cf_ai_gateway.MalformedResponseError`.
        """
        try:
            return self._on_event(event)
        except SHAPE_ERRORS:
            raise malformed("a chat.completion.chunk field has an unexpected type") from None

    def _on_event(self, event: dict[str, Any]) -> ChatDelta | None:
        if type(event) is not dict:
            raise malformed("a stream event is not a JSON object")
        if event.get("error") is not None:
            raise_stream_error(event)
        first = not self._started
        if first or self._model is None or self._id is None:
            # Some providers open with a chunk of empty id and model (a filter report).
            self._started = True
            self._id = self._id or optional_str(event.get("id")) or None
            self._model = self._model or optional_str(event.get("model")) or None
            self._created = self._created or optional_int(event.get("created"))
            self._system_fingerprint = self._system_fingerprint or optional_str(
                event.get("system_fingerprint")
            )
            self._service_tier = self._service_tier or optional_str(event.get("service_tier"))
        text = reasoning = refusal = ""
        chunks: list[ToolCallChunk] | None = None
        finish: FinishReason | None = None
        usage: Usage | None = None
        logprobs: list[TokenLogprob] | None = None
        choices = event.get("choices")
        raw_usage = event.get("usage")
        if raw_usage is not None:
            self._usage = parse_usage(raw_usage)
        if choices:
            if type(choices) is not list:
                raise malformed("'choices' of a chunk is not a list")
            for choice in choices:
                if type(choice) is not dict:
                    raise malformed("a choice of a chunk is not an object")
                if choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta")
                if delta:
                    if type(delta) is not dict:
                        raise malformed("the delta of a chunk is not an object")
                    content = delta.get("content")
                    if content:
                        text = content if isinstance(content, str) else reply_text(content)
                        self._text.append(text)
                    piece = delta.get("reasoning_content") or delta.get("reasoning")
                    if piece and isinstance(piece, str):
                        reasoning = piece
                        self._reasoning.append(piece)
                    piece = delta.get("refusal")
                    if piece:
                        if type(piece) is not str:
                            raise malformed("the refusal of a chunk is not a string")
                        refusal = piece
                        self._refusal.append(piece)
                    tool_calls = delta.get("tool_calls")
                    if tool_calls:
                        if type(tool_calls) is not list:
                            raise malformed("the tool_calls of a chunk are not a list")
                        chunks = self._tool_chunks(tool_calls)
                if choice.get("logprobs") is not None:
                    logprobs = token_logprobs(choice["logprobs"])
                    if logprobs:
                        if self._logprobs is None:
                            self._logprobs = []
                        self._logprobs.extend(logprobs)
                reason = choice.get("finish_reason")
                if reason:
                    finish = self._finish_reason = finish_reason(reason)
        # Usage goes out once the reply is finished, and a repeat of the same counts is not
        # sent again: consumers add up the usage of their deltas.
        if (
            raw_usage is not None
            and (not choices or self._finish_reason is not None)
            and self._usage != self._usage_sent
        ):
            usage = self._usage_sent = self._usage
        if text or reasoning or refusal or chunks or finish or usage or first or logprobs:
            return ChatDelta(
                text=text,
                tool_call_chunks=chunks if chunks is not None else [],
                reasoning=reasoning,
                refusal=refusal,
                usage=usage,
                finish_reason=finish,
                model=self._model,
                id=self._id,
                logprobs=logprobs,
                event=event,
            )
        return None

    def _tool_chunks(self, tool_calls: list[dict[str, Any]]) -> list[ToolCallChunk]:
        chunks = []
        calls = self._calls
        for position, call in enumerate(tool_calls):
            if type(call) is not dict:
                raise malformed("a streamed tool call is not an object")
            wire_index = call.get("index")
            if wire_index is None:
                wire_index = position
            elif type(wire_index) is not int:
                raise malformed("the index of a streamed tool call is not an integer")
            call_id = optional_str(call.get("id")) or None
            function = call.get("function") or {}
            if type(function) is not dict:
                raise malformed("the function of a streamed tool call is not an object")
            name = optional_str(function.get("name")) or None
            arguments = arguments_text(function.get("arguments"))
            index = self._wire_index.get(wire_index)
            parts = calls[index] if index is not None else None
            if index is None or parts is None or (call_id and parts.id and call_id != parts.id):
                # A new call; a new id at a used index also starts one (some providers
                # number every call 0).
                index = len(calls)
                self._wire_index[wire_index] = index
                parts = _CallParts(call_id, name)
                calls.append(parts)
            else:
                # Ids and names repeated on later chunks are not sent again, so that
                # consumers concatenating chunk fields get them once.
                if call_id and parts.id is None:
                    parts.id = call_id
                else:
                    call_id = None
                if name and parts.name is None:
                    parts.name = name
                else:
                    name = None
            if arguments:
                parts.arguments.append(arguments)
            chunks.append(ToolCallChunk(index=index, id=call_id, name=name, arguments=arguments))
        return chunks

    def tool_calls(self) -> list[ToolCall]:
        """The tool calls streamed so far, arguments as far as they arrived, in call order."""
        calls = []
        for index, parts in enumerate(self._calls):
            if len(parts.arguments) > 1:
                parts.arguments[:] = ["".join(parts.arguments)]
            arguments = parts.arguments[0] if parts.arguments else ""
            calls.append(ToolCall(parts.id or f"call_{index}", parts.name or "", arguments))
        return calls

    def result(self) -> ChatResult:
        """Everything streamed so far, as one :class:`ChatResult`."""
        return ChatResult(
            text="".join(self._text),
            tool_calls=self.tool_calls(),
            refusal="".join(self._refusal) or None,
            reasoning="".join(self._reasoning) or None,
            usage=self._usage,
            finish_reason=self._finish_reason,
            model=self._model,
            id=self._id,
            created=self._created,
            system_fingerprint=self._system_fingerprint,
            service_tier=self._service_tier,
            logprobs=self._logprobs,
        )
