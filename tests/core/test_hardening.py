"""Hardening: secrets scrubbed from stream errors, redirects refused, extra headers checked,
non-transient 429s not retried, invalid bodies and timeouts refused, one pool per event loop."""

from __future__ import annotations

import asyncio
import json
import pickle
from typing import Any

import pytest

from cf_ai_gateway import (
    ConfigurationError,
    Gateway,
    GatewayError,
    GatewayRateLimitError,
    ProviderError,
    StreamError,
)
from cf_ai_gateway.wire.types import ChatRequest, Message

from .conftest import API_KEY, TOKEN
from .testserver import Reply, TestServer, sse

# Every async test runs on both async transports (httpx, and aiohttp where installed).
pytestmark = pytest.mark.usefixtures("wire")

REQUEST = ChatRequest(model="m", messages=[Message(role="user", content="hi")])


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert API_KEY not in text and TOKEN not in text


def test_stream_error_event_is_scrubbed(make_gateway: Any, server: TestServer) -> None:
    event = {"error": {"message": f"invalid key {API_KEY} / Bearer {TOKEN}", "type": "auth"}}
    server.queue(Reply(chunks=sse(event)))
    gw = make_gateway(api_key=API_KEY, cf_aig_token=TOKEN)
    with pytest.raises(StreamError) as err:
        list(gw.stream("chat/completions", {}))
    e = err.value
    _no_secret(str(e), repr(e), json.dumps(e.body), str(pickle.dumps(e)))
    assert "invalid key" in str(e)


def test_failed_response_stream_is_scrubbed(make_gateway: Any, server: TestServer) -> None:
    failed = {"type": "response.failed", "response": {"id": "r", "status": "failed", "output": [],
              "error": {"code": "server_error", "message": f"bad {API_KEY}"}}}
    server.queue(Reply(chunks=sse(failed, done=False)))
    gw = make_gateway(api_key=API_KEY)
    with pytest.raises(ProviderError) as err, gw.chat_stream(REQUEST, api="responses") as stream:
        list(stream)
    _no_secret(str(err.value), json.dumps(err.value.body))


def test_redirects_are_not_followed(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(status=307, headers={"location": "http://127.0.0.2:9/steal"}, body=b""))
    gw = make_gateway(cf_aig_token=TOKEN)
    with pytest.raises(GatewayError, match="redirect"):
        gw.create("chat/completions", {})
    assert len(server.requests) == 1  # nothing was sent to the other address


def test_extra_headers_are_sent_and_checked(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(gateway_options={"cache_ttl": 120})
    gw.create("chat/completions", {}, extra_headers={"x-trace-id": "t-1"})
    sent = server.requests[0].headers
    assert sent["x-trace-id"] == "t-1" and sent["cf-aig-cache-ttl"] == "120"
    for bad in ({"Authorization": "Bearer x"}, {"cf-aig-authorization": "x"}, {"x-a": "b\r\nc: d"},
                {"bad name": "x"}, {"x-a": "caf\u00e9"}, {"Host": "evil"}, {"cf-aig-cache-ttl": "600"}):
        with pytest.raises(ConfigurationError, match="extra_headers"):
            gw.create("chat/completions", {}, extra_headers=bad)
    assert len(server.requests) == 1


@pytest.mark.parametrize("code", [2041, 2045, 2021])
def test_non_transient_limits_are_not_retried(make_gateway: Any, server: TestServer, code: int) -> None:
    status = 402 if code == 2021 else 429
    body = {"success": False, "result": [], "messages": [], "error": [{"code": code, "message": "limit"}],
            "name": "AiGatewayError", "internalCode": code}
    server.queue(Reply(status=status, body=body))
    with pytest.raises(GatewayError) as err:
        make_gateway(max_retries=3).create("chat/completions", {})
    assert err.value.code == code and len(server.requests) == 1
    if status == 429:
        assert isinstance(err.value, GatewayRateLimitError)


def test_invalid_json_body_is_refused_before_sending(make_gateway: Any, server: TestServer) -> None:
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        make_gateway().create("chat/completions", {"temperature": float("nan")})
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        make_gateway().create("chat/completions", {"x": object()})
    assert server.requests == []


@pytest.mark.parametrize("bad", ["10", -5, 0, True])
def test_bad_timeouts(bad: Any, make_gateway: Any, server: TestServer) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        Gateway(account_id="a", api_key=API_KEY, timeout=bad)
    with pytest.raises(ConfigurationError, match="timeout"):
        make_gateway().create("chat/completions", {}, timeout=bad)
    assert server.requests == []


@pytest.mark.parametrize(
    "kwargs",
    [{"api_key": 123}, {"base_url": 5}, {"base_url": "http://[::1"}, {"default_headers": 5},
     {"default_headers": {"x-a": "caf\u00e9"}}, {"http_client": "nope"}],
)
def test_bad_types_raise_configuration_errors(kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("api_key", API_KEY)
    with pytest.raises(ConfigurationError):
        Gateway(account_id="a", **kwargs)


def test_one_async_pool_per_live_event_loop(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()

    async def call() -> Any:
        return (await gw.acreate("chat/completions", {})).body

    for _ in range(5):
        assert asyncio.run(call()) == {"ok": True}
    assert len(gw.transport._aclients) == 1  # the closed loops' clients were dropped
