"""Stream objects: raw SSE event streams and neutral chat-delta streams, sync and async.

A :class:`RawStream` turns an open streaming HTTP response into parsed event dicts, consumes
the ``[DONE]`` marker, raises :class:`~cf_ai_gateway.StreamError` for an error event or for a
stream that ends before its terminal event (``[DONE]``, or ``response.completed``,
``response.incomplete`` or ``response.failed`` on the Responses endpoint), and translates
network errors. A :class:`ChatStream` feeds those events to an endpoint's pure stream handler
and yields neutral deltas. Every stream carries its :class:`~cf_ai_gateway.GatewayInfo`
before the first event, and closes its connection when exhausted, closed or left early.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import httpx

from .errors import GatewayError, GatewayTimeoutError, ProviderError, StreamError, scrub
from .info import GatewayInfo
from .sse import DONE, SSEDecoder

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

    def __init__(self, info: GatewayInfo, secrets: tuple[str, ...] = ()) -> None:
        self.info = info
        self.secrets = secrets
        self.saw_done = False
        self.terminal = False
        self._decoder = SSEDecoder()

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


class RawStream:
    """Iterator of parsed SSE event dicts from one open response; a context manager."""

    def __init__(self, response: httpx.Response, secrets: tuple[str, ...] = ()) -> None:
        self.response = response
        self.info = GatewayInfo.from_headers(response.headers, response.status_code)
        self.secrets = secrets
        self._state = _StreamState(self.info, secrets)
        self._iterator: Iterator[dict[str, Any]] | None = None

    @property
    def saw_done(self) -> bool:
        return self._state.saw_done

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._iterator is None:
            self._iterator = self._iterate()
        return self._iterator

    def __next__(self) -> dict[str, Any]:
        return next(iter(self))

    def _iterate(self) -> Iterator[dict[str, Any]]:
        state = self._state
        try:
            for chunk in self.response.iter_bytes():
                yield from state.events(chunk)
            yield from state.finish()
        except httpx.HTTPError as exc:
            raise _network_error(exc, self.info) from exc
        finally:
            self.response.close()

    def close(self) -> None:
        self.response.close()

    def __enter__(self) -> RawStream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncRawStream:
    """Async iterator of parsed SSE event dicts. Opens on ``async with``, ``await`` or first use."""

    def __init__(
        self, opener: Callable[[], Awaitable[httpx.Response]], secrets: tuple[str, ...] = ()
    ) -> None:
        self._opener = opener
        self.secrets = secrets
        self.response: httpx.Response | None = None
        self.info: GatewayInfo = GatewayInfo()
        self._state: _StreamState | None = None
        self._iterator: AsyncIterator[dict[str, Any]] | None = None

    @property
    def saw_done(self) -> bool:
        return self._state is not None and self._state.saw_done

    async def open(self) -> AsyncRawStream:
        if self.response is None:
            self.response = await self._opener()
            self.info = GatewayInfo.from_headers(self.response.headers, self.response.status_code)
            self._state = _StreamState(self.info, self.secrets)
        return self

    def __await__(self) -> Generator[Any, None, AsyncRawStream]:
        return self.open().__await__()

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        if self._iterator is None:
            self._iterator = self._iterate()
        return self._iterator

    async def __anext__(self) -> dict[str, Any]:
        return await self.__aiter__().__anext__()

    async def _iterate(self) -> AsyncIterator[dict[str, Any]]:
        await self.open()
        assert self.response is not None and self._state is not None
        state = self._state
        try:
            async for chunk in self.response.aiter_bytes():
                for event in state.events(chunk):
                    yield event
            for event in state.finish():
                yield event  # pragma: no cover
        except httpx.HTTPError as exc:
            raise _network_error(exc, self.info) from exc
        finally:
            await self.response.aclose()

    async def aclose(self) -> None:
        if self.response is not None:
            await self.response.aclose()

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
        self._finished = False

    def __iter__(self) -> Iterator[ChatDelta]:
        if self._iterator is None:
            self._iterator = self._iterate()
        return self._iterator

    def __next__(self) -> ChatDelta:
        return next(iter(self))

    def _iterate(self) -> Iterator[ChatDelta]:
        on_event = self.handler.on_event
        for event in self.raw:
            delta = on_event(event)
            if delta is not None:
                yield delta
        if self.raw.saw_done:
            self.handler.on_done()
        self._finished = True
        result = self.result()
        if result.status == "failed":
            raise _failed_error(result, self.raw.secrets)

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
            self._iterator = self._iterate()
        return self._iterator

    async def __anext__(self) -> ChatDelta:
        return await self.__aiter__().__anext__()

    async def _iterate(self) -> AsyncIterator[ChatDelta]:
        on_event = self.handler.on_event
        async for event in self.raw:
            delta = on_event(event)
            if delta is not None:
                yield delta
        if self.raw.saw_done:
            self.handler.on_done()
        result = self.result()
        if result.status == "failed":
            raise _failed_error(result, self.raw.secrets)

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
