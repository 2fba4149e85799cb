"""Checked server-sent events for the OpenAI SDK clients of :mod:`cf_ai_gateway.openai_client`.

The SDK frames a stream's events and parses each one itself, so bad bytes from a server would
reach the user as ``JSONDecodeError``, ``UnicodeDecodeError``, an httpx exception, an
``openai.APIError`` or, for a stream that ends early, a silently short answer. The gateway's
SDK clients (:func:`checked_client_classes`) give every stream a :class:`CheckedSSEDecoder`: it
splits lines in linear time with a bound on an event's size, reads their fields with the SDK's
own ``decode``, parses each event once (the SDK reuses that parse, so a good stream costs no
extra pass) and checks it as the library's own streams do: an object, no error event,
and the terminal event at the end (``[DONE]`` for chat, ``response.completed``, ``.incomplete``
or ``.failed`` for Responses). The first bad event is replaced by a :class:`Refusal`, which the
client's ``_process_response_data`` (the one place that sees the reply) raises as a
:class:`~cf_ai_gateway.StreamError` (:class:`~cf_ai_gateway.MalformedResponseError` for bytes
that are no event) with the reply's log id, secrets scrubbed. Streams of other endpoints keep
the SDK's end rule. Good streams give exactly the SDK's events.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from . import jsontext
from .errors import GatewayError, StreamError
from .info import GatewayInfo
from .sse import DEFAULT_MAX_EVENT_SIZE, ErrorData, SSEError
from .streams import _network_error, _StreamState, _undecodable
from .wire import converter
from .wire.events import api_for_endpoint

if TYPE_CHECKING:
    from openai._streaming import ServerSentEvent

__all__ = ["CheckedSSEDecoder", "Refusal", "checked_client_classes", "rebuild_buffered_stream"]

_NO_INFO = GatewayInfo()
_DONE = "[DONE]"
_UNFINISHED = "the stream ended before its terminal event; the reply is incomplete"
_DONE_TOO_EARLY = (
    "the stream sent [DONE] without response.completed, response.incomplete or "
    "response.failed; the reply is incomplete"
)


class Refusal:
    """What the SDK gets, in place of an event's parsed data, for a stream that went wrong."""

    __slots__ = ("_build", "cause")

    def __init__(
        self, build: Callable[[_StreamState], GatewayError], cause: BaseException | None = None
    ) -> None:
        self._build = build
        self.cause = cause

    def error(self, info: GatewayInfo, secrets: tuple[str, ...]) -> GatewayError:
        """The error to raise, for the reply of ``info`` whose request carried ``secrets``."""
        return self._build(_StreamState(info, secrets))


def _refused_event(state: _StreamState, event: Any) -> GatewayError:
    if isinstance(event, ErrorData):  # an ``event: error`` block, whatever its data
        return state.error(event)
    try:
        state.check(event)
    except GatewayError as exc:
        return exc
    return state.malformed("stream event refused")  # pragma: no cover - check() raised above


def _refusal_of_event(event: Any) -> Refusal:
    return Refusal(lambda state: _refused_event(state, event))


def _refusal_of_message(message: str) -> Refusal:
    return Refusal(lambda state: StreamError(message, log_id=state.info.log_id, info=state.info))


def _refusal_of_network_error(exc: httpx.HTTPError) -> Refusal:
    return Refusal(lambda state: _network_error(exc, state.info), exc)


def _refusal_of_sse_error(exc: SSEError) -> Refusal:
    return Refusal(lambda state: _undecodable(exc, state.info))


_UNPARSED = Refusal(lambda state: state.malformed("a stream event is not JSON"))
_UNDECODABLE = Refusal(
    lambda state: _undecodable(SSEError("the stream is not valid UTF-8"), state.info)
)


class _Lines:
    r"""Splits bytes into lines at ``\n``, ``\r`` or ``\r\n`` however the reads cut them, in linear
    time; a line or an event (the lines up to a blank one) past ``limit`` bytes raises."""

    __slots__ = ("_event_size", "_held_cr", "_limit", "_pending", "_pending_size")

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._pending: list[bytes] = []  # the unfinished line, in the pieces it arrived in
        self._pending_size = 0
        self._event_size = 0
        self._held_cr = False  # the last read ended with "\r": a "\n" next belongs to it

    def feed(self, chunk: bytes) -> list[bytes]:
        if not chunk:
            return []
        if self._held_cr:
            self._held_cr = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        pieces = chunk.splitlines(keepends=True)
        if not pieces:
            return []
        last = pieces[-1]
        ends = last[-1:]
        unfinished = ends != b"\n" and ends != b"\r"
        if unfinished:
            pieces.pop()
            if not pieces:
                self._pending.append(last)
                self._grow(len(last), [])
                return []
        if self._pending:
            self._pending.append(pieces[0])
            pieces[0] = b"".join(self._pending)
        self._pending, self._pending_size = [], 0
        lines = [p[:-2] if p[-2:] == b"\r\n" else p[:-1] for p in pieces]
        size = self._event_size
        for index, line in enumerate(lines):
            size = size + len(line) if line else 0
            if size > self._limit:
                raise self._too_large(lines[:index])
        self._event_size = size
        if unfinished:
            self._pending.append(last)
            self._grow(len(last), lines)
        else:
            self._held_cr = ends == b"\r"
        return lines

    def _grow(self, size: int, before: list[bytes]) -> None:
        self._pending_size += size
        if self._event_size + self._pending_size > self._limit:
            raise self._too_large(before)

    def _too_large(self, before: list[bytes]) -> SSEError:
        """The fault, carrying the lines ``feed`` completed ahead of it."""
        return SSEError(
            f"a stream event is larger than the limit of {self._limit} bytes (max_event_size)",
            before,
        )


class CheckedSSEDecoder:
    """The SDK's SSE decoder with every event checked (the SDK's ``SSEBytesDecoder`` protocol).

    Lines are split here, in linear time and bounded memory (the SDK's own splitter copies an
    event's bytes once per line); the SDK's ``decode`` reads each line's field.
    """

    __slots__ = (
        "_event_class",
        "_lines",
        "_refused_class",
        "_sdk",
        "_state",
        "_stopped",
        "_stream_kind",
    )

    def __init__(self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        from openai._streaming import SSEDecoder

        self._sdk = SSEDecoder()
        self._lines = _Lines(max_event_size)
        self._event_class, self._refused_class = _event_classes()
        self._state = _StreamState(_NO_INFO)  # checks events and notes the terminal one
        # "chat" until an event shows a Responses stream ("responses") or another kind ("other").
        self._stream_kind = "chat"
        self._stopped = False

    def iter_bytes(self, iterator: Iterator[bytes]) -> Iterator[ServerSentEvent]:
        try:
            for chunk in iterator:
                yield from self._feed(chunk)
                if self._stopped:
                    return
        except httpx.HTTPError as exc:
            yield self._refused(_refusal_of_network_error(exc))
            return
        yield from self._end()

    async def aiter_bytes(self, iterator: AsyncIterator[bytes]) -> AsyncIterator[ServerSentEvent]:
        try:
            async for chunk in iterator:
                for event in self._feed(chunk):
                    yield event
                if self._stopped:
                    return
        except httpx.HTTPError as exc:
            yield self._refused(_refusal_of_network_error(exc))
            return
        for event in self._end():
            yield event

    def _feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The checked events ``chunk`` completes; the last one is refused when one is."""
        fault = None
        try:
            lines = self._lines.feed(chunk)
        except SSEError as exc:
            lines, fault = exc.before, exc
        decode = self._sdk.decode
        events: list[ServerSentEvent] = []
        for line in lines:
            try:
                sse = decode(line.decode("utf-8"))
            except UnicodeDecodeError:
                events.append(self._refused(_UNDECODABLE))
                return events
            if sse is not None:
                event = self._checked(sse)
                events.append(event)
                if self._stopped:
                    return events
        if fault is not None:  # after the events that came ahead of it
            events.append(self._refused(_refusal_of_sse_error(fault)))
        return events

    def _refused(self, refusal: Refusal) -> ServerSentEvent:
        self._stopped = True
        event: ServerSentEvent = self._refused_class(refusal)
        return event

    def _checked(self, sse: ServerSentEvent) -> ServerSentEvent:
        """``sse`` with its parsed data, or a refused event."""
        data = sse.data
        if data.startswith(_DONE):  # the SDK ends the stream here
            if self._stream_kind == "responses" and not self._state.terminal:
                return self._refused(_refusal_of_message(_DONE_TOO_EARLY))
            return sse
        if sse.event == "error":
            return self._refused(_refusal_of_event(ErrorData(data)))
        try:
            value = jsontext.loads(data)
        except ValueError:
            return self._refused(_UNPARSED)
        if type(value) is not dict or "type" in value or value.get("error") is not None:
            try:
                self._state.check(value)
            except GatewayError:
                return self._refused(_refusal_of_event(value))
            kind = value.get("type")
            if kind is not None and self._stream_kind == "chat":
                self._stream_kind = "responses" if kind[:9] == "response." else "other"
        checked: ServerSentEvent = self._event_class(sse, value)
        return checked

    def _end(self) -> list[ServerSentEvent]:
        """A refused event when the stream ended before its terminal event."""
        if self._state.terminal or self._stream_kind == "other":
            return []
        return [self._refused(_refusal_of_message(_UNFINISHED))]


def rebuild_buffered_stream(response: httpx.Response) -> bool:
    """Turn a read 2xx JSON answer to a stream request into the events the endpoint would stream.

    The gateway buffers streams when Guardrails are on and answers with one JSON reply, which the
    SDK would read as an empty stream. False when the request did not ask for a stream of chat
    completions or Responses; raises ``ValueError`` or :class:`GatewayError` for a reply that
    does not parse or is no answer of its endpoint.
    """
    request = response.request
    api = api_for_endpoint(request.url.path)
    content = request.content
    if api is None or b'"stream"' not in content:
        return False
    asked = jsontext.loads(content)
    if type(asked) is not dict or asked.get("stream") is not True:
        return False
    events = converter(api).reply_events(jsontext.loads(response.content))
    if api == "chat":
        parts = [b"data: %s\n\n" % json.dumps(event).encode() for event in events]
        parts.append(b"data: [DONE]\n\n")
    else:
        parts = [
            b"event: %s\ndata: %s\n\n" % (event["type"].encode(), json.dumps(event).encode())
            for event in events
        ]
    stream = b"".join(parts)
    response._content = stream  # what iter_bytes() gives a read response
    response.headers["content-type"] = "text/event-stream"
    response.headers["content-length"] = str(len(stream))
    return True


@functools.cache
def _event_classes() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The SDK's event class with its parse done (``ParsedEvent``) or refused (``RefusedEvent``)."""
    from openai._streaming import ServerSentEvent

    class ParsedEvent(ServerSentEvent):
        def __init__(self, sse: ServerSentEvent, value: Any) -> None:
            super().__init__(event=sse.event, data=sse.data, id=sse.id, retry=sse.retry)
            self._value = value

        def json(self) -> Any:
            return self._value

    class RefusedEvent(ServerSentEvent):
        def __init__(self, refusal: Refusal) -> None:
            super().__init__()
            self._refusal = refusal

        def json(self) -> Any:
            return self._refusal

    return ParsedEvent, RefusedEvent


def _refusal_in(data: object) -> Refusal | None:
    if type(data) is Refusal:
        return data
    if type(data) is dict:  # the SDK's {"data": ..., "event": ...} of Assistants streams
        inner = data.get("data")
        if type(inner) is Refusal:
            return inner
    return None


def raise_refusal(
    data: object, response: httpx.Response, secrets: Callable[[httpx.Response], tuple[str, ...]]
) -> None:
    """Raise the error of a :class:`Refusal` the SDK passes on as an event's data."""
    refusal = _refusal_in(data)
    if refusal is None:
        return
    info = GatewayInfo.from_headers(response.headers, response.status_code)
    raise refusal.error(info, secrets(response)) from refusal.cause


@functools.cache
def checked_client_classes(
    secrets: Callable[[httpx.Response], tuple[str, ...]],
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
) -> tuple[type[Any], type[Any]]:
    """``openai.OpenAI`` and ``openai.AsyncOpenAI`` with checked streams.

    ``secrets`` gives the credentials a reply's request carried (scrubbed from errors);
    ``max_event_size`` bounds each stream event, as the gateway's own streams do. The limit is
    part of the class, so that the SDK's copies of a client (``with_options``) keep it.
    """
    import openai

    class OpenAI(openai.OpenAI):
        def _make_sse_decoder(self) -> CheckedSSEDecoder:
            return CheckedSSEDecoder(max_event_size)

        def _process_response_data(self, *, data: object, cast_to: Any, response: Any) -> Any:
            # ``response`` is an httpx.Response, or httpx2's on openai 3.
            raise_refusal(data, response, secrets)
            return super()._process_response_data(data=data, cast_to=cast_to, response=response)

    class AsyncOpenAI(openai.AsyncOpenAI):
        def _make_sse_decoder(self) -> CheckedSSEDecoder:
            return CheckedSSEDecoder(max_event_size)

        def _process_response_data(self, *, data: object, cast_to: Any, response: Any) -> Any:
            # ``response`` is an httpx.Response, or httpx2's on openai 3.
            raise_refusal(data, response, secrets)
            return super()._process_response_data(data=data, cast_to=cast_to, response=response)

    OpenAI.__qualname__, AsyncOpenAI.__qualname__ = "OpenAI", "AsyncOpenAI"
    return OpenAI, AsyncOpenAI
