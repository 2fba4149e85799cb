"""A request that got a response is never sent again, and a broken reply is a typed error.

Once a 2xx response has begun, a body that breaks (cut connection, bad chunked encoding, corrupt
gzip) raises with the reply's log id instead of being retried: a retry would pay for a second
generation upstream. Error bodies are read up to a limit, and bytes that are not UTF-8 fail the
same way on streamed and non-streamed calls.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cf_ai_gateway import GatewayConnectionError, GatewayError, ProviderError, StreamError

from .testserver import Reply, TestServer, sse

# Every async test runs on both async transports (httpx, and aiohttp where installed).
pytestmark = pytest.mark.usefixtures("wire")

LOG = {"cf-aig-log-id": "ANSWERED"}
BAD_CHUNKED = (
    b"HTTP/1.1 200 OK\r\ncf-aig-log-id: ANSWERED\r\ncontent-type: application/json\r\n"
    b"transfer-encoding: chunked\r\n\r\n5\r\n{\"a\":\r\nzz-not-a-size\r\n"
)
BAD_CHUNKED_STREAM = BAD_CHUNKED.replace(b"application/json", b"text/event-stream").replace(
    b'5\r\n{"a":', b'b\r\ndata: {}\n\n\n'
)


def stream_faults() -> dict[str, Reply]:
    return {
        "cut": Reply(chunks=sse({"a": 1}, done=False), headers=LOG, cut=True),
        "bad-chunked": Reply(raw=BAD_CHUNKED_STREAM),
        "corrupt-gzip": Reply(chunks=[b"\x1f\x8b\x08\x00 garbage, not gzip"],
                              headers={**LOG, "content-encoding": "gzip"}),
    }


def broken_replies() -> dict[str, Reply]:
    return {
        "cut": Reply(body={"id": "x", "choices": []}, headers=LOG, cut=True),
        "bad-chunked": Reply(raw=BAD_CHUNKED),
        "corrupt-gzip": Reply(body=b"\x1f\x8b\x08\x00 this is not gzip at all",
                              headers={**LOG, "content-encoding": "gzip", "content-type": "application/json"}),
    }


@pytest.mark.parametrize("fault", ["cut", "bad-chunked", "corrupt-gzip"])
def test_broken_body_is_raised_not_retried(make_gateway: Any, server: TestServer, fault: str) -> None:
    server.queue(*[broken_replies()[fault] for _ in range(3)])
    gw = make_gateway(max_retries=2)
    with pytest.raises((StreamError, GatewayConnectionError)) as err:
        gw.create("chat/completions", {"model": "m"})
    assert err.value.log_id == "ANSWERED"
    assert len(server.requests) == 1
    server.reset()
    server.queue(*[stream_faults()[fault] for _ in range(3)])
    with pytest.raises(StreamError) as stream_err:
        list(gw.stream("chat/completions", {}))
    assert stream_err.value.log_id == "ANSWERED"
    assert len(server.requests) == 1


@pytest.mark.parametrize("fault", ["cut", "bad-chunked", "corrupt-gzip"])
async def test_async_broken_body_is_raised_not_retried(
    make_gateway: Any, server: TestServer, fault: str
) -> None:
    server.queue(*[broken_replies()[fault] for _ in range(3)])
    gw = make_gateway(max_retries=2)
    with pytest.raises((StreamError, GatewayConnectionError)) as err:
        await gw.acreate("chat/completions", {"model": "m"})
    assert err.value.log_id == "ANSWERED"
    assert len(server.requests) == 1
    server.reset()
    server.queue(*[stream_faults()[fault] for _ in range(3)])
    with pytest.raises(StreamError) as stream_err:
        async for _ in gw.astream("chat/completions", {}):
            pass
    assert stream_err.value.log_id == "ANSWERED"
    assert len(server.requests) == 1
    await gw.aclose()


def test_error_body_is_read_up_to_a_limit(make_gateway: Any, server: TestServer) -> None:
    huge = json.dumps({"error": {"message": "too long " + "x" * (3 << 20)}}).encode()
    server.queue(Reply(status=400, body=huge, headers={"content-type": "application/json"}))
    with pytest.raises(ProviderError) as err:
        make_gateway().create("chat/completions", {})
    assert len(repr(err.value.body)) < 1 << 20
    assert len(server.requests) == 1


async def test_async_error_body_is_read_up_to_a_limit(make_gateway: Any, server: TestServer) -> None:
    huge = json.dumps({"error": {"message": "x" * (3 << 20)}}).encode()
    server.queue(Reply(status=502, body=huge), Reply(status=502, body=huge))
    gw = make_gateway(max_retries=1)
    with pytest.raises(GatewayError) as err:
        await gw.acreate("chat/completions", {})
    assert len(repr(err.value.body)) < 1 << 20
    assert len(server.requests) == 2  # a 5xx is still retried
    await gw.aclose()


def test_invalid_utf8_fails_the_same_streamed_or_not(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()
    server.queue(Reply(body=b'{"id": "\xff\xfe"}', headers={**LOG, "content-type": "application/json"}))
    with pytest.raises(StreamError, match="UTF-8") as plain:
        gw.create("chat/completions", {})
    server.queue(Reply(chunks=[b'data: {"id": "\xff\xfe"}\n\n', b"data: [DONE]\n\n"], headers=LOG))
    with pytest.raises(StreamError, match="UTF-8") as streamed:
        list(gw.stream("chat/completions", {}))
    assert plain.value.log_id == streamed.value.log_id == "ANSWERED"


async def test_async_invalid_utf8_in_a_stream(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=[*sse({"a": 1}, done=False), b'data: {"id": "\xc3("}\n\n']))
    gw = make_gateway()
    with pytest.raises(StreamError, match="UTF-8"):
        async for _ in gw.astream("chat/completions", {}):
            pass
    await gw.aclose()
