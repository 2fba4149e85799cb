"""The async raw event stream: :class:`AsyncRawStream`, twin of :class:`~cf_ai_gateway.streams.RawStream`.

An :class:`AsyncRawStream` opens its streaming response on first need (``await``, ``open()``,
``async with`` or the first ``async for``), reads a stream request answered with one JSON
document whole and re-emits it as events, and otherwise turns the SSE body into parsed event
dicts under the same checks, error translation and per-event deadline as the sync stream, whose
state and helpers it shares from :mod:`cf_ai_gateway.streams`. It is also importable from there.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from .info import GatewayInfo
from .sse import DEFAULT_MAX_EVENT_SIZE, SSEError
from .streams import (
    _gap_end,
    _is_json,
    _network_error,
    _stalled,
    _StreamState,
    _too_large_reply,
    _undecodable,
)

if TYPE_CHECKING:
    import asyncio

__all__ = ["AsyncRawStream"]


async def _aread_buffered(
    response: httpx.Response, state: _StreamState, idle_timeout: float | None
) -> list[dict[str, Any]]:
    """Async twin of :func:`_read_buffered`."""
    import anyio  # deferred: sync users never load it

    info, limit = state.info, state.max_event_size
    parts: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(idle_timeout):
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise _too_large_reply(info, limit)
                parts.append(chunk)
    except TimeoutError:
        raise _stalled(info, idle_timeout) from None
    except httpx.TimeoutException as exc:
        raise _stalled(info, idle_timeout) from exc
    except httpx.HTTPError as exc:
        raise _network_error(exc, info) from exc
    finally:
        await response.aclose()
    return state.buffered(response.status_code, response.headers, b"".join(parts))


class _AsyncOpening:
    """The response of an async stream, opened on first need; shared with its iterator."""

    __slots__ = (
        "_opener",
        "api",
        "buffered",
        "idle_timeout",
        "max_event_size",
        "response",
        "secrets",
        "state",
    )

    def __init__(
        self,
        opener: Callable[[], Awaitable[httpx.Response]],
        secrets: tuple[str, ...],
        max_event_size: int,
        api: str | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        self._opener: Callable[[], Awaitable[httpx.Response]] | None = opener
        self.secrets = secrets
        self.max_event_size = max_event_size
        self.api = api
        self.idle_timeout = idle_timeout
        self.response: httpx.Response | None = None
        self.state: _StreamState | None = None
        self.buffered: list[dict[str, Any]] | None = None

    async def open(self) -> tuple[httpx.Response, _StreamState]:
        if self.response is None or self.state is None:
            assert self._opener is not None
            opener, self._opener = self._opener, None
            response = await opener()
            info = GatewayInfo.from_headers(response.headers, response.status_code)
            self.response = response
            state = _StreamState(info, self.secrets, self.max_event_size, api=self.api)
            if _is_json(response):
                self.buffered = await _aread_buffered(response, state, self.idle_timeout)
                state.info = replace(info, buffered=True)
            self.state = state
        return self.response, self.state


class _GapTimer:
    """The deadline of each wait for the next chunk of a stream, on one lazily re-armed timer.

    A cancel scope per chunk costs more than parsing the chunk when a server flushes one chunk
    per event. Instead one loop timer is armed for the current deadline (``arm``); when it fires
    it cancels the task only if the task is still waiting (``waiting``) past the deadline, and
    otherwise re-arms itself for the later deadline or, if the task is busy elsewhere, waits
    for the next ``arm``. ``fired`` tells a cancellation of ours from anyone else's.
    """

    __slots__ = ("_current_task", "_handle", "_loop", "_task", "end", "fired", "waiting")

    def __init__(self) -> None:
        import asyncio  # deferred: sync users never load it

        self._current_task = asyncio.current_task
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[Any] | None = None
        self.end: float | None = None
        self.waiting = False
        self.fired = False

    def arm(self, end: float | None) -> None:
        self.end = end
        self._task = self._current_task()
        if end is not None and self._handle is None:
            self._schedule(end - time.monotonic())

    def _schedule(self, left: float) -> None:
        self._handle = self._loop.call_at(self._loop.time() + max(left, 0.0), self._check)

    def _check(self) -> None:
        self._handle = None
        if self.end is None or not self.waiting or self._task is None:
            return  # not waiting: the next arm() sets the timer again
        left = self.end - time.monotonic()
        if left > 0:
            self._schedule(left)
            return
        self.fired = True
        self._task.cancel()

    def uncancel(self) -> None:
        """Withdraw the cancellation this timer made (Python 3.11+ counts them)."""
        uncancel = getattr(self._task, "uncancel", None)
        if uncancel is not None:
            uncancel()

    def close(self) -> None:
        self.end = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


async def _aiter_events(
    opening: _AsyncOpening, idle_timeout: float | None
) -> AsyncIterator[dict[str, Any]]:
    """Async twin of :func:`_iter_events`; opens the response first if needed."""
    from asyncio import CancelledError  # deferred: sync users never load it

    response, state = await opening.open()
    if opening.buffered is not None:
        for event in state.replay(opening.buffered):
            yield event
        for event in state.finish():
            yield event  # pragma: no cover
        return
    info = state.info
    chunks = response.aiter_bytes()
    gap = _GapTimer()
    try:
        end = _gap_end(idle_timeout)
        while True:
            gap.arm(end)
            try:
                gap.waiting = True
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                break
            except CancelledError:
                if not gap.fired:
                    raise
                gap.uncancel()
                raise _stalled(info, idle_timeout) from None
            finally:
                gap.waiting = False
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
        gap.close()
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
        api: str | None = None,
    ) -> None:
        self._opening = _AsyncOpening(opener, secrets, max_event_size, api, idle_timeout)
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
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
