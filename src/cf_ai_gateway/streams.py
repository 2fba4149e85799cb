"""Stream objects: raw SSE event streams and neutral chat-delta streams, sync and async.

A :class:`RawStream` turns an open streaming HTTP response into parsed event dicts, consumes
the ``[DONE]`` marker, raises :class:`~cf_ai_gateway.StreamError` for an error event or for a
stream that ends before its terminal event (``[DONE]``, or ``response.completed``,
``response.incomplete`` or ``response.failed`` on the Responses endpoint), and translates
network errors. A :class:`ChatStream` feeds those events to an endpoint's pure stream handler
and yields neutral deltas. Every stream carries its :class:`~cf_ai_gateway.GatewayInfo`
before the first event, and closes its connection when exhausted, closed or left early: the
iterating generators hold the response but not the stream object, so dropping a stream mid-way
frees it at once, without waiting for the garbage collector. Each wait for the next complete
event is bounded by the call's timeout; a server that stalls or trickles bytes without finishing
an event raises :class:`~cf_ai_gateway.GatewayTimeoutError`.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import httpx

from .deadline import read_by
from .errors import GatewayError, GatewayTimeoutError, ProviderError, StreamError, scrub
from .info import GatewayInfo
from .sse import DEFAULT_MAX_EVENT_SIZE, DONE, SSEDecoder, SSEError

if TYPE_CHECKING:
    from .wire.types import ChatDelta, ChatResult, ToolCall

    class StreamHandler(Protocol):
        """What a wire module's stream handler offers (see ``wire.chat.StreamHandler``)."""

        def on_event(self, event: dict[str, Any]) -> ChatDelta | None: ...
        def on_done(self) -> None: ...
        def tool_calls(self) -> list[ToolCall]: ...
        def result(self) -> ChatResult: ...

__all__ = ["AsyncChatStream", "AsyncRawStream", "ChatStream", "RawStream"]

TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


def scrub_value(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (parsed JSON) with every secret and bearer token scrubbed from its strings."""
    try:
        return json.loads(scrub(json.dumps(value), secrets))
    except (TypeError, ValueError):
        return None


def _raise_error_event(event: Any, info: GatewayInfo, secrets: tuple[str, ...]) -> NoReturn:
    """Raise the :class:`StreamError` for an error event or a non-object event."""
    if not isinstance(event, dict):
        raise StreamError("stream event is not a JSON object", log_id=info.log_id, info=info)
    err = event.get("error")
    detail = err if isinstance(err, dict) else event
    message = scrub(str(detail.get("message") or "error event in stream"), secrets)
    code = detail.get("code")
    raise StreamError(
        f"stream error from provider: {message}",
        code=code if isinstance(code, int) else None,
        log_id=info.log_id,
        body=scrub_value(event, secrets),
        info=info,
    )


class _StreamState:
    """State shared by the sync and async raw streams."""

    __slots__ = ("_decoder", "info", "saw_done", "secrets", "terminal")

    def __init__(
        self,
        info: GatewayInfo,
        secrets: tuple[str, ...] = (),
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self.info = info
        self.secrets = secrets
        self.saw_done = False
        self.terminal = False
        self._decoder = SSEDecoder(max_event_size)

    def events(self, chunk: bytes) -> Generator[dict[str, Any], None, None]:
        loads = json.loads
        for data in self._decoder.feed(chunk):
            if data == DONE:
                self.saw_done = True
                continue
            try:
                event = loads(data)
            except ValueError as exc:
                raise StreamError(
                    f"could not parse stream event: {data[:120]!r}",
                    log_id=self.info.log_id,
                    info=self.info,
                ) from exc
            if type(event) is not dict:
                _raise_error_event(event, self.info, self.secrets)
            kind = event.get("type")
            if kind is None:
                if "error" in event:
                    _raise_error_event(event, self.info, self.secrets)
            elif kind in TERMINAL_EVENTS:
                self.terminal = True
            elif kind == "error":
                _raise_error_event(event, self.info, self.secrets)
            yield event

    def finish(self) -> Generator[dict[str, Any], None, None]:
        tail = self._decoder.flush()
        for data in tail:
            if data == DONE:
                self.saw_done = True
        if not (self.saw_done or self.terminal):
            raise StreamError(
                "the stream ended before its terminal event; the reply is incomplete",
                log_id=self.info.log_id,
                info=self.info,
            )
        return
        yield  # pragma: no cover


def _network_error(exc: httpx.HTTPError, info: GatewayInfo) -> GatewayError:
    if isinstance(exc, httpx.TimeoutException):
        return GatewayTimeoutError(
            f"stream timed out ({type(exc).__name__})", log_id=info.log_id, info=info
        )
    return StreamError(
        f"the stream broke off: {type(exc).__name__}", log_id=info.log_id, info=info
    )


def _stalled(info: GatewayInfo, idle_timeout: float | None) -> GatewayTimeoutError:
    return GatewayTimeoutError(
        f"the stream stalled: no complete event within the timeout of {idle_timeout}s",
        log_id=info.log_id, info=info,
    )


def _undecodable(exc: SSEError, info: GatewayInfo) -> StreamError:
    return StreamError(f"could not parse the stream: {exc}", log_id=info.log_id, info=info)


def _gap_end(idle_timeout: float | None) -> float | None:
    return None if idle_timeout is None else time.monotonic() + idle_timeout


def _iter_events(
    response: httpx.Response, state: _StreamState, idle_timeout: float | None
) -> Iterator[dict[str, Any]]:
    """The events of ``response``; each wait for the next one ends by ``idle_timeout``."""
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
    than ``max_event_size`` raises :class:`~cf_ai_gateway.StreamError`.
    """

    def __init__(
        self,
        response: httpx.Response,
        secrets: tuple[str, ...] = (),
        *,
        idle_timeout: float | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self.response = response
        self.info = GatewayInfo.from_headers(response.headers, response.status_code)
        self.secrets = secrets
        self.idle_timeout = idle_timeout
        self._state = _StreamState(self.info, secrets, max_event_size)
        self._iterator: Iterator[dict[str, Any]] | None = None

    @property
    def saw_done(self) -> bool:
        return self._state.saw_done

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._iterator is None:
            self._iterator = _iter_events(self.response, self._state, self.idle_timeout)
        return self._iterator

    def __next__(self) -> dict[str, Any]:
        return next(iter(self))

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> RawStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _AsyncOpening:
    """The response of an async stream, opened on first need; shared with its iterator."""

    __slots__ = ("_opener", "max_event_size", "response", "secrets", "state")

    def __init__(
        self,
        opener: Callable[[], Awaitable[httpx.Response]],
        secrets: tuple[str, ...],
        max_event_size: int,
    ) -> None:
        self._opener: Callable[[], Awaitable[httpx.Response]] | None = opener
        self.secrets = secrets
        self.max_event_size = max_event_size
        self.response: httpx.Response | None = None
        self.state: _StreamState | None = None

    async def open(self) -> tuple[httpx.Response, _StreamState]:
        if self.response is None or self.state is None:
            assert self._opener is not None
            opener, self._opener = self._opener, None
            response = await opener()
            info = GatewayInfo.from_headers(response.headers, response.status_code)
            self.response = response
            self.state = _StreamState(info, self.secrets, self.max_event_size)
        return self.response, self.state


async def _aiter_events(
    opening: _AsyncOpening, idle_timeout: float | None
) -> AsyncIterator[dict[str, Any]]:
    """Async twin of :func:`_iter_events`; opens the response first if needed."""
    import anyio  # deferred: sync users never load it

    response, state = await opening.open()
    info = state.info
    chunks = response.aiter_bytes()
    try:
        end = _gap_end(idle_timeout)
        while True:
            left = None if end is None else max(0.0, end - time.monotonic())
            try:
                with anyio.fail_after(left):
                    chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise _stalled(info, idle_timeout) from None
            for event in state.events(chunk):
                yield event
                end = _gap_end(idle_timeout)  # the gap counts from when the caller asks again
        for event in state.finish():
            yield event  # pragma: no cover
    except httpx.TimeoutException as exc:
        raise _stalled(info, idle_timeout) from exc
    except httpx.HTTPError as exc:
        raise _network_error(exc, info) from exc
    except SSEError as exc:
        raise _undecodable(exc, info) from None
    finally:
        await response.aclose()


class AsyncRawStream:
    """Async iterator of parsed SSE event dicts. Opens on ``async with``, ``await`` or first use."""

    def __init__(
        self,
        opener: Callable[[], Awaitable[httpx.Response]],
        secrets: tuple[str, ...] = (),
        *,
        idle_timeout: float | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
    ) -> None:
        self._opening = _AsyncOpening(opener, secrets, max_event_size)
        self.secrets = secrets
        self.idle_timeout = idle_timeout
        self._iterator: AsyncIterator[dict[str, Any]] | None = None

    @property
    def response(self) -> httpx.Response | None:
        return self._opening.response

    @property
    def info(self) -> GatewayInfo:
        state = self._opening.state
        return state.info if state is not None else GatewayInfo()

    @property
    def saw_done(self) -> bool:
        state = self._opening.state
        return state is not None and state.saw_done

    async def open(self) -> AsyncRawStream:
        await self._opening.open()
        return self

    def __await__(self) -> Generator[Any, None, AsyncRawStream]:
        return self.open().__await__()

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        if self._iterator is None:
            self._iterator = _aiter_events(self._opening, self.idle_timeout)
        return self._iterator

    async def __anext__(self) -> dict[str, Any]:
        return await self.__aiter__().__anext__()

    async def aclose(self) -> None:
        if self._opening.response is not None:
            await self._opening.response.aclose()

    async def __aenter__(self) -> AsyncRawStream:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _failed_error(result: ChatResult, secrets: tuple[str, ...]) -> ProviderError:
    err = result.raw.get("error") if isinstance(result.raw, dict) else None
    message = err.get("message") if isinstance(err, dict) else None
    info = result.info if isinstance(result.info, GatewayInfo) else None
    return ProviderError(
        f"Provider: {scrub(str(message or 'the response failed'), secrets)}",
        log_id=info.log_id if info else None,
        body=scrub_value(result.raw, secrets),
        info=info,
    )


def _deltas(raw: RawStream, handler: StreamHandler, info: GatewayInfo) -> Iterator[ChatDelta]:
    on_event = handler.on_event
    for event in raw:
        delta = on_event(event)
        if delta is not None:
            yield delta
    if raw.saw_done:
        handler.on_done()
    result = handler.result()
    result.info = info
    if result.status == "failed":
        raise _failed_error(result, raw.secrets)


async def _adeltas(raw: AsyncRawStream, handler: StreamHandler) -> AsyncIterator[ChatDelta]:
    on_event = handler.on_event
    async for event in raw:
        delta = on_event(event)
        if delta is not None:
            yield delta
    if raw.saw_done:
        handler.on_done()
    result = handler.result()
    result.info = raw.info
    if result.status == "failed":
        raise _failed_error(result, raw.secrets)


class ChatStream:
    """Iterator of neutral :class:`ChatDelta` for one model call; a context manager.

    ``info`` is known before the first delta; ``result()`` returns the accumulated
    :class:`ChatResult` once the stream is exhausted.
    """

    def __init__(self, raw: RawStream, handler: StreamHandler) -> None:
        self.raw = raw
        self.info = raw.info
        self.handler = handler
        self._iterator: Iterator[ChatDelta] | None = None

    def __iter__(self) -> Iterator[ChatDelta]:
        if self._iterator is None:
            # The generator holds the raw stream and handler, not ``self``: no cycle to collect.
            self._iterator = _deltas(self.raw, self.handler, self.info)
        return self._iterator

    def __next__(self) -> ChatDelta:
        return next(iter(self))

    def result(self) -> ChatResult:
        """The whole reply accumulated from the deltas seen so far."""
        result = self.handler.result()
        result.info = self.info
        return result

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncChatStream:
    """Async iterator of neutral :class:`ChatDelta`; opens on ``async with``, ``await`` or use."""

    def __init__(self, raw: AsyncRawStream, handler: StreamHandler) -> None:
        self.raw = raw
        self.handler = handler
        self._iterator: AsyncIterator[ChatDelta] | None = None

    @property
    def info(self) -> GatewayInfo:
        return self.raw.info

    async def open(self) -> AsyncChatStream:
        await self.raw.open()
        return self

    def __await__(self) -> Generator[Any, None, AsyncChatStream]:
        return self.open().__await__()

    def __aiter__(self) -> AsyncIterator[ChatDelta]:
        if self._iterator is None:
            self._iterator = _adeltas(self.raw, self.handler)
        return self._iterator

    async def __anext__(self) -> ChatDelta:
        return await self.__aiter__().__anext__()

    def result(self) -> ChatResult:
        result = self.handler.result()
        result.info = self.info
        return result

    async def aclose(self) -> None:
        await self.raw.aclose()

    async def __aenter__(self) -> AsyncChatStream:
        return await self.open()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
