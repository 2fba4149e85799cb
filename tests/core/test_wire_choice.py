"""The async wire is chosen by ``transport`` / ``CF_AIG_TRANSPORT`` and behaves the same on both.

``"auto"`` (the default) is aiohttp when the ``fast`` extra (aiohttp and orjson) is installed,
else httpx; ``"aiohttp"`` sends async calls through aiohttp's C parser and sync calls through
the core's socket transport. On a real loopback server both wires send the same request bytes (headers, path, body,
no cookies, no headers of their own) and end every failure in the same ``GatewayError``
subclass: a refused connection or one closed before a reply is a retried connection error, a
stalled reply a timeout, a malformed status line a retried connection error, a body that breaks
after headers sent in the same read an error with their log id; oversized but legal header
blocks are read. aiohttp's protocol is fed each read cut after every header terminator, which
a property test checks on arbitrary reads.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway import ConfigurationError, Gateway, GatewayConnectionError, GatewayTimeoutError

from .conftest import API_KEY
from .testserver import Reply, TestServer, sse

pytestmark = pytest.mark.usefixtures("wire")
needs_aiohttp = pytest.mark.skipif(
    importlib.util.find_spec("aiohttp") is None, reason="aiohttp (the fast extra) is missing"
)


@pytest.mark.parametrize("value", ["curl", "", 3])
def test_an_unknown_transport_is_refused(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="transport"):
        Gateway(account_id="a", api_key=API_KEY, transport=value)


def test_an_unknown_transport_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CF_AIG_TRANSPORT", "curl")
    with pytest.raises(ConfigurationError, match="CF_AIG_TRANSPORT"):
        Gateway(account_id="a", api_key=API_KEY)


def test_aiohttp_needs_aiohttp(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "aiohttp" else real(name, *a)
    )
    with pytest.raises(ConfigurationError, match=r"cf-ai-gateway\[fast\]"):
        Gateway(account_id="a", api_key=API_KEY, transport="aiohttp")


async def test_the_async_client_is_on_the_chosen_wire(make_gateway: Any, wire: str) -> None:
    gw = make_gateway()
    assert gw.transport.wire == wire
    transport = gw.transport.aclient._transport
    on_aiohttp = type(transport).__name__ == "AiohttpTransport"
    assert on_aiohttp is (wire == "aiohttp")
    sync = gw.transport.client._transport
    assert type(sync).__name__ == ("SocketTransport" if wire == "aiohttp" else "HTTPTransport")
    assert make_gateway(transport="httpx").transport.wire == "httpx"  # the argument wins


async def test_both_wires_send_the_same_request(make_gateway: Any, server: TestServer) -> None:
    sent = []
    for wire in ["httpx", *(["aiohttp"] if importlib.util.find_spec("aiohttp") else [])]:
        gw = make_gateway(transport=wire)
        server.reset()
        server.queue(Reply(body={"ok": 1}, headers={"set-cookie": "session=abc; Path=/"}))
        server.queue(Reply(body={"ok": 2}))
        await gw.acreate("chat/completions", {"model": "m ü"}, extra_headers={"x-a": "1"})
        await gw.acreate("models/a.b:c@d-e_f", {"model": "m"})
        sent.append([(r.method, r.path, r.headers, r.body) for r in server.requests])
        assert all("cookie" not in r.headers for r in server.requests)
        await gw.aclose()
    for request in sent[1:]:
        assert [(m, p, sorted(h.items()), b) for m, p, h, b in request] == [
            (m, p, sorted(h.items()), b) for m, p, h, b in sent[0]
        ]


async def test_sequential_calls_share_one_connection(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()
    await gw.acreate("chat/completions", {})  # opens the connection
    before = server.accepted
    for _ in range(3):
        server.queue(Reply(body={"ok": 1}), Reply(chunks=sse({"a": 1})))
        assert (await gw.acreate("chat/completions", {})).body == {"ok": 1}
        assert [e async for e in gw.astream("chat/completions", {})] == [{"a": 1}]
    assert server.accepted == before
    await gw.aclose()


async def test_large_header_blocks_are_read(make_gateway: Any, server: TestServer) -> None:
    many = {f"x-h{i}": "1" for i in range(300)}
    server.queue(Reply(body={"ok": 1}, headers={"x-big": "v" * 20_000, **many}))
    reply = await make_gateway().acreate("chat/completions", {})
    assert reply.body == {"ok": 1} and len(reply.headers["x-big"]) == 20_000


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_refused_connection_is_a_retried_connection_error(make_gateway: Any) -> None:
    gw = make_gateway(base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_retries=1)
    with pytest.raises(GatewayConnectionError) as err:
        await gw.acreate("chat/completions", {})
    assert not isinstance(err.value, GatewayTimeoutError)
    assert "ConnectError" in str(err.value)


async def test_a_connection_closed_before_a_reply_is_retried(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(raw=b""), Reply(body={"ok": 1}))
    assert (await make_gateway(max_retries=1).acreate("chat/completions", {})).body == {"ok": 1}
    assert len(server.requests) == 2


async def test_a_stalled_reply_is_a_timeout(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=sse({"a": 1}, {"a": 2}), trickle_after=1, trickle=0.2))
    gw = make_gateway(timeout=0.3, max_retries=0)
    with pytest.raises(GatewayTimeoutError):
        async for _ in gw.astream("chat/completions", {}):
            pass


async def test_a_malformed_status_line_is_retried(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(raw=b"HTTX/1.1 200 OK\r\n\r\n"), Reply(body={"ok": 1}))
    assert (await make_gateway(max_retries=1).acreate("chat/completions", {})).body == {"ok": 1}
    assert len(server.requests) == 2


BROKEN_AFTER_HEADERS = (
    b"HTTP/1.1 200 OK\r\ncf-aig-log-id: ANSWERED\r\ncontent-type: application/json\r\n"
    b'transfer-encoding: chunked\r\n\r\n5\r\n{"a":\r\nzz-not-a-size\r\n'
)
INTERIM_THEN_BROKEN = b"HTTP/1.1 100 Continue\r\n\r\n" + BROKEN_AFTER_HEADERS


@pytest.mark.parametrize("raw", [BROKEN_AFTER_HEADERS, INTERIM_THEN_BROKEN], ids=["200", "100+200"])
@pytest.mark.parametrize("trickle", [0.0, 0.001], ids=["one-read", "byte-by-byte"])
async def test_a_body_broken_after_its_headers_keeps_their_log_id(
    make_gateway: Any, server: TestServer, raw: bytes, trickle: float
) -> None:
    server.queue(*[Reply(raw=raw, trickle=trickle) for _ in range(3)])
    with pytest.raises(GatewayConnectionError) as err:
        await make_gateway(max_retries=2).acreate("chat/completions", {})
    assert err.value.log_id == "ANSWERED"
    assert len(server.requests) == 1


def test_auto_is_aiohttp_only_with_the_whole_fast_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from cf_ai_gateway import config

    monkeypatch.delenv("CF_AIG_TRANSPORT")
    real = importlib.util.find_spec
    for missing, expected in [((), "aiohttp"), (("orjson",), "httpx"), (("aiohttp",), "httpx")]:
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a, gone=missing: None if name in gone else real(name, *a),
        )
        config._fast_extra_installed.cache_clear()
        try:
            assert Gateway(account_id="a", api_key=API_KEY).transport.wire == expected
            assert (
                Gateway(account_id="a", api_key=API_KEY, transport="auto").transport.wire
                == expected
            )
        finally:
            config._fast_extra_installed.cache_clear()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([b"\r", b"\n", b"x", b"\r\n", b"\r\n\r\n"]), max_size=12).map(
            b"".join
        ),
        max_size=8,
    )
)
def test_each_read_is_cut_after_every_header_terminator(reads: list[bytes]) -> None:
    pytest.importorskip("aiohttp")
    from aiohttp.client_proto import ResponseHandler

    from cf_ai_gateway.aiohttp_transport import _HeadersFirst

    pieces: list[bytes] = []
    protocol = _HeadersFirst.__new__(_HeadersFirst)
    original = ResponseHandler.data_received
    ResponseHandler.data_received = lambda self, data: pieces.append(bytes(data))  # type: ignore[method-assign]
    try:
        for read in reads:
            protocol.data_received(read)
    finally:
        ResponseHandler.data_received = original  # type: ignore[method-assign]
    stream = b"".join(reads)
    assert b"".join(pieces) == stream
    bounds, at = set(), 0
    for piece in pieces:
        at += len(piece)
        bounds.add(at)
    # Every header terminator, found left to right as a parser meets them, ends a piece.
    at = stream.find(b"\r\n\r\n")
    while at >= 0:
        assert at + 4 in bounds
        at = stream.find(b"\r\n\r\n", at + 4)


@needs_aiohttp
def test_loop_shutdown_closes_the_aiohttp_session(make_gateway: Any) -> None:
    # A server of its own: connections other tests leave to the garbage collector don't count.
    server = TestServer().start()
    try:
        gw = make_gateway(transport="aiohttp", base_url=server.base_url)

        async def call() -> Any:
            async for _ in gw.astream("chat/completions", {}):
                pass
            return (await gw.acreate("chat/completions", {})).body

        for _ in range(3):
            server.queue(Reply(chunks=sse({"a": 1})), Reply(body={"ok": 1}))
            assert asyncio.run(call()) == {"ok": 1}
            assert server.wait_idle(2.0), "a connection of a finished event loop is still open"
    finally:
        server.stop()
