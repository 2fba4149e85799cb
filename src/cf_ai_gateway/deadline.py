"""Deadlines: one end time per call, and sync sockets that never wait past it.

A :class:`Deadline` is the monotonic time by which a call must be over; retries, their waits
and every read count against it. Async code enforces it with a cancel scope around each wait.
Sync code cannot interrupt a blocking read, so the sync clients this library creates get a
network backend whose reads, writes and connects wait at most until the deadline that
:func:`bounded` set for the current context: a server that trickles a byte every half second
ends the call at its deadline rather than at the end of its reply. A client passed in by the
user keeps its own sockets; there the deadline is checked between reads.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

if TYPE_CHECKING:
    import ssl

__all__ = ["Deadline", "bounded", "deadline_client", "deadline_seconds", "read_by", "time_left"]

T = TypeVar("T")

_current_end: ContextVar[float | None] = ContextVar("cf_ai_gateway_deadline", default=None)


def deadline_seconds(timeout: httpx.Timeout) -> float | None:
    """The deadline of a call: the longest limit an ``httpx.Timeout`` sets (None: no deadline)."""
    limits = [
        t for t in (timeout.connect, timeout.read, timeout.write, timeout.pool) if t is not None
    ]
    return max(limits) if limits else None


class Deadline:
    """The monotonic time by which a call is over; ``None`` seconds means no deadline."""

    __slots__ = ("end", "seconds")

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.end = None if seconds is None else time.monotonic() + seconds

    def remaining(self) -> float | None:
        """Seconds left (never below zero), or None without a deadline."""
        if self.end is None:
            return None
        return max(0.0, self.end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.end is not None and time.monotonic() >= self.end

    def timeouts(self, timeout: httpx.Timeout) -> dict[str, float | None]:
        """``timeout``'s per-phase limits, each cut to the time left (the request extension)."""
        left = self.remaining()
        phases = timeout.as_dict()
        if left is None:
            return phases
        return {k: left if v is None else min(v, left) for k, v in phases.items()}


def read_by(end: float | None, read: Callable[[], T]) -> T:
    """``read()``, with the sync sockets of our own clients waiting no later than ``end``."""
    token = _current_end.set(end)
    try:
        return read()
    finally:
        _current_end.reset(token)


@contextlib.contextmanager
def bounded(end: float | None) -> Iterator[None]:
    """Within this block, sync sockets of our own clients wait no later than ``end``."""
    token = _current_end.set(end)
    try:
        yield
    finally:
        _current_end.reset(token)


def deadline_client(*, wire: str = "httpx", **kwargs: Any) -> httpx.Client:
    """An ``httpx.Client`` whose connections honour :func:`bounded` deadlines: on httpcore,
    or with ``wire="aiohttp"`` (the ``fast`` wires) on :class:`SocketTransport`."""
    if wire == "aiohttp":
        from .socket_transport import SocketTransport

        fast = SocketTransport(verify=kwargs["verify"], limits=kwargs["limits"])
        return httpx.Client(transport=fast, **kwargs)
    transport = httpx.HTTPTransport(verify=kwargs["verify"], limits=kwargs["limits"])
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if backend is not None:
        pool._network_backend = _backend_class()(backend)  # type: ignore[union-attr]
    return httpx.Client(transport=transport, **kwargs)


def time_left(timeout: float | None, error: type[Exception]) -> float | None:
    """How long the next socket wait may last: ``timeout`` cut to the deadline :func:`bounded`
    set; ``error`` is raised when no time is left."""
    end = _current_end.get()
    if end is None:
        if timeout is not None and timeout <= 0:
            raise error("timed out")
        return timeout
    left = end - time.monotonic()
    if left <= 0 or (timeout is not None and timeout <= 0):
        raise error("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


_BACKEND: type[Any] | None = None


def _backend_class() -> type[Any]:
    """The deadline-aware network backend (httpcore loads only when a sync client is built)."""
    global _BACKEND
    if _BACKEND is not None:
        return _BACKEND
    import httpcore

    class DeadlineStream(httpcore.NetworkStream):
        def __init__(self, stream: httpcore.NetworkStream) -> None:
            self._stream = stream

        def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
            return self._stream.read(max_bytes, time_left(timeout, httpcore.ReadTimeout))

        def write(self, buffer: bytes, timeout: float | None = None) -> None:
            self._stream.write(buffer, time_left(timeout, httpcore.WriteTimeout))

        def close(self) -> None:
            self._stream.close()

        def start_tls(
            self,
            ssl_context: ssl.SSLContext,
            server_hostname: str | None = None,
            timeout: float | None = None,
        ) -> httpcore.NetworkStream:
            timeout = time_left(timeout, httpcore.ConnectTimeout)
            return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout))

        def get_extra_info(self, info: str) -> Any:
            return self._stream.get_extra_info(info)

    class DeadlineBackend(httpcore.NetworkBackend):
        def __init__(self, backend: httpcore.NetworkBackend) -> None:
            self._backend = backend

        def connect_tcp(
            self,
            host: str,
            port: int,
            timeout: float | None = None,
            local_address: str | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            timeout = time_left(timeout, httpcore.ConnectTimeout)
            stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
            return DeadlineStream(stream)

        def connect_unix_socket(
            self,
            path: str,
            timeout: float | None = None,
            socket_options: Iterable[Any] | None = None,
        ) -> httpcore.NetworkStream:
            timeout = time_left(timeout, httpcore.ConnectTimeout)
            return DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options))

        def sleep(self, seconds: float) -> None:
            self._backend.sleep(seconds)

    _BACKEND = DeadlineBackend
    return _BACKEND
