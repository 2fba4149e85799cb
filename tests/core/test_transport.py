"""Transport behaviour over a real socket: retries, Retry-After, timeouts, broken streams."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from cf_ai_gateway import (
    Gateway,
    GatewayConnectionError,
    GatewayRateLimitError,
    GatewayTimeoutError,
    ProviderError,
    StreamError,
)
from cf_ai_gateway.transport import Transport

from .conftest import API_KEY
from .testserver import Reply, TestServer, sse

# Every async test runs on both async transports (httpx, and aiohttp where installed).
pytestmark = pytest.mark.usefixtures("wire")

RATE = {"success": False, "result": [], "messages": [], "error": [{"code": 2003, "message": "Rate limited"}],
        "name": "AiGatewayError", "httpCode": 429}


def test_retries_429_then_succeeds(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(status=429, body=RATE, headers={"retry-after": "0"}), Reply(status=502, body="bad gateway"))
    res = make_gateway(max_retries=2).create("chat/completions", {"model": "m"})
    assert res.body == {"ok": True}
    assert len(server.requests) == 3
    # every attempt carries the same body and auth
    assert {r.body for r in server.requests} == {b'{"model":"m"}'}


def test_stops_at_max_retries(make_gateway: Any, server: TestServer) -> None:
    server.queue(*[Reply(status=503, body={"error": {"message": "down"}}) for _ in range(5)])
    with pytest.raises(ProviderError) as err:
        make_gateway(max_retries=3).create("chat/completions", {})
    assert err.value.status_code == 503
    assert len(server.requests) == 4


def test_max_retries_zero_sends_once(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(status=429, body=RATE))
    with pytest.raises(GatewayRateLimitError):
        make_gateway(max_retries=0).create("chat/completions", {})
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_4xx_are_never_retried(make_gateway: Any, server: TestServer, status: int) -> None:
    server.queue(Reply(status=status, body={"error": {"message": "no"}}))
    with pytest.raises(ProviderError):
        make_gateway(max_retries=3).create("chat/completions", {})
    assert len(server.requests) == 1


def test_retry_after_is_honoured_and_capped() -> None:
    gw = Gateway(account_id="a", api_key=API_KEY, retry_base_delay=0.5)
    t: Transport = gw.transport
    assert t._delay(0, 3.0) == 3.0
    assert t._delay(0, 10_000.0) == 60.0
    first, third = t._delay(0, None), t._delay(2, None)
    assert 0.375 <= first <= 0.5 and 1.5 <= third <= 2.0  # exponential with jitter
    assert t._delay(20, None) <= 8.0


def test_stream_retried_before_first_byte(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(status=500, body={"error": {"message": "x"}}),
                 Reply(chunks=sse({"choices": [{"delta": {"content": "hi"}}]})))
    with make_gateway(max_retries=1).stream("chat/completions", {"model": "m"}) as events:
        assert [e["choices"][0]["delta"]["content"] for e in events] == ["hi"]
    assert len(server.requests) == 2


def test_timeout(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(delay=1.0))
    with pytest.raises(GatewayTimeoutError):
        make_gateway(max_retries=0, timeout=0.2).create("chat/completions", {})


def test_per_call_timeout(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(delay=1.0))
    with pytest.raises(GatewayTimeoutError):
        make_gateway(max_retries=0, timeout=30).create("chat/completions", {}, timeout=0.2)


def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gw = Gateway(account_id="a", api_key=API_KEY, base_url=f"http://127.0.0.1:{port}/v1",
                 max_retries=1, retry_base_delay=0.001)
    with pytest.raises(GatewayConnectionError) as err:
        gw.create("chat/completions", {})
    assert API_KEY not in str(err.value)


def test_stream_info_before_first_event(make_gateway: Any, server: TestServer) -> None:
    headers = {"cf-aig-log-id": "01LOG", "cf-aig-cache-status": "MISS", "cf-aig-event-id": "ev",
               "cf-aig-request-id": "01LOG", "cf-aig-step": "0"}
    server.queue(Reply(chunks=sse({"a": 1}, {"a": 2}), headers=headers))
    stream = make_gateway().stream("chat/completions", {"model": "m"})
    assert stream.info.log_id == "01LOG" and stream.info.cache_status == "MISS" and stream.info.step == 0
    assert stream.info.to_dict() == {"log_id": "01LOG", "cache_status": "MISS", "event_id": "ev",
                                     "request_id": "01LOG", "step": 0}
    assert list(stream) == [{"a": 1}, {"a": 2}]


def test_stream_cut_off_mid_body(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=sse({"a": 1}, done=False), cut=True, headers={"cf-aig-log-id": "CUT"}))
    stream = make_gateway().stream("chat/completions", {})
    got = []
    with pytest.raises(StreamError) as err:
        for event in stream:
            got.append(event)
    assert got == [{"a": 1}]
    assert err.value.log_id == "CUT"


def test_stream_ending_without_done_is_an_error(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=sse({"a": 1}, done=False)))
    with pytest.raises(StreamError, match="terminal"):
        list(make_gateway().stream("chat/completions", {}))


def test_responses_terminal_event_completes_without_done(make_gateway: Any, server: TestServer) -> None:
    events = [{"type": "response.created"}, {"type": "response.completed", "response": {"status": "completed"}}]
    server.queue(Reply(chunks=sse(*events, done=False)))
    assert list(make_gateway().stream("responses", {})) == events


def test_garbage_bytes(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=[b"data: {\"a\":1}\n\n", b"data: \x00\xffnot json\n\n"]))
    with pytest.raises(StreamError, match="parse"):
        list(make_gateway().stream("chat/completions", {}))


def test_error_event_in_stream(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=sse({"error": {"message": "The server had an error", "type": "server_error"}})))
    with pytest.raises(StreamError, match="The server had an error"):
        list(make_gateway().stream("chat/completions", {}))


def test_events_split_across_reads(make_gateway: Any, server: TestServer) -> None:
    raw = b'data: {"x": "h\xc3\xa9llo"}\n\ndata: {"y": 2}\r\n\r\n: keep-alive\n\ndata: [DONE]\n\n'
    server.queue(Reply(chunks=[raw[i:i + 3] for i in range(0, len(raw), 3)]))
    assert list(make_gateway().stream("chat/completions", {})) == [{"x": "héllo"}, {"y": 2}]


async def test_async_stream_cut_off(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=sse({"a": 1}, done=False), cut=True))
    gw = make_gateway()
    with pytest.raises(StreamError):
        async for _ in gw.astream("chat/completions", {}):
            pass
    await gw.aclose()


async def test_async_retries_and_timeout(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(status=429, body=RATE, headers={"retry-after": "0"}))
    gw = make_gateway(max_retries=1)
    assert (await gw.acreate("chat/completions", {})).body == {"ok": True}
    assert len(server.requests) == 2
    server.queue(Reply(delay=1.0), Reply(delay=1.0))
    with pytest.raises(GatewayTimeoutError):
        await gw.acreate("chat/completions", {}, timeout=0.2)
    assert len(server.requests) == 3  # the timeout spent the whole deadline: no time for a retry
    await gw.aclose()


def test_async_calls_from_successive_event_loops(make_gateway: Any, server: TestServer) -> None:
    import asyncio

    gw = make_gateway()

    async def call() -> Any:
        return (await gw.acreate("chat/completions", {"model": "m"})).body

    # each asyncio.run has its own loop; the pool of a closed loop must not be reused
    assert asyncio.run(call()) == {"ok": True}
    assert asyncio.run(call()) == {"ok": True}
    assert len(server.requests) == 2
