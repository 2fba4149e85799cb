"""``timeout`` is a deadline: for the whole call, retries and waits included, sync and async.

A server that trickles its reply a byte at a time, a stream that never completes an event and a
``Retry-After`` longer than the time left all end in a typed error instead of a call that lives
for as long as the server likes. Timeouts here are short (0.5 s) so the tests stay fast.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cf_ai_gateway import GatewayRateLimitError, GatewayTimeoutError, ProviderError

from .testserver import Reply, TestServer, sse

# Every async test runs on both async transports (httpx, and aiohttp where installed).
pytestmark = pytest.mark.usefixtures("wire")

REPLY = json.dumps({"id": "x", "text": "y" * 40}).encode()
RATE = {"error": [{"code": 2003, "message": "Rate limited"}], "name": "AiGatewayError", "success": False}
HEADERS_ONLY = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


def trickled_reply() -> Reply:
    """A complete, valid reply that takes ~12 s to arrive at 0.25 s a byte."""
    return Reply(body=REPLY, headers={"content-type": "application/json", "cf-aig-log-id": "SLOW"},
                 trickle=0.25)


def test_trickled_body_ends_at_the_deadline(make_gateway: Any, server: TestServer) -> None:
    server.queue(trickled_reply())
    with pytest.raises(GatewayTimeoutError) as err:
        make_gateway(timeout=0.5, max_retries=2).create("chat/completions", {"model": "m"})
    assert err.value.log_id == "SLOW"
    assert len(server.requests) == 1  # the reply had begun: never sent again


async def test_async_trickled_body_ends_at_the_deadline(make_gateway: Any, server: TestServer) -> None:
    server.queue(trickled_reply())
    gw = make_gateway(timeout=30, max_retries=2)
    with pytest.raises(GatewayTimeoutError):
        await gw.acreate("chat/completions", {"model": "m"}, timeout=0.5)
    assert len(server.requests) == 1
    await gw.aclose()


@pytest.mark.parametrize("stream", [False, True])
def test_trickled_status_line_ends_at_the_deadline(
    make_gateway: Any, server: TestServer, stream: bool
) -> None:
    server.queue(Reply(raw=HEADERS_ONLY, trickle=0.2), Reply(raw=HEADERS_ONLY, trickle=0.2))
    gw = make_gateway(timeout=0.5, max_retries=1)
    with pytest.raises(GatewayTimeoutError):
        if stream:
            list(gw.stream("chat/completions", {}))
        else:
            gw.create("chat/completions", {})
    assert len(server.requests) == 1  # no time was left for a retry


async def test_async_trickled_status_line_ends_at_the_deadline(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(raw=HEADERS_ONLY, trickle=0.2), Reply(raw=HEADERS_ONLY, trickle=0.2))
    gw = make_gateway(timeout=0.5, max_retries=1)
    with pytest.raises(GatewayTimeoutError):
        await gw.acreate("chat/completions", {})
    assert len(server.requests) == 1
    await gw.aclose()


def test_retries_count_against_the_deadline(make_gateway: Any, server: TestServer) -> None:
    server.queue(*[Reply(status=503, body={"error": {"message": "busy"}}, delay=0.3) for _ in range(6)])
    with pytest.raises((GatewayTimeoutError, ProviderError)):
        make_gateway(timeout=0.5, max_retries=5).create("chat/completions", {})
    assert len(server.requests) <= 2


@pytest.mark.parametrize("stream", [False, True])
def test_retry_after_beyond_the_deadline_raises_at_once(
    make_gateway: Any, server: TestServer, stream: bool
) -> None:
    server.queue(*[Reply(status=429, body=RATE, headers={"retry-after": "3"}) for _ in range(3)])
    gw = make_gateway(timeout=1.0, max_retries=2)
    with pytest.raises(GatewayRateLimitError) as err:
        if stream:
            gw.stream("chat/completions", {})
        else:
            gw.create("chat/completions", {})
    assert err.value.retry_after == 3.0
    assert len(server.requests) == 1


async def test_async_retry_after_beyond_the_deadline_raises_at_once(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(*[Reply(status=429, body=RATE, headers={"retry-after": "3"}) for _ in range(3)])
    gw = make_gateway(timeout=1.0, max_retries=2)
    with pytest.raises(GatewayRateLimitError) as err:
        await gw.acreate("chat/completions", {})
    assert err.value.retry_after == 3.0
    assert len(server.requests) == 1
    await gw.aclose()


def stalled_stream() -> Reply:
    """One event, then an event that trickles in for ~8 s without completing in time."""
    chunks = [*sse({"a": 1}, done=False), b'data: {"b": "' + b"z" * 30 + b'"}\n\n', b"data: [DONE]\n\n"]
    return Reply(chunks=chunks, trickle=0.2, trickle_after=1, headers={"cf-aig-log-id": "STALL"})


def test_stream_gap_between_events_is_bounded(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(timeout=0.5)
    # The gap counts time spent waiting on the server, not time the caller spends per event.
    server.queue(Reply(chunks=sse({"a": 1}, {"a": 2})))
    slow = []
    for event in gw.stream("chat/completions", {}):
        slow.append(event)
        time.sleep(0.6)
    assert slow == [{"a": 1}, {"a": 2}]
    server.queue(stalled_stream())
    got = []
    with pytest.raises(GatewayTimeoutError) as err:
        for event in gw.stream("chat/completions", {}):
            got.append(event)
    assert got == [{"a": 1}]
    assert err.value.log_id == "STALL"


async def test_async_stream_gap_between_events_is_bounded(make_gateway: Any, server: TestServer) -> None:
    server.queue(stalled_stream())
    gw = make_gateway(timeout=30)
    got = []
    with pytest.raises(GatewayTimeoutError):
        async for event in gw.astream("chat/completions", {}, timeout=0.5):
            got.append(event)
    assert got == [{"a": 1}]
    await gw.aclose()


HTTP_DATES = ["Wed, 21 Oct 2015 07:28:00 -0000", "Wed, 21 Oct 2015 07:28:00 +0000",
              "Wed, 21 Oct 2015 07:28:00 UTC", "Wed, 21 Oct 2015 07:28:00 GMT",
              "Wed, 21 Oct 2015 07:28:00"]


def test_retry_after_http_dates_in_every_zone_spelling(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(max_retries=1)
    for value in HTTP_DATES:  # a date in the past: retry at once
        server.reset()
        server.queue(Reply(status=429, body=RATE, headers={"retry-after": value}))
        assert gw.create("chat/completions", {}).body == {"ok": True}, value
        assert len(server.requests) == 2, value


def test_unusable_retry_after_is_ignored(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(max_retries=0)
    for value in ["Wed, 21 Oct 99999 07:28:00 GMT", "Wed, 21 Oct 2015 07:28:00 +9999",
                  "nan", "inf", "-5", "1e999", "soon"]:
        server.queue(Reply(status=429, body=RATE, headers={"retry-after": value}))
        with pytest.raises(GatewayRateLimitError) as err:
            gw.create("chat/completions", {})
        assert err.value.retry_after is None, value


def test_deadline_holds_with_the_users_own_http_client(make_gateway: Any, server: TestServer) -> None:
    """A client passed in keeps its own sockets; the deadline is then checked between reads."""
    import httpx

    user_client = httpx.Client(timeout=0.5)
    gw = make_gateway(http_client=user_client, max_retries=2)
    try:
        server.queue(trickled_reply())
        with pytest.raises(GatewayTimeoutError):
            gw.create("chat/completions", {"model": "m"})
        server.queue(trickled_reply())  # a buffered JSON answer to a stream request
        with pytest.raises(GatewayTimeoutError):
            list(gw.stream("chat/completions", {"model": "m"}))
        assert len(server.requests) == 2
    finally:
        user_client.close()
