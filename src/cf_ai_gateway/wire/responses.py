"""Pure converter and stream handler for the OpenAI ``responses`` wire format.

:func:`build_body` turns a neutral :class:`~cf_ai_gateway.wire.types.ChatRequest` into the
``responses`` body (chat-style messages become input items), :func:`parse_result` turns a
``response`` object into a :class:`~cf_ai_gateway.wire.types.ChatResult`, and
:class:`StreamHandler` turns each parsed SSE event into a
:class:`~cf_ai_gateway.wire.types.ChatDelta` while accumulating the whole result. In a result,
``text`` joins the ``output_text`` parts, ``tool_calls`` are the ``function_call`` items,
``reasoning_items`` the raw ``reasoning`` items (to send back next turn), ``reasoning`` their
summary text, and ``output_items`` every other output item (built-in tool calls such as
``web_search_call``), unchanged. The reading of non-streamed replies lives in
:mod:`~cf_ai_gateway.wire.responses_reply` and is re-exported here. No I/O happens here.
"""

from __future__ import annotations

from typing import Any

from cf_ai_gateway.wire._common import (
    SHAPE_ERRORS,
    apply_extra_body,
    arguments_text,
    check_request,
    malformed,
    optional_int,
    optional_str,
    put,
    raise_stream_error,
)
from cf_ai_gateway.wire._responses_input import input_items, tool, tool_choice
from cf_ai_gateway.wire.events import TERMINAL_EVENTS
from cf_ai_gateway.wire.responses_reply import (
    REASONING_SEPARATOR,
    checked_parse,
    finish_reason,
    parse_result,
    parse_usage,
    reply_events,
)
from cf_ai_gateway.wire.types import (
    ChatDelta,
    ChatRequest,
    ChatResult,
    ToolCall,
    ToolCallChunk,
    Usage,
)

__all__ = [
    "StreamHandler",
    "build_body",
    "finish_reason",
    "input_items",
    "parse_result",
    "parse_usage",
    "reply_events",
]

# --- request -------------------------------------------------------------------------------


def build_body(request: ChatRequest, *, stream: bool) -> dict[str, Any]:
    """The ``responses`` body for ``request``; unset (None) fields are omitted.

    System and developer messages become input messages of that role; ``instructions`` is
    sent only when the request sets it. ``max_tokens`` becomes ``max_output_tokens`` and the
    reasoning fields become ``reasoning: {"effort", "summary"}``. ``stop``, ``seed``, ``n``,
    ``logprobs`` and the penalties have no ``responses`` field and are not sent; the adapters
    decide what to do about them. ``extra_body`` is merged last and wins. A request no
    endpoint could accept raises :class:`~cf_ai_gateway.errors.ConfigurationError`.
    """
    check_request(request)
    body: dict[str, Any] = {"model": request.model, "input": input_items(request.messages)}
    put(body, "instructions", request.instructions)
    if request.tools:
        body["tools"] = [tool(item) for item in request.tools]
    if request.tool_choice is not None:
        body["tool_choice"] = tool_choice(request.tool_choice)
    put(body, "parallel_tool_calls", request.parallel_tool_calls)
    fmt = request.response_format
    if fmt is not None:
        if fmt.type == "json_schema":
            text_format: dict[str, Any] = {
                "type": "json_schema",
                "name": fmt.name or "response",
                "schema": fmt.schema,
            }
            put(text_format, "strict", fmt.strict)
            put(text_format, "description", fmt.description)
        else:
            text_format = {"type": fmt.type}
        body["text"] = {"format": text_format}
    put(body, "temperature", request.temperature)
    put(body, "top_p", request.top_p)
    put(body, "max_output_tokens", request.max_tokens)
    if request.reasoning_effort is not None or request.reasoning_summary is not None:
        reasoning: dict[str, Any] = {}
        put(reasoning, "effort", request.reasoning_effort)
        put(reasoning, "summary", request.reasoning_summary)
        body["reasoning"] = reasoning
    put(body, "previous_response_id", request.previous_response_id)
    put(body, "store", request.store)
    put(body, "include", request.include)
    put(body, "truncation", request.truncation)
    put(body, "user", request.user)
    put(body, "top_logprobs", request.top_logprobs)
    if stream:
        body["stream"] = True
    return apply_extra_body(body, request)


# --- stream --------------------------------------------------------------------------------


class _CallParts:
    """The pieces of one streamed function call."""

    __slots__ = ("arguments", "call_id", "item_id", "name")

    def __init__(self, call_id: str | None, name: str | None, item_id: str | None) -> None:
        self.call_id = call_id
        self.name = name
        self.item_id = item_id
        self.arguments: list[str] = []


class StreamHandler:
    """Turns ``responses`` stream events into neutral deltas and accumulates the result.

    One handler serves one stream. :attr:`done` turns true on ``response.completed``,
    ``response.incomplete`` or ``response.failed``; that event's ``response`` object is the
    source of truth for :meth:`result`, with the streamed text, tool calls and reasoning
    filling whatever it lacks (and standing alone when the stream broke off). Text, refusal,
    reasoning and tool calls that only the terminal event holds (a server that sent no deltas)
    go out on the terminal delta, so consumers of the deltas see the whole reply. An ``error``
    event raises :class:`~cf_ai_gateway.errors.StreamError` with the provider's message, and
    an event of the wrong shape :class:`~cf_ai_gateway.MalformedResponseError`. Tool-call
    chunks are numbered 0, 1, … in the order the calls began.
    """

    __slots__ = (
        "_by_item",
        "_by_output",
        "_calls",
        "_created",
        "_done",
        "_final",
        "_id",
        "_model",
        "_other_items",
        "_reasoning",
        "_reasoning_items",
        "_reasoning_key",
        "_refusal",
        "_service_tier",
        "_status",
        "_text",
        "_usage",
    )

    def __init__(self) -> None:
        self._text: list[str] = []
        self._refusal: list[str] = []
        self._reasoning: list[str] = []
        self._reasoning_key: tuple[Any, ...] | None = None
        self._calls: list[_CallParts] = []
        self._by_output: dict[Any, int] = {}
        self._by_item: dict[Any, int] = {}
        self._reasoning_items: list[dict[str, Any]] = []
        self._other_items: list[dict[str, Any]] = []
        self._final: dict[str, Any] | None = None
        self._status: str | None = None
        self._usage: Usage | None = None
        self._id: str | None = None
        self._model: str | None = None
        self._created: int | None = None
        self._service_tier: str | None = None
        self._done = False

    @property
    def done(self) -> bool:
        """True once a terminal event (completed, incomplete or failed) was seen."""
        return self._done

    def on_done(self) -> None:
        """Accept a ``[DONE]`` marker; it ends nothing here, only the terminal events do."""

    def on_event(self, event: dict[str, Any]) -> ChatDelta | None:
        """The neutral delta of one event, or None when the event carries nothing new."""
        try:
            return self._on_event(event)
        except SHAPE_ERRORS:
            raise malformed("a Responses stream event field has an unexpected type") from None

    def _on_event(self, event: dict[str, Any]) -> ChatDelta | None:
        if type(event) is not dict:
            raise malformed("a stream event is not a JSON object")
        kind = event.get("type")
        if kind is not None and type(kind) is not str:
            raise malformed("the 'type' of a stream event is not a string")
        if kind == "response.output_text.delta":
            text = _delta_text(event)
            self._text.append(text)
            return ChatDelta(text=text, model=self._model, id=self._id, event=event)
        if kind == "response.function_call_arguments.delta":
            arguments = _delta_text(event)
            index = self._call_index(event)
            self._calls[index].arguments.append(arguments)
            return self._delta([ToolCallChunk(index=index, arguments=arguments)], event)
        if kind == "response.reasoning_summary_text.delta":
            return self._reasoning_delta(
                ("s", event.get("item_id"), event.get("summary_index")), event
            )
        if kind == "response.reasoning_text.delta":
            return self._reasoning_delta(
                ("c", event.get("item_id"), event.get("content_index")), event
            )
        if kind == "response.refusal.delta":
            refusal = _delta_text(event)
            self._refusal.append(refusal)
            return ChatDelta(refusal=refusal, model=self._model, id=self._id, event=event)
        if kind == "response.output_item.added":
            return self._item_added(event)
        if kind == "response.output_item.done":
            return self._item_done(event)
        if kind == "response.function_call_arguments.done":
            return self._arguments_done(self._call_index(event), event.get("arguments"), event)
        if kind in TERMINAL_EVENTS:
            return self._terminal(event)
        if kind in ("response.created", "response.in_progress", "response.queued"):
            return self._started(event, announce=kind == "response.created")
        if kind == "error" or (kind is None and event.get("error") is not None):
            raise_stream_error(event)
        return None

    # -- event handlers --

    def _delta(self, chunks: list[ToolCallChunk], event: dict[str, Any]) -> ChatDelta:
        return ChatDelta(tool_call_chunks=chunks, model=self._model, id=self._id, event=event)

    def _reasoning_delta(self, key: tuple[Any, ...], event: dict[str, Any]) -> ChatDelta:
        piece = _delta_text(event)
        if key != self._reasoning_key:
            if self._reasoning:
                piece = REASONING_SEPARATOR + piece
            self._reasoning_key = key
        self._reasoning.append(piece)
        return ChatDelta(reasoning=piece, model=self._model, id=self._id, event=event)

    def _started(self, event: dict[str, Any], *, announce: bool) -> ChatDelta | None:
        response = event.get("response")
        if type(response) is not dict:
            return None
        self._id = self._id or optional_str(response.get("id"))
        self._model = self._model or optional_str(response.get("model"))
        self._created = self._created or optional_int(response.get("created_at"))
        self._service_tier = self._service_tier or optional_str(response.get("service_tier"))
        self._status = optional_str(response.get("status")) or self._status
        if announce:
            return ChatDelta(model=self._model, id=self._id, event=event)
        return None

    def _call_index(self, event: dict[str, Any]) -> int:
        """The neutral index of the call an event refers to; unseen calls are registered."""
        output_index = _output_index(event)
        index = self._by_output.get(output_index)
        if index is None:
            item_id = _item_id(event.get("item_id"))
            index = self._by_item.get(item_id) if item_id is not None else None
            if index is None:
                index = self._register_call(None, None, item_id, output_index)
        return index

    def _register_call(
        self, call_id: str | None, name: str | None, item_id: str | None, output_index: Any
    ) -> int:
        index = len(self._calls)
        self._calls.append(_CallParts(call_id, name, item_id))
        if output_index is not None:
            self._by_output[output_index] = index
        if item_id is not None:
            self._by_item[item_id] = index
        return index

    def _item_added(self, event: dict[str, Any]) -> ChatDelta | None:
        item = _event_item(event)
        if item.get("type") != "function_call":
            return None
        call_id = optional_str(item.get("call_id"))
        name = optional_str(item.get("name"))
        item_id = _item_id(item.get("id"))
        arguments = arguments_text(item.get("arguments"))
        output_index = _output_index(event)
        index = self._by_output.get(output_index)
        if index is None and item_id is not None:
            index = self._by_item.get(item_id)
        if index is None:
            index = self._register_call(call_id, name, item_id, output_index)
        else:
            parts = self._calls[index]
            parts.call_id = parts.call_id or call_id
            parts.name = parts.name or name
            parts.item_id = parts.item_id or item_id
        if arguments:
            self._calls[index].arguments.append(arguments)
        chunk = ToolCallChunk(
            index=index, id=call_id, name=name, arguments=arguments, item_id=item_id
        )
        return self._delta([chunk], event)

    def _item_done(self, event: dict[str, Any]) -> ChatDelta | None:
        item = _event_item(event)
        kind = item.get("type")
        if kind == "function_call":
            index = self._by_output.get(_output_index(event))
            if index is None:
                index = self._by_item.get(_item_id(item.get("id")))
            if index is None:
                # The call was never announced: report it whole.
                added = self._item_added(event)
                return added
            parts = self._calls[index]
            parts.call_id = parts.call_id or optional_str(item.get("call_id"))
            parts.name = parts.name or optional_str(item.get("name"))
            return self._arguments_done(index, item.get("arguments"), event)
        if kind == "reasoning":
            self._reasoning_items.append(item)
        elif kind != "message" and kind is not None:
            self._other_items.append(item)
        return None

    def _arguments_done(self, index: int, full: Any, event: dict[str, Any]) -> ChatDelta | None:
        """Reconcile a call's streamed arguments with the complete text; send what was missed."""
        if not isinstance(full, str):
            return None
        parts = self._calls[index]
        streamed = "".join(parts.arguments)
        if streamed == full:
            return None
        parts.arguments = [full]
        if full.startswith(streamed):
            return self._delta([ToolCallChunk(index=index, arguments=full[len(streamed) :])], event)
        return None

    def _terminal(self, event: dict[str, Any]) -> ChatDelta:
        self._done = True
        response = event.get("response")
        if response is None:
            response = {}
        elif type(response) is not dict:
            raise malformed("the 'response' of a terminal event is not an object")
        final = checked_parse(response, require_output=False)
        self._final = response
        self._started(event, announce=False)
        status = final.status
        if status is None:
            status = event["type"].rpartition(".")[2]
        self._status = status
        usage = self._usage = final.usage
        has_calls = bool(self._calls) or bool(final.tool_calls)
        finish = finish_reason(status, response.get("incomplete_details"), has_calls)
        return ChatDelta(
            text=_missed(self._text, final.text),
            refusal=_missed(self._refusal, final.refusal),
            reasoning=_missed(self._reasoning, final.reasoning),
            tool_call_chunks=self._missed_calls(final.tool_calls),
            usage=usage,
            finish_reason=finish,
            model=self._model,
            id=self._id,
            event=event,
        )

    def _missed_calls(self, calls: list[ToolCall]) -> list[ToolCallChunk]:
        """Chunks for the calls (or the ends of their arguments) that no delta carried."""
        chunks: list[ToolCallChunk] = []
        for call in calls:
            index = self._by_item.get(call.item_id) if call.item_id is not None else None
            if index is None:
                index = next(
                    (i for i, parts in enumerate(self._calls) if parts.call_id == call.id), None
                )
            if index is None:
                index = self._register_call(call.id, call.name, call.item_id, None)
                self._calls[index].arguments.append(call.arguments)
                chunks.append(
                    ToolCallChunk(
                        index=index,
                        id=call.id,
                        name=call.name,
                        arguments=call.arguments,
                        item_id=call.item_id,
                    )
                )
                continue
            rest = _missed(self._calls[index].arguments, call.arguments)
            if rest:
                chunks.append(ToolCallChunk(index=index, arguments=rest))
        return chunks

    # -- result --

    def tool_calls(self) -> list[ToolCall]:
        """The function calls streamed so far, arguments as far as they arrived, in call order."""
        calls = []
        for index, parts in enumerate(self._calls):
            if len(parts.arguments) > 1:
                parts.arguments[:] = ["".join(parts.arguments)]
            arguments = parts.arguments[0] if parts.arguments else ""
            call_id = parts.call_id or parts.item_id or f"call_{index}"
            calls.append(ToolCall(call_id, parts.name or "", arguments, parts.item_id))
        return calls

    def result(self) -> ChatResult:
        """The accumulated :class:`ChatResult` (from the final ``response`` when one came)."""
        streamed_calls = self.tool_calls()
        final = self._final
        if final is None:
            status = self._status
            return ChatResult(
                text="".join(self._text),
                tool_calls=streamed_calls,
                refusal="".join(self._refusal) or None,
                reasoning="".join(self._reasoning) or None,
                reasoning_items=list(self._reasoning_items),
                usage=self._usage,
                finish_reason=None,
                status=status,
                model=self._model,
                id=self._id,
                created=self._created,
                service_tier=self._service_tier,
                output_items=list(self._other_items),
            )
        result = checked_parse(final, require_output=False)
        if result.status is None and self._status is not None:
            result.status = self._status
            result.finish_reason = finish_reason(
                self._status, final.get("incomplete_details"), bool(result.tool_calls)
            )
        # The final object wins; what it lacks (some servers send it empty) comes from the stream.
        if not result.text and self._text:
            result.text = "".join(self._text)
        if not result.refusal and self._refusal:
            result.refusal = "".join(self._refusal)
        if not result.reasoning and self._reasoning:
            result.reasoning = "".join(self._reasoning)
        if not result.reasoning_items and self._reasoning_items:
            result.reasoning_items = list(self._reasoning_items)
        if not result.output_items and self._other_items:
            result.output_items = list(self._other_items)
        if not result.tool_calls and streamed_calls:
            result.tool_calls = streamed_calls
            result.finish_reason = finish_reason(
                result.status, final.get("incomplete_details"), True
            )
        if result.usage is None:
            result.usage = self._usage
        result.model = result.model or self._model
        result.id = result.id or self._id
        result.created = result.created or self._created
        return result


def _missed(streamed: list[str], whole: str | None) -> str:
    """The end of ``whole`` that the ``streamed`` pieces lack (all of it when none came).

    The piece is appended to ``streamed``; nothing is sent when the stream disagrees with
    ``whole`` (the final object still wins in the result).
    """
    if not whole:
        return ""
    sent = "".join(streamed)
    if whole == sent or not whole.startswith(sent):
        return ""
    rest = whole[len(sent) :]
    streamed.append(rest)
    return rest


def _delta_text(event: dict[str, Any]) -> str:
    value = event.get("delta")
    if value is None:
        return ""
    if type(value) is not str:
        raise malformed(f"the delta of a {event.get('type')} event is not a string")
    return value


def _output_index(event: dict[str, Any]) -> int | None:
    value = event.get("output_index")
    if value is None or type(value) is int:
        return value
    raise malformed("the output_index of a stream event is not an integer")


def _item_id(value: Any) -> str | None:
    if value is None or type(value) is str:
        return value
    raise malformed("the item id of a stream event is not a string")


def _event_item(event: dict[str, Any]) -> dict[str, Any]:
    item = event.get("item")
    if item is None:
        return {}
    if type(item) is not dict:
        raise malformed(f"the item of a {event.get('type')} event is not an object")
    return item
