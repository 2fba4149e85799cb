"""The async wire is chosen by ``transport`` / ``CF_AIG_TRANSPORT`` and behaves the same on both.

``"httpx"`` is the default; ``"aiohttp"`` (the ``fast`` extra) sends async calls through
aiohttp's C parser while sync calls stay on httpx. On a real loopback server both wires send
the same request bytes (headers, percent-encoded path, no cookies, no headers of their own) and
end every failure in the same ``GatewayError`` subclass: a refused connection or one closed
before a reply is a retried connection error, a stalled reply a timeout, oversized but legal
header blocks are read. The one documented difference: a reply whose headers arrive in the
same read as a malformed body is lost whole on aiohttp, and is then never sent again.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
from typing import Any

import httpx
import pytest

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
    assert isinstance(gw.transport.client._transport, httpx.HTTPTransport)  # sync: httpx
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


@needs_aiohttp
async def test_a_malformed_reply_on_aiohttp_is_not_sent_again(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(raw=b"HTTX/1.1 200 OK\r\n\r\n"), Reply(body={"ok": 1}))
    with pytest.raises(GatewayConnectionError, match="may have been answered"):
        await make_gateway(transport="aiohttp", max_retries=2).acreate("chat/completions", {})
    assert len(server.requests) == 1


@needs_aiohttp
def test_loop_shutdown_closes_the_aiohttp_session(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(transport="aiohttp")

    async def call() -> Any:
        async for _ in gw.astream("chat/completions", {}):
            pass
        return (await gw.acreate("chat/completions", {})).body

    for _ in range(3):
        server.queue(Reply(chunks=sse({"a": 1})), Reply(body={"ok": 1}))
        assert asyncio.run(call()) == {"ok": 1}
        assert server.wait_idle(2.0), "a connection of a finished event loop is still open"
