"""Stream objects: raw SSE event streams and neutral chat-delta streams, sync and async.

A :class:`RawStream` turns an open streaming HTTP response into parsed event dicts, consumes
the ``[DONE]`` marker, raises :class:`~cf_ai_gateway.StreamError` for an error event (an SSE
``event: error`` block, a chunk holding ``error``, a Responses ``error`` event), for an event
that is not a JSON object, or for a stream that ends before its terminal event (``[DONE]`` on
``chat/completions``; only ``response.completed``, ``response.incomplete`` or
``response.failed`` on the Responses endpoint), and translates network errors. A stream
request answered with one JSON document is either an error envelope (raised as the typed error
it names) or a whole reply, re-emitted as the events the endpoint would have streamed, with
``info.buffered`` set. A :class:`ChatStream` feeds those events to an endpoint's pure stream
handler and yields neutral deltas. Every stream carries its :class:`~cf_ai_gateway.GatewayInfo`
before the first event, and closes its connection when exhausted, closed or left early: the
iterating generators hold the response but not the stream object, so dropping a stream mid-way
frees it at once, without waiting for the garbage collector. Each wait for the next complete
event is bounded by the call's timeout; a server that stalls or trickles bytes without finishing
an event raises :class:`~cf_ai_gateway.GatewayTimeoutError`. The async raw stream lives in
:mod:`~cf_ai_gateway.async_streams` and the chat-delta streams in
:mod:`~cf_ai_gateway.chat_streams`; all four are importable from here.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Generator, Iterator
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from . import jsontext
from .deadline import read_by
from .errors import (
    GatewayError,
    GatewayTimeoutError,
    MalformedResponseError,
    StreamError,
    error_from_response,
    is_error_reply,
    scrub,
    scrub_chain,
)
from .info import GatewayInfo
from .jsontext import shallow
from .lazy import lazy_attributes
from .sse import DEFAULT_MAX_EVENT_SIZE, DONE, ErrorData, SSEDecoder, SSEError
from .wire import converter
from .wire.events import ERROR_EVENT, TERMINAL_EVENTS, error_fields, needs_terminal_event

if TYPE_CHECKING:
    from .async_streams import AsyncRawStream as AsyncRawStream
    from .chat_streams import AsyncChatStream as AsyncChatStream
    from .chat_streams import ChatStream as ChatStream
    from .chat_streams import failed_error as failed_error
    from .wire.types import ChatDelta, ChatResult, ToolCall

    class StreamHandler(Protocol):
        """What a wire module's stream handler offers (see ``wire.chat.StreamHandler``)."""

        def on_event(self, event: dict[str, Any]) -> ChatDelta | None: ...
        def on_done(self) -> None: ...
        def tool_calls(self) -> list[ToolCall]: ...
        def result(self) -> ChatResult: ...


__all__ = ["AsyncChatStream", "AsyncRawStream", "ChatStream", "RawStream"]


def scrub_value(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (parsed JSON) with every secret and bearer token scrubbed from its strings.

    None when it cannot be kept on an error (not JSON, or nested too deeply to pickle).
    """
    if not shallow(value):
        return None
    try:
        return json.loads(scrub(json.dumps(value), secrets))
    except (TypeError, ValueError, RecursionError):
        return None


def _is_json(response: httpx.Response) -> bool:
    """True when a stream request was answered with a JSON document instead of SSE."""
    media: str = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


class _StreamState:
    """State shared by the sync and async raw streams: decoding, checks and the terminal rule."""

    __slots__ = (
        "_decoder",
        "api",
        "info",
        "max_event_size",
        "needs_terminal",
        "saw_done",
        "secrets",
        "terminal",
    )

    def __init__(
        self,
        info: GatewayInfo,
        secrets: tuple[str, ...] = (),
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        *,
        api: str | None = None,
    ) -> None:
        self.info = info
        self.secrets = secrets
        self.api = api
        self.max_event_size = max_event_size
        self.needs_terminal = needs_terminal_event(api)
        self.saw_done = False
        self.terminal = False
        self._decoder = SSEDecoder(max_event_size)

    def error(self, payload: Any) -> StreamError:
        """The :class:`StreamError` for an error payload (an event, or an ``event: error``'s data)."""
        if isinstance(payload, ErrorData):
            try:
                payload = jsontext.loads(payload) if payload.strip() else str(payload)
            except ValueError:
                payload = str(payload)
        message, code = error_fields(payload)
        source = "AI Gateway" if code is not None else "provider"
        text = scrub(message or "error event in stream", self.secrets)
        return StreamError(
            f"stream error from {source}: {text}",
            code=code,
            log_id=self.info.log_id,
            body=scrub_value(payload, self.secrets),
            info=self.info,
        )

    def malformed(self, what: str) -> MalformedResponseError:
        return MalformedResponseError(what, log_id=self.info.log_id, info=self.info)

    def check(self, event: Any) -> dict[str, Any]:
        """``event`` when it is a well-formed event; raise for an error event or a bad one."""
        if type(event) is not dict:
            if error_fields(event) != (None, None):
                raise self.error(event)
            raise self.malformed(f"stream event is not a JSON object ({type(event).__name__})")
        kind = event.get("type")
        if kind is None:
            if event.get("error") is not None:
                raise self.error(event)
        elif type(kind) is not str:
            raise self.malformed("stream event has a 'type' that is not a string")
        elif kind in TERMINAL_EVENTS:
            self.terminal = True
        elif kind == ERROR_EVENT:
            raise self.error(event)
        return event

    def events(self, chunk: bytes) -> Generator[dict[str, Any], None, None]:
        loads = jsontext.loads
        fault = None
        try:
            payloads = self._decoder.feed(chunk)
        except SSEError as exc:
            payloads, fault = exc.before, _undecodable(exc, self.info)
        for data in payloads:
            if type(data) is not str:
                raise self.error(data)
            if data == DONE:
                self.saw_done = True
                continue
            try:
                event = loads(data)
            except ValueError as exc:
                raise self.malformed(
                    f"could not parse stream event: {scrub(data[:120], self.secrets)!r}"
                ) from exc
            if type(event) is dict and "type" not in event and event.get("error") is None:
                yield event  # the common chat chunk, checked inline
                continue
            yield self.check(event)
        if fault is not None:  # after the events that came ahead of it
            raise fault

    def buffered(
        self, status_code: int, headers: httpx.Headers, content: bytes
    ) -> list[dict[str, Any]]:
        """The events of a stream request answered with one JSON reply (``content``).

        An error envelope raises the typed error it names; a reply of the endpoint becomes the
        events the endpoint would have streamed; anything else is a
        :class:`MalformedResponseError`.
        """
        try:
            body = jsontext.loads(content)
        except ValueError:
            raise self.malformed(
                "the stream request was answered with a JSON reply that does not parse"
            ) from None
        if is_error_reply(body):
            raise error_from_response(
                status_code, headers, content, info=self.info, secrets=self.secrets
            )
        if not isinstance(body, dict):
            raise self.malformed("the stream request was answered with JSON that is not an object")
        api = self.api or _api_of_reply(body)
        if api is None:
            raise self.malformed(
                "the stream request was answered with one JSON reply of an unknown endpoint"
            )
        try:
            events: list[dict[str, Any]] = converter(api).reply_events(body)
        except GatewayError as exc:
            raise _with_info(exc, self.info, self.secrets) from None
        return events

    def replay(self, events: list[dict[str, Any]]) -> Generator[dict[str, Any], None, None]:
        """Yield the events rebuilt from a buffered reply, then its implied ``[DONE]``."""
        for event in events:
            yield self.check(event)
        self.saw_done = True

    def finish(self) -> Generator[dict[str, Any], None, None]:
        try:
            tail = self._decoder.flush()
        except SSEError as exc:
            raise _undecodable(exc, self.info) from None
        for data in tail:
            if type(data) is not str:
                raise self.error(data)
            if data == DONE:
                self.saw_done = True
                continue
            try:
                event = jsontext.loads(data)
            except ValueError:
                continue  # a partial last event: the terminal check below reports it
            yield self.check(event)
        if self.terminal or (self.saw_done and not self.needs_terminal):
            return
        if self.saw_done:
            message = (
                "the stream sent [DONE] without response.completed, response.incomplete or "
                "response.failed; the reply is incomplete"
            )
        else:
            message = "the stream ended before its terminal event; the reply is incomplete"
        raise StreamError(message, log_id=self.info.log_id, info=self.info)


def _api_of_reply(body: dict[str, Any]) -> str | None:
    kind = body.get("object")
    if kind == "chat.completion":
        return "chat"
    if kind == "response":
        return "responses"
    return None


def _with_info(exc: GatewayError, info: GatewayInfo, secrets: tuple[str, ...]) -> GatewayError:
    """``exc`` raised by a pure parser, completed with the stream's log id, info and scrubbing."""
    if exc.log_id is None:
        exc.log_id = info.log_id
    if exc.info is None:
        exc.info = info
    exc.message = scrub(exc.message, secrets)
    exc.args = (exc.message,)
    exc.body = scrub_value(exc.body, secrets) if exc.body is not None else None
    return exc


def _too_large_reply(info: GatewayInfo, limit: int) -> StreamError:
    return StreamError(
        f"the stream request was answered with a JSON reply larger than {limit} bytes "
        "(max_event_size)",
        log_id=info.log_id,
        info=info,
    )


def _read_buffered(
    response: httpx.Response, state: _StreamState, idle_timeout: float | None
) -> list[dict[str, Any]]:
    """Read a JSON answer to a stream request (bounded in time and size) and rebuild its events."""
    info, limit = state.info, state.max_event_size
    parts: list[bytes] = []
    size = 0
    next_chunk = functools.partial(next, response.iter_bytes(), None)
    end = _gap_end(idle_timeout)
    try:
        while (chunk := read_by(end, next_chunk)) is not None:
            size += len(chunk)
            if size > limit:
                raise _too_large_reply(info, limit)
            parts.append(chunk)
            if end is not None and time.monotonic() >= end:  # a user's client: checked per read
                raise _stalled(info, idle_timeout)
    except httpx.TimeoutException as exc:
        raise _stalled(info, idle_timeout) from exc
    except httpx.HTTPError as exc:
        raise _network_error(exc, info) from exc
    finally:
        response.close()
    return state.buffered(response.status_code, response.headers, b"".join(parts))


def _network_error(exc: httpx.HTTPError, info: GatewayInfo) -> GatewayError:
    scrub_chain(exc)  # a parser's message may quote reply bytes echoing a secret
    if isinstance(exc, httpx.TimeoutException):
        return GatewayTimeoutError(
            f"stream timed out ({type(exc).__name__})", log_id=info.log_id, info=info
        )
    return StreamError(f"the stream broke off: {type(exc).__name__}", log_id=info.log_id, info=info)


def _stalled(info: GatewayInfo, idle_timeout: float | None) -> GatewayTimeoutError:
    return GatewayTimeoutError(
        f"the stream stalled: no complete event within the timeout of {idle_timeout}s",
        log_id=info.log_id,
        info=info,
    )


def _undecodable(exc: SSEError, info: GatewayInfo) -> StreamError:
    return StreamError(f"could not parse the stream: {exc}", log_id=info.log_id, info=info)


def _gap_end(idle_timeout: float | None) -> float | None:
    return None if idle_timeout is None else time.monotonic() + idle_timeout


def _iter_events(
    response: httpx.Response,
    state: _StreamState,
    idle_timeout: float | None,
    buffered: list[dict[str, Any]] | None = None,
) -> Iterator[dict[str, Any]]:
    """The events of ``response``; each wait for the next one ends by ``idle_timeout``.

    ``buffered`` holds the events rebuilt from a JSON answer (the response is already read).
    """
    if buffered is not None:
        yield from state.replay(buffered)
        yield from state.finish()
        return
    info = state.info
    next_chunk = functools.partial(next, response.iter_bytes(), None)
    try:
        end = _gap_end(idle_timeout)
        while True:
            chunk = read_by(end, next_chunk)
            if chunk is None:
                break
            got_event = False
            for event in state.events(chunk):
                got_event = True
                yield event
                end = _gap_end(idle_timeout)  # the gap counts from when the caller asks again
            if not (got_event or state.saw_done) and end is not None and time.monotonic() >= end:
                raise _stalled(info, idle_timeout)
        yield from state.finish()
    except httpx.TimeoutException as exc:
        raise _stalled(info, idle_timeout) from exc
    except httpx.HTTPError as exc:
        raise _network_error(exc, info) from exc
    except SSEError as exc:
        raise _undecodable(exc, info) from None
    finally:
        response.close()


class RawStream:
    """Iterator of parsed SSE event dicts from one open response; a context manager.

    ``idle_timeout`` bounds each wait for a complete event (None: no bound); an event larger
    than ``max_event_size`` raises :class:`~cf_ai_gateway.StreamError`. ``api`` (``"chat"`` or
    ``"responses"``) sets the terminal rule and how a reply that came as one JSON document (a
    buffered stream) is re-emitted as events.
    """

    def __init__(
        self,
        response: httpx.Response,
        secrets: tuple[str, ...] = (),
        *,
        idle_timeout: float | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        api: str | None = None,
    ) -> None:
        self.response = response
        self.info = GatewayInfo.from_headers(response.headers, response.status_code)
        self.secrets = secrets
        self.idle_timeout = idle_timeout
        self._state = _StreamState(self.info, secrets, max_event_size, api=api)
        self._iterator: Iterator[dict[str, Any]] | None = None
        self._buffered: list[dict[str, Any]] | None = None
        if _is_json(response):
            self._buffered = _read_buffered(response, self._state, idle_timeout)
            self.info = self._state.info = replace(self.info, buffered=True)

    @property
    def saw_done(self) -> bool:
        return self._state.saw_done

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._iterator is None:
            self._iterator = _iter_events(
                self.response, self._state, self.idle_timeout, self._buffered
            )
        return self._iterator

    def __next__(self) -> dict[str, Any]:
        return next(iter(self))

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> RawStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# The async raw stream and the neutral chat-delta streams live in ``async_streams`` and
# ``chat_streams``, which import this module; they stay importable from here, and load on first
# access so that any of the three modules may be imported first.
_ELSEWHERE = {
    "AsyncRawStream": ".async_streams",
    "AsyncChatStream": ".chat_streams",
    "ChatStream": ".chat_streams",
    "failed_error": ".chat_streams",
}


__getattr__ = lazy_attributes(globals(), _ELSEWHERE)
