"""The exact request line and header set of each auth mode, seen by a real loopback server."""

from __future__ import annotations

from typing import Any

import pytest

from cf_ai_gateway import ConfigurationError, GatewayOptions

from .conftest import ACCOUNT, API_KEY, TOKEN
from .testserver import Reply, TestServer, sse

# Every async test runs on both async transports (httpx, and aiohttp where installed).
pytestmark = pytest.mark.usefixtures("wire")

AIG_AUTH = f"Bearer {TOKEN}"
PROVIDER_AUTH = f"Bearer {API_KEY}"


def _auth_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k in ("authorization", "cf-aig-authorization")}


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"api_key": API_KEY, "cf_aig_token": TOKEN},
            {"authorization": PROVIDER_AUTH, "cf-aig-authorization": AIG_AUTH},
        ),
        ({"api_key": API_KEY}, {"authorization": PROVIDER_AUTH}),
        ({"cf_aig_token": TOKEN}, {"cf-aig-authorization": AIG_AUTH}),
        (
            {"api_key": API_KEY, "cf_aig_token": TOKEN, "auth_mode": "byok"},
            {"cf-aig-authorization": AIG_AUTH},
        ),
        (
            {"api_key": API_KEY, "cf_aig_token": TOKEN, "auth_mode": "unauthenticated"},
            {"authorization": PROVIDER_AUTH},
        ),
    ],
    ids=["authenticated", "unauthenticated", "byok", "byok-explicit", "unauthenticated-explicit"],
)
@pytest.mark.parametrize("endpoint", ["chat/completions", "responses"])
def test_auth_mode_header_sets(
    make_gateway: Any, server: TestServer, kwargs: dict[str, str], expected: dict[str, str], endpoint: str
) -> None:
    gw = make_gateway(gateway_id="my-gw", **kwargs)
    res = gw.create(endpoint, {"model": "gpt-4o-mini", "input": "hi"})
    assert res.status_code == 200 and res.body == {"ok": True}
    (req,) = server.requests
    assert req.method == "POST"
    assert req.path == f"/v1/{ACCOUNT}/my-gw/openai/{endpoint}"
    assert _auth_headers(req.headers) == expected
    assert req.headers["content-type"] == "application/json"
    assert not any(k.startswith("cf-aig-") and k != "cf-aig-authorization" for k in req.headers)
    assert req.json() == {"model": "gpt-4o-mini", "input": "hi"}


async def test_async_byok_sends_no_authorization(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(cf_aig_token=TOKEN)
    res = await gw.acreate("chat/completions", {"model": "m"})
    assert res.body == {"ok": True}
    assert _auth_headers(server.requests[0].headers) == {"cf-aig-authorization": AIG_AUTH}
    server.queue(Reply(chunks=sse({"id": "1", "choices": []})))
    async with gw.astream("chat/completions", {"model": "m"}) as events:
        got = [e async for e in events]
    assert got == [{"id": "1", "choices": []}]
    assert "authorization" not in server.requests[1].headers
    assert server.requests[1].json()["stream"] is True
    await gw.aclose()


def test_client_and_call_options_become_headers(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(gateway_options={"cache_ttl": 120, "metadata": {"app": "demo"}})
    gw.create("chat/completions", {"model": "m"})
    gw.create(
        "chat/completions", {"model": "m"},
        options=GatewayOptions(cache_ttl=600, skip_cache=True, event_id="e-1"),
    )
    first, second = (r.headers for r in server.requests)
    assert first["cf-aig-cache-ttl"] == "120" and first["cf-aig-metadata"] == '{"app":"demo"}'
    assert "cf-aig-skip-cache" not in first
    assert second["cf-aig-cache-ttl"] == "600"
    assert second["cf-aig-skip-cache"] == "true"
    assert second["cf-aig-event-id"] == "e-1"
    assert second["cf-aig-metadata"] == '{"app":"demo"}'


def test_bad_call_options_send_nothing(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()
    with pytest.raises(ConfigurationError, match="max_attempts"):
        gw.create("chat/completions", {"model": "m"}, options={"max_attempts": 9})
    with pytest.raises(ConfigurationError, match="cache_key"):
        gw.create("chat/completions", {"model": "m"}, options={"cache_key": "x\r\ny"})
    assert server.requests == []


def test_other_provider_paths(make_gateway: Any, server: TestServer) -> None:
    make_gateway(provider="groq", api_key=API_KEY).create("chat/completions", {})
    make_gateway(provider="workers-ai", api_key=API_KEY).create("chat/completions", {})
    make_gateway(provider="custom-acme", api_key=API_KEY).create("chat/completions", {})
    paths = [r.path for r in server.requests]
    assert paths == [
        f"/v1/{ACCOUNT}/default/groq/chat/completions",
        f"/v1/{ACCOUNT}/default/workers-ai/v1/chat/completions",
        f"/v1/{ACCOUNT}/default/custom-acme/v1/chat/completions",
    ]


def test_rest_surface_uses_cloudflare_api_token(make_gateway: Any, server: TestServer) -> None:
    rest_base = server.base_url.replace("/v1", "/client/v4")
    gw = make_gateway(base_url=rest_base, gateway_id="gw1", cf_api_token="cf-api-token-xyz123", api_key=None)
    assert gw.config.auth_mode == "rest"
    gw.create("chat/completions", {"model": "openai/gpt-4.1"})
    (req,) = server.requests
    assert req.path == f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"
    assert req.headers["authorization"] == "Bearer cf-api-token-xyz123"
    assert req.headers["cf-aig-gateway-id"] == "gw1"
    assert "cf-aig-authorization" not in req.headers
