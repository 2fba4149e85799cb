"""`Gateway.openai_client()` / `async_openai_client()`: official OpenAI SDK clients on the gateway.

Every test talks HTTP to the loopback test server and asserts what reached the wire: the route,
the auth headers of each mode (no `Authorization` at all in byok mode, never the SDK's
placeholder key), client-level options as default headers, per-request options through
`extra_headers`, the SDK's own retries set from the Gateway, and `GatewayInfo` read back from a
raw response.
"""

from __future__ import annotations

from typing import Any

import pytest

openai = pytest.importorskip("openai")

from cf_ai_gateway import ConfigurationError, GatewayAuthenticationError, GatewayOptions  # noqa: E402
from cf_ai_gateway.openai_client import (  # noqa: E402
    PLACEHOLDER_API_KEY,
    gateway_error,
    gateway_headers,
    gateway_info,
    recent_gateway_info,
)

from .conftest import ACCOUNT, API_KEY, TOKEN  # noqa: E402
from .testserver import Reply, TestServer, sse  # noqa: E402

CF_API_TOKEN = "cf-api-token-0123456789abcdef"
GATEWAY_HEADERS = {
    "cf-aig-log-id": "01JADMCQQQBWH3NXZ5GCRN98DP",
    "cf-aig-cache-status": "MISS",
    "cf-aig-event-id": "evt-7",
    "cf-aig-step": "0",
}


def completion(text: str = "hello") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
    }


def chunk(content: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": content} if content is not None else {}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


MESSAGES = [{"role": "user", "content": "hi"}]


# -- routing and auth ------------------------------------------------------------------------


def test_sync_client_routes_to_gateway_with_authenticated_headers(
    make_gateway: Any, server: TestServer
) -> None:
    gw = make_gateway(api_key=API_KEY, cf_aig_token=TOKEN, gateway_id="gw-1")
    server.queue(Reply(body=completion("hi there"), headers=GATEWAY_HEADERS))
    with gw.openai_client() as client:
        assert isinstance(client, openai.OpenAI)
        assert str(client.base_url).rstrip("/") == gw.config.provider_base_url
        out = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert out.choices[0].message.content == "hi there"
    (req,) = server.requests
    assert req.method == "POST"
    assert req.path == f"/v1/{ACCOUNT}/gw-1/openai/chat/completions"
    assert req.headers["authorization"] == f"Bearer {API_KEY}"
    assert req.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert req.json()["model"] == "gpt-4o-mini"


def test_unauthenticated_mode_sends_only_the_provider_key(
    make_gateway: Any, server: TestServer
) -> None:
    gw = make_gateway(api_key=API_KEY)
    server.queue(Reply(body=completion()))
    with gw.openai_client() as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (req,) = server.requests
    assert req.headers["authorization"] == f"Bearer {API_KEY}"
    assert "cf-aig-authorization" not in req.headers


def test_byok_mode_sends_no_authorization_header(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(cf_aig_token=TOKEN, auth_mode="byok")
    server.queue(Reply(body=completion()))
    with gw.openai_client() as client:
        assert client.api_key == PLACEHOLDER_API_KEY
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (req,) = server.requests
    assert "authorization" not in req.headers
    assert req.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert PLACEHOLDER_API_KEY not in str(req.headers)


def test_unified_billing_alias_behaves_as_byok(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(cf_aig_token=TOKEN, api_key=API_KEY, auth_mode="unified_billing")
    server.queue(Reply(body=completion()))
    with gw.openai_client() as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (req,) = server.requests
    assert "authorization" not in req.headers
    assert API_KEY not in str(req.headers)


def test_rest_surface_client(make_gateway: Any, server: TestServer) -> None:
    rest_base = server.base_url.replace("/v1", "/client/v4")
    gw = make_gateway(base_url=rest_base, gateway_id="gw-2", cf_api_token=CF_API_TOKEN, api_key=None)
    server.queue(Reply(body=completion()))
    with gw.openai_client() as client:
        client.chat.completions.create(model="openai/gpt-4.1", messages=MESSAGES)
    (req,) = server.requests
    assert req.path == f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"
    assert req.headers["authorization"] == f"Bearer {CF_API_TOKEN}"
    assert req.headers["cf-aig-gateway-id"] == "gw-2"
    assert "cf-aig-authorization" not in req.headers


def test_responses_endpoint_through_the_sdk(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()
    body = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-4o-mini",
        "status": "completed",
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "pong", "annotations": []}],
            }
        ],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    server.queue(Reply(body=body))
    with gw.openai_client() as client:
        out = client.responses.create(model="gpt-4o-mini", input="ping")
    assert out.output_text == "pong"
    assert server.requests[0].path == f"/v1/{ACCOUNT}/default/openai/responses"


# -- options ---------------------------------------------------------------------------------


def test_client_options_are_default_headers_and_calls_override_them(
    make_gateway: Any, server: TestServer
) -> None:
    gw = make_gateway(gateway_options={"cache_ttl": 120, "metadata": {"app": "demo"}})
    server.queue(Reply(body=completion()), Reply(body=completion()))
    with gw.openai_client() as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            extra_headers=gateway_headers(cache_ttl=600, skip_cache=True, event_id="e-1"),
        )
    first, second = (r.headers for r in server.requests)
    assert first["cf-aig-cache-ttl"] == "120"
    assert first["cf-aig-metadata"] == '{"app":"demo"}'
    assert "cf-aig-skip-cache" not in first
    assert second["cf-aig-cache-ttl"] == "600"
    assert second["cf-aig-skip-cache"] == "true"
    assert second["cf-aig-event-id"] == "e-1"
    assert second["cf-aig-metadata"] == '{"app":"demo"}'


def test_gateway_headers_helper_checks_and_merges() -> None:
    base = GatewayOptions(cache_ttl=300, collect_log=False)
    assert gateway_headers(base, cache_ttl=900) == {
        "cf-aig-cache-ttl": "900",
        "cf-aig-collect-log": "false",
    }
    assert gateway_headers({"max_attempts": 3}) == {"cf-aig-max-attempts": "3"}
    assert gateway_headers() == {}
    with pytest.raises(ConfigurationError, match="max_attempts"):
        gateway_headers(max_attempts=9)
    with pytest.raises(ConfigurationError, match="metadata"):
        gateway_headers(metadata={"nested": {"no": 1}})


def test_default_headers_from_config_and_kwargs(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(default_headers={"x-team": "ml"})
    server.queue(Reply(body=completion()))
    with gw.openai_client(default_headers={"x-trace": "t-1"}) as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    headers = server.requests[0].headers
    assert headers["x-team"] == "ml" and headers["x-trace"] == "t-1"


# -- gateway info, errors, retries -----------------------------------------------------------


def test_gateway_info_from_raw_response(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()
    server.queue(Reply(body=completion(), headers=GATEWAY_HEADERS))
    with gw.openai_client() as client:
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES)
        info = gateway_info(raw)
        assert raw.parse().choices[0].message.content == "hello"
    assert info.log_id == "01JADMCQQQBWH3NXZ5GCRN98DP"
    assert info.cache_status == "MISS" and not info.cached
    assert info.event_id == "evt-7" and info.step == 0
    assert info.status_code == 200


def test_client_remembers_the_info_of_its_latest_responses(
    make_gateway: Any, server: TestServer
) -> None:
    gw = make_gateway()
    server.queue(
        Reply(body=completion(), headers={"cf-aig-log-id": "LOG-1"}),
        Reply(status=400, body={"error": {"message": "bad"}}, headers={"cf-aig-log-id": "LOG-2"}),
    )
    with gw.openai_client(max_retries=0) as client:
        with pytest.raises(LookupError):
            gateway_info(client)
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        assert gateway_info(client).log_id == "LOG-1"
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        infos = recent_gateway_info(client)
    assert [(i.log_id, i.status_code) for i in infos] == [("LOG-1", 200), ("LOG-2", 400)]
    assert recent_gateway_info(client._client)[-1].log_id == "LOG-2"
    with pytest.raises(TypeError):
        recent_gateway_info(object())


def test_gateway_info_from_a_stream(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()
    server.queue(
        Reply(chunks=sse(chunk("a"), chunk("b"), chunk(None, "stop")), headers=GATEWAY_HEADERS)
    )
    with gw.openai_client() as client:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        assert gateway_info(stream).log_id == GATEWAY_HEADERS["cf-aig-log-id"]
        text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert text == "ab"
    assert server.requests[0].json()["stream"] is True
    with pytest.raises(TypeError):
        gateway_info(object())


def test_gateway_401_becomes_typed_error(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(cf_aig_token="wrong-token-123456", auth_mode="byok")
    envelope = {
        "success": False,
        "result": [],
        "messages": [],
        "error": [{"code": 2009, "message": "Unauthorized"}],
        "name": "AiGatewayError",
        "httpCode": 401,
        "internalCode": 2009,
    }
    server.queue(Reply(status=401, body=envelope, headers={"cf-aig-log-id": "L401"}))
    with gw.openai_client(max_retries=0) as client, pytest.raises(
        openai.AuthenticationError
    ) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    error = gateway_error(caught.value)
    assert isinstance(error, GatewayAuthenticationError)
    assert error.code == 2009 and error.status_code == 401 and error.log_id == "L401"
    assert gateway_info(caught.value).log_id == "L401"
    assert "wrong-token-123456" not in str(error) + repr(error)


def test_sdk_retries_follow_the_gateway_setting(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(max_retries=1, timeout=7.5)
    busy = Reply(status=503, body={"error": {"message": "busy"}}, headers={"retry-after-ms": "1"})
    server.queue(busy, busy, busy)
    with gw.openai_client() as client:
        assert client.max_retries == 1
        assert client.timeout == gw.transport.timeout
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(server.requests) == 2
    server.reset()
    server.queue(busy, Reply(body=completion("second try")))
    with gw.openai_client() as client:
        out = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert out.choices[0].message.content == "second try"
    assert len(server.requests) == 2
    assert server.requests[1].headers["x-stainless-retry-count"] == "1"


def test_arguments_owned_by_the_gateway_are_refused(make_gateway: Any) -> None:
    gw = make_gateway()
    with pytest.raises(ConfigurationError, match="api_key"):
        gw.openai_client(api_key="sk-other")
    with pytest.raises(ConfigurationError, match="base_url"):
        gw.async_openai_client(base_url="https://api.openai.com/v1")
    import httpx

    with pytest.raises(ConfigurationError, match="auth"):
        gw.openai_client(http_client=httpx.Client(auth=("u", "p")))
    with pytest.raises(ConfigurationError, match="AsyncClient"):
        gw.async_openai_client(http_client=httpx.Client())


def test_own_http_client_gets_the_gateway_auth(make_gateway: Any, server: TestServer) -> None:
    import httpx

    gw = make_gateway(cf_aig_token=TOKEN, auth_mode="byok")
    server.queue(Reply(body=completion()))
    with gw.openai_client(http_client=httpx.Client(headers={"x-proxy": "1"})) as client:
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    headers = server.requests[0].headers
    assert headers["x-proxy"] == "1"
    assert "authorization" not in headers and headers["cf-aig-authorization"] == f"Bearer {TOKEN}"


def test_secrets_stay_out_of_client_reprs(make_gateway: Any) -> None:
    gw = make_gateway(api_key=API_KEY, cf_aig_token=TOKEN)
    client = gw.openai_client()
    try:
        text = repr(client) + repr(client._client) + repr(client._client.auth) + str(vars(client))
        assert API_KEY not in text and TOKEN not in text
    finally:
        client.close()


# -- async -----------------------------------------------------------------------------------


async def test_async_client_calls_and_streams(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(cf_aig_token=TOKEN, auth_mode="byok", gateway_options={"cache_ttl": 60})
    server.queue(
        Reply(body=completion("async"), headers=GATEWAY_HEADERS),
        Reply(chunks=sse(chunk("x"), chunk("y"), chunk(None, "stop"))),
    )
    async with gw.async_openai_client() as client:
        assert isinstance(client, openai.AsyncOpenAI)
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES, extra_headers=gateway_headers(cache_ttl=90)
        )
        assert gateway_info(raw).log_id == GATEWAY_HEADERS["cf-aig-log-id"]
        assert raw.parse().choices[0].message.content == "async"
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
    assert text == "xy"
    first, second = (r.headers for r in server.requests)
    for headers in (first, second):
        assert "authorization" not in headers
        assert headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert first["cf-aig-cache-ttl"] == "90" and second["cf-aig-cache-ttl"] == "60"


# -- the entry point ---------------------------------------------------------------------------


def test_load_adapter_openai_reads_the_environment(
    server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cf_ai_gateway import load_adapter

    monkeypatch.setenv("CF_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("CF_AIG_GATEWAY_ID", "env-gw")
    monkeypatch.setenv("CF_AIG_BASE_URL", server.base_url)
    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN)
    monkeypatch.setenv("CF_AIG_CACHE_TTL", "300")
    server.queue(Reply(body=completion()))
    client = load_adapter("openai", max_retries=0, gateway_options={"event_id": "from-arg"})
    with client:
        assert isinstance(client, openai.OpenAI) and client.max_retries == 0
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (req,) = server.requests
    assert req.path == f"/v1/{ACCOUNT}/env-gw/openai/chat/completions"
    assert "authorization" not in req.headers
    assert req.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert req.headers["cf-aig-cache-ttl"] == "300"
    assert req.headers["cf-aig-event-id"] == "from-arg"


def test_load_adapter_openai_async_and_bad_arguments(
    server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cf_ai_gateway import load_adapter

    monkeypatch.setenv("CF_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    client = load_adapter("openai", async_client=True, base_url=server.base_url, organization="org-1")
    assert isinstance(client, openai.AsyncOpenAI)
    assert client.organization == "org-1"
    assert str(client.base_url).rstrip("/") == f"{server.base_url}/{ACCOUNT}/default/openai"
    with pytest.raises(ConfigurationError, match="model"):
        load_adapter("openai", model="gpt-4o-mini")
    with pytest.raises(ConfigurationError, match="cache_ttl"):
        load_adapter("openai", gateway_options={"cache_ttl": 5})
    monkeypatch.delenv("OPENAI_API_KEY")
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        load_adapter("openai")
    assert server.requests == []
