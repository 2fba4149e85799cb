"""Fan-out: calls beyond the pool's size wait their turn in a gate, within their deadline, and
connections are reused rather than reopened.

A real asyncio server on 127.0.0.1 (:mod:`.fanout_server`) counts the requests in flight at
once and the TCP connections opened (distinct client ports), so every assertion is about what
reached the wire. Nothing here measures time: deadlines are only made short enough to end.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway import ConfigurationError, Gateway, GatewayError, GatewayTimeoutError
from cf_ai_gateway.config import resolve_pool_limits

from .conftest import ACCOUNT, API_KEY
from .fanout_server import FanoutServer

BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def _fanout() -> Iterator[FanoutServer]:
    server = FanoutServer().start()
    yield server
    server.stop()


@pytest.fixture
def fanout(_fanout: FanoutServer) -> FanoutServer:
    _fanout.reset()
    return _fanout


def gateway(server: FanoutServer, **kwargs: Any) -> Gateway:
    kwargs.setdefault("max_retries", 0)
    return Gateway(account_id=ACCOUNT, api_key=API_KEY, base_url=server.base_url, **kwargs)


def reply(kind: str) -> dict[str, str]:
    return {"x-test-reply": kind}


async def read_stream(gw: Gateway, **kwargs: Any) -> int:
    async with gw.astream("chat/completions", BODY, **kwargs) as stream:
        return sum([1 async for _ in stream])


def gate_in_use(gw: Gateway) -> int:
    gate = gw.transport._aclient_and_gate()[1]
    assert gate is not None
    return gate.in_use


# -- admission ---------------------------------------------------------------------------------
async def test_concurrent_calls_beyond_the_pool_wait_their_turn(fanout: FanoutServer) -> None:
    async with gateway(fanout, max_connections=4) as gw:
        counts = await asyncio.gather(*(read_stream(gw) for _ in range(40)))
    assert counts == [fanout.chunks] * 40
    assert fanout.requests == 40
    assert fanout.max_in_flight <= 4
    assert fanout.connections <= 4


async def test_a_call_that_waits_past_its_deadline_for_a_connection_is_never_sent(
    fanout: FanoutServer,
) -> None:
    async with gateway(fanout, max_connections=1) as gw:
        held = await gw.astream("chat/completions", BODY, extra_headers=reply("hold"))
        with pytest.raises(GatewayTimeoutError, match="connection from the pool") as caught:
            await gw.acreate("chat/completions", BODY, timeout=0.2)
        assert "not sent" in str(caught.value)
        assert fanout.requests == 1  # the waiting call never reached the server
        await held.aclose()
        assert await read_stream(gw) == fanout.chunks  # the permit came back
    assert fanout.requests == 2


def test_sync_calls_beyond_the_pool_wait_within_their_deadline(fanout: FanoutServer) -> None:
    with gateway(fanout, max_connections=1) as gw:
        held = gw.stream("chat/completions", BODY, extra_headers=reply("hold"))
        errors: list[BaseException] = []

        def call() -> None:
            try:
                gw.create("chat/completions", BODY, timeout=0.2)
            except BaseException as exc:  # inspected below
                errors.append(exc)

        thread = threading.Thread(target=call)
        thread.start()
        thread.join(10)
        assert len(errors) == 1 and isinstance(errors[0], GatewayTimeoutError)
        assert "connection from the pool" in str(errors[0])
        assert fanout.requests == 1
        held.close()
        assert sum(1 for _ in gw.stream("chat/completions", BODY)) == fanout.chunks


# -- permits come back ---------------------------------------------------------------------------
async def test_permits_come_back_after_early_exits_errors_and_cancellation(
    fanout: FanoutServer,
) -> None:
    pool = 2
    async with gateway(fanout, max_connections=pool, timeout=5.0) as gw:
        for _ in range(3 * pool):
            # An early exit from a stream that would never end by itself.
            async with gw.astream("chat/completions", BODY, extra_headers=reply("hold")) as s:
                async for _event in s:
                    break
            # A stream left by breaking out of the loop, then closed.
            stream = gw.astream("chat/completions", BODY)
            async for _event in stream:
                break
            await stream.aclose()
            # An error status, and a stream that breaks off.
            with pytest.raises(GatewayError):
                await gw.acreate("chat/completions", BODY, extra_headers=reply("fail"))
            with pytest.raises(GatewayError):
                await read_stream(gw, extra_headers=reply("cut"))
            # A task cancelled while it reads a stream, and one cancelled while it waits.
            opened = asyncio.Event()

            async def reader(opened: asyncio.Event = opened) -> None:
                async with gw.astream("chat/completions", BODY, extra_headers=reply("hold")) as s:
                    async for _event in s:
                        opened.set()

            tasks = [asyncio.create_task(reader()) for _ in range(pool + 1)]
            await opened.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        assert gate_in_use(gw) == 0
        counts = await asyncio.gather(*(read_stream(gw, timeout=5.0) for _ in range(pool * 3)))
        assert counts == [fanout.chunks] * (pool * 3)


async def test_a_stream_dropped_after_its_last_event_returns_its_permit(
    fanout: FanoutServer,
) -> None:
    async with gateway(fanout, max_connections=1) as gw:
        for _ in range(3):
            stream = await gw.astream("chat/completions", BODY)
            assert [event async for event in stream]  # read to the end, never closed
        assert gate_in_use(gw) == 0


# -- connection reuse ---------------------------------------------------------------------------
async def test_fan_out_reuses_the_pools_connections(fanout: FanoutServer) -> None:
    async with gateway(fanout, max_connections=20) as gw:
        counts = await asyncio.gather(*(read_stream(gw) for _ in range(200)))
    assert counts == [fanout.chunks] * 200
    assert fanout.connections <= 24  # 1.2x the pool, not one per call


def test_sync_fan_out_reuses_the_pools_connections(fanout: FanoutServer) -> None:
    with gateway(fanout, max_connections=5) as gw:
        results: list[int] = []

        def worker() -> None:
            for _ in range(5):
                results.append(sum(1 for _ in gw.stream("chat/completions", BODY)))

        threads = [threading.Thread(target=worker) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    assert results == [fanout.chunks] * 100
    assert fanout.max_in_flight <= 5
    assert fanout.connections <= 6


# -- settings -----------------------------------------------------------------------------------
def test_the_limits_reach_the_pool() -> None:
    gw = Gateway(account_id=ACCOUNT, api_key=API_KEY, max_connections=7, max_keepalive=3)
    assert (gw.transport.max_connections, gw.transport.max_keepalive) == (7, 3)
    assert Gateway(account_id=ACCOUNT, api_key=API_KEY).transport.max_keepalive == 100


@pytest.mark.parametrize(
    ("kwargs", "environ", "named"),
    [
        ({"max_connections": 0}, {}, "max_connections (environment variable CF_AIG_MAX_CONNECTIONS)"),
        ({"max_connections": -1}, {}, "CF_AIG_MAX_CONNECTIONS"),
        ({"max_connections": "10"}, {}, "max_connections"),
        ({"max_connections": True}, {}, "max_connections"),
        ({"max_connections": 2.0}, {}, "max_connections"),
        ({"max_keepalive": 0}, {}, "max_keepalive (environment variable CF_AIG_MAX_KEEPALIVE)"),
        ({"max_connections": 5, "max_keepalive": 6}, {}, "at most max_connections (5)"),
        ({}, {"CF_AIG_MAX_CONNECTIONS": "many"}, "CF_AIG_MAX_CONNECTIONS"),
        ({}, {"CF_AIG_MAX_CONNECTIONS": "0"}, "CF_AIG_MAX_CONNECTIONS"),
        ({}, {"CF_AIG_MAX_KEEPALIVE": "-3"}, "CF_AIG_MAX_KEEPALIVE"),
        ({}, {"CF_AIG_MAX_KEEPALIVE": "500"}, "at most max_connections (100)"),
    ],
)
def test_bad_limits_are_refused_before_anything_is_sent(
    fanout: FanoutServer, kwargs: dict[str, Any], environ: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError, match=named.replace("(", r"\(").replace(")", r"\)")):
        Gateway(
            account_id=ACCOUNT,
            api_key=API_KEY,
            base_url=fanout.base_url,
            environ=environ,
            **kwargs,
        )
    assert fanout.requests == 0


def test_the_environment_sets_the_limits_and_arguments_win() -> None:
    environ = {"CF_AIG_MAX_CONNECTIONS": "300", "CF_AIG_MAX_KEEPALIVE": "50"}
    assert resolve_pool_limits(environ=environ) == (300, 50)
    assert resolve_pool_limits(40, environ={"CF_AIG_MAX_CONNECTIONS": "300"}) == (40, 40)
    assert resolve_pool_limits(environ={}) == (100, 100)


@settings(max_examples=200, deadline=None)
@given(connections=st.text(max_size=12), keepalive=st.text(max_size=12))
def test_any_environment_text_gives_limits_or_a_configuration_error(
    connections: str, keepalive: str
) -> None:
    environ = {"CF_AIG_MAX_CONNECTIONS": connections, "CF_AIG_MAX_KEEPALIVE": keepalive}
    try:
        got, kept = resolve_pool_limits(environ=environ)
    except ConfigurationError as exc:
        assert "CF_AIG_MAX_" in str(exc)
        return
    assert 1 <= kept <= got


# -- the gate itself ----------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(
    size=st.integers(1, 4),
    ops=st.lists(
        st.tuples(st.sampled_from(["acquire", "cancel", "release", "step"]), st.integers(0, 99)),
        max_size=60,
    ),
)
def test_the_gate_never_overfills_keeps_order_and_gets_every_permit_back(
    size: int, ops: list[tuple[str, int]]
) -> None:
    from cf_ai_gateway.pool_gate import PoolGate

    async def scenario() -> None:
        gate = PoolGate(size)
        order: list[int] = []  # who got a permit, in the order they got it
        released = 0
        tasks: list[asyncio.Task[None]] = []

        async def take(index: int) -> None:
            await gate.acquire(None)
            order.append(index)

        for op, pick in ops:
            if op == "acquire":
                tasks.append(asyncio.create_task(take(len(tasks))))
            elif op == "cancel":
                pending = [task for task in tasks if not task.done()]
                if pending:
                    pending[pick % len(pending)].cancel()
            elif op == "release" and len(order) > released:
                gate.release()
                released += 1
            else:  # a step of the loop: the ops between two steps happen at once
                for _ in range(3):
                    await asyncio.sleep(0)
            held = len(order) - released
            assert held <= gate.in_use <= size
        for _ in range(3):
            await asyncio.sleep(0)
        assert order == sorted(order)  # no one overtook an earlier waiter
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for _ in range(len(order) - released):
            gate.release()
        assert gate.in_use == 0

    asyncio.run(scenario())


async def test_a_waiter_cancelled_as_it_is_handed_a_permit_passes_it_on() -> None:
    from cf_ai_gateway.pool_gate import PoolGate

    gate = PoolGate(1)
    await gate.acquire(None)
    first = asyncio.create_task(gate.acquire(None))
    second = asyncio.create_task(gate.acquire(None))
    await asyncio.sleep(0)  # both wait
    gate.release()  # the permit goes to the first waiter...
    first.cancel()  # ...which is cancelled before it resumes
    await asyncio.gather(first, return_exceptions=True)
    for _ in range(3):
        await asyncio.sleep(0)
    assert second.done() and second.exception() is None
    assert gate.in_use == 1
    gate.release()
    assert gate.in_use == 0
