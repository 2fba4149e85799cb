"""The per-event deadline of async streams cancels only its own wait.

Each wait for the next event of an async stream ends by the call's timeout, counted from when
the caller asks again: a consumer that takes longer than the timeout between events is never
cut off, a cancellation from outside stays a cancellation (not a timeout), and nothing of the
deadline outlives the stream to cancel the task later. Run on both async wires.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from cf_ai_gateway import GatewayTimeoutError

from .testserver import Reply, TestServer, sse

pytestmark = pytest.mark.usefixtures("wire")

EVENTS = [{"choices": [{"index": 0, "delta": {"content": str(i)}}]} for i in range(3)]


async def test_a_slow_consumer_is_not_cut_off(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=sse(*EVENTS)))
    gw = make_gateway(timeout=0.2)
    got = []
    async for event in gw.astream("chat/completions", {}):
        got.append(event)
        await asyncio.sleep(0.3)  # longer than the timeout, between two waits
    assert got == EVENTS
    await gw.aclose()


async def test_nothing_outlives_the_stream(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=sse(*EVENTS)), Reply(chunks=sse(*EVENTS)))
    gw = make_gateway(timeout=0.2)
    async for _ in gw.astream("chat/completions", {}):
        break  # left early
    assert len([e async for e in gw.astream("chat/completions", {})]) == 3
    await asyncio.sleep(0.4)  # a timer left armed would cancel this sleep
    await gw.aclose()


async def test_a_cancellation_from_outside_stays_a_cancellation(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(chunks=sse(*EVENTS, done=False), hold=True))
    gw = make_gateway(timeout=30)

    async def consume() -> None:
        async for _ in gw.astream("chat/completions", {}):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await gw.aclose()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
async def test_a_stalled_stream_inside_a_timeout_of_the_callers(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(chunks=sse(*EVENTS, done=False), hold=True))
    gw = make_gateway(timeout=0.3)
    with pytest.raises(GatewayTimeoutError):
        async with asyncio.timeout(30):
            async for _ in gw.astream("chat/completions", {}):
                pass
    # the caller's own scope is untouched: it still cancels when it expires
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await asyncio.sleep(5)
    await gw.aclose()
