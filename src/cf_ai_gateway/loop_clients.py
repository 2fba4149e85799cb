"""Async httpx clients bound to one event loop each, closed by that loop when it shuts down.

An httpx connection pool belongs to the event loop that opened it, so a transport used from
several loops (one ``asyncio.run`` after another) keeps one async client per loop. Each client
is registered with its loop as an async generator parked at its first ``yield``: a loop
finalises the async generators still suspended when it shuts down (``asyncio.run`` does so
before closing the loop), and the generator's ``finally`` closes the client's connections on
the loop that opened them, instead of leaving their sockets to the garbage collector.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from .pool_gate import PoolGate

__all__ = ["LoopClient"]


class LoopClient:
    """An async client bound to one event loop, closed by that loop when it shuts down.

    An event loop finalises the async generators still suspended when it shuts down
    (``asyncio.run`` does so before closing the loop), so a generator parked at its first
    ``yield`` is a shutdown hook: its ``finally`` closes the client's connections on the loop
    that opened them, instead of leaving their sockets to the garbage collector.
    """

    __slots__ = ("_closer", "_keep_open", "client", "gate", "loop")

    def __init__(self, loop: Any, client: httpx.AsyncClient, gate: PoolGate | None = None) -> None:
        self.loop = weakref.ref(loop)
        self.client = client
        self.gate = gate  # admission to the client's pool, for requests of this loop only
        self._keep_open = False
        self._closer = self._close_at_shutdown()
        _drive(self._closer.__anext__())  # run to the first yield: the loop now tracks it

    async def _close_at_shutdown(self) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            if not self._keep_open:
                await self.client.aclose()

    async def aclose(self) -> None:
        await self._closer.aclose()

    def abandon(self) -> None:
        """Finish the closer without I/O: its loop closed without finalising it."""
        self._keep_open = True
        _drive(self._closer.aclose())


def _drive(step: Any) -> None:
    """Run a coroutine step that never suspends (an async generator reaching its next yield)."""
    try:
        step.send(None)
    except (StopIteration, StopAsyncIteration):
        pass
    else:  # pragma: no cover - the closer never awaits before its yield
        step.close()
