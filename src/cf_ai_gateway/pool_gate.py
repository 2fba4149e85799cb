"""Admission to the connection pool: a FIFO gate in front of httpx's pool, per event loop.

httpcore's pool rescans every queued request each time a connection frees up, so with many
more concurrent calls than connections most of the CPU goes into its queue. A
:class:`PoolGate` holds one permit per connection of the pool: a request takes a permit before
it enters the pool (waiting in a cheap FIFO queue when all are taken) and gives it back when
its response is closed: read to the end, closed early, failed or cancelled, exactly once.
httpcore also hands every request that enters its pool in the same instant to the same idle
connection (all but one then go round again, rescanning the pool), so with ``serial_entry``
requests enter one after the other: the next enters once the previous one holds its connection,
which its first trace event tells. A request still waiting for a permit at its call's deadline
raises
:class:`~cf_ai_gateway.GatewayTimeoutError` and is never sent. :class:`ThreadPoolGate` does
the same for the sync client shared by threads. Only the clients this library creates are
gated; a client passed in keeps its own pool policy.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from .errors import GatewayTimeoutError

if TYPE_CHECKING:
    import asyncio

__all__ = ["PoolGate", "ThreadPoolGate", "pool_wait_error"]


def pool_wait_error(size: int, waited: float) -> GatewayTimeoutError:
    """The error of a request that waited until its deadline for a connection from the pool."""
    return GatewayTimeoutError(
        f"the call's deadline passed after waiting {waited:.2f}s for a connection from the pool "
        f"(all {size} connections in use; see max_connections); the request was not sent"
    )


class PoolGate:
    """``size`` permits handed out in arrival order, for one event loop.

    A freed permit goes straight to the oldest live waiter, so no late arrival overtakes it.
    """

    __slots__ = ("_entry", "_free", "_waiters", "size")

    def __init__(self, size: int, *, serial_entry: bool = False) -> None:
        self.size = size
        self._free = size
        self._waiters: deque[asyncio.Future[bool]] = deque()
        self._entry: asyncio.Lock | None = None
        if serial_entry:
            import asyncio

            self._entry = asyncio.Lock()

    @property
    def in_use(self) -> int:
        return self.size - self._free

    async def acquire(self, timeout: float | None) -> None:
        """Take a permit, waiting at most ``timeout`` seconds (None: no limit)."""
        if self._free and not self._waiters:
            self._free -= 1
            return
        import asyncio

        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        started = time.monotonic()
        expiry = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            granted = await waiter
        except BaseException:
            # Cancelled: a permit handed over in the meantime goes on to the next waiter.
            if waiter.done() and not waiter.cancelled() and waiter.result():
                self.release()
            raise
        finally:
            if expiry is not None:
                expiry.cancel()
        if not granted:
            raise pool_wait_error(self.size, time.monotonic() - started)

    def release(self) -> None:
        """Give a permit back: to the oldest waiter still waiting, else to the free count."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self._free += 1

    async def send(self, client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
        """Send with a permit already taken; it is held until the response is closed."""
        claim: _Claim | None = None
        try:
            if self._entry is not None:
                await self._entry.acquire()
                claim = _Claim(self._entry, request.extensions.get("trace"))
                request.extensions["trace"] = claim
            response = await client.send(request, stream=True, follow_redirects=False)
        except BaseException:
            self.release()
            raise
        finally:
            if claim is not None:
                claim.let_next_in()
        response.stream = _GatedAsyncStream(response.stream, self)
        return response


class _Claim:
    """A request's trace hook that lets the next request into the pool at its first event
    (opening a new connection, or sending on a reused one: either way the connection is its own).
    """

    __slots__ = ("_entry", "_trace")

    def __init__(self, entry: asyncio.Lock, trace: Any) -> None:
        self._entry: asyncio.Lock | None = entry
        self._trace = trace

    def let_next_in(self) -> None:
        entry, self._entry = self._entry, None
        if entry is not None:
            entry.release()

    async def __call__(self, event: str, info: dict[str, Any]) -> None:
        self.let_next_in()
        if self._trace is not None:
            await self._trace(event, info)


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)  # release() skips it: it is done


class _GatedAsyncStream(httpx.AsyncByteStream):
    """A response body that returns its permit when closed (``aiter_raw`` closes at its end)."""

    __slots__ = ("_gate", "_stream")

    def __init__(self, stream: Any, gate: PoolGate) -> None:
        self._stream = stream
        self._gate: PoolGate | None = gate

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._stream.__aiter__()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            gate, self._gate = self._gate, None
            if gate is not None:
                gate.release()


class ThreadPoolGate:
    """Sync twin of :class:`PoolGate` for a client shared by threads (not strictly FIFO)."""

    __slots__ = ("_permits", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self._permits = threading.Semaphore(size)

    def send(
        self, client: httpx.Client, request: httpx.Request, timeout: float | None
    ) -> httpx.Response:
        """Take a permit within ``timeout`` seconds, send, and hold it until the response closes."""
        started = time.monotonic()
        if not self._permits.acquire(timeout=timeout):
            raise pool_wait_error(self.size, time.monotonic() - started)
        try:
            response = client.send(request, stream=True, follow_redirects=False)
        except BaseException:
            self._permits.release()
            raise
        response.stream = _GatedSyncStream(response.stream, self._permits)
        return response


class _GatedSyncStream(httpx.SyncByteStream):
    __slots__ = ("_permits", "_stream")

    def __init__(self, stream: Any, permits: threading.Semaphore) -> None:
        self._stream = stream
        self._permits: threading.Semaphore | None = permits

    def __iter__(self) -> Iterator[bytes]:
        return self._stream.__iter__()  # type: ignore[no-any-return]

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            permits, self._permits = self._permits, None
            if permits is not None:
                permits.release()
