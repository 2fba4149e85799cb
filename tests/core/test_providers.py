"""OpenAI-wire providers beyond OpenAI, the compat endpoint and the REST surface, on the wire.

Each case sends a real request to the loopback server, through the raw `create`, the neutral
`chat` and an OpenAI SDK client built by the Gateway, and asserts the path Cloudflare documents
for that provider (reference §1.2: the provider slug, plus `v1/` only where the provider's page
puts it), and the header set each surface needs.
"""

from __future__ import annotations

from typing import Any

import pytest

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.wire.types import ChatRequest, Message

from .conftest import ACCOUNT, API_KEY, TOKEN
from .testserver import Reply, TestServer

CF_API_TOKEN = "cf-api-token-0123456789abcdef"

# provider slug -> the documented chat/completions path after /{account}/{gateway}/
DOCUMENTED_CHAT_PATHS = {
    "openai": "openai/chat/completions",
    "groq": "groq/chat/completions",
    "mistral": "mistral/v1/chat/completions",
    "deepseek": "deepseek/chat/completions",
    "grok": "grok/chat/completions",
    "workers-ai": "workers-ai/v1/chat/completions",
    "openrouter": "openrouter/chat/completions",
    "perplexity-ai": "perplexity-ai/chat/completions",
    "cerebras": "cerebras/chat/completions",
    "baseten": "baseten/v1/chat/completions",
    "custom-acme-llm": "custom-acme-llm/v1/chat/completions",
    "compat": "compat/chat/completions",
}

COMPLETION = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
}


@pytest.mark.parametrize("provider", sorted(DOCUMENTED_CHAT_PATHS))
def test_documented_paths_for_raw_sdk_and_neutral_calls(
    provider: str, make_gateway: Any, server: TestServer
) -> None:
    gw = make_gateway(provider=provider, api_key=API_KEY, cf_aig_token=TOKEN, gateway_id="gw")
    expected = f"/v1/{ACCOUNT}/gw/{DOCUMENTED_CHAT_PATHS[provider]}"
    model = "openai/gpt-4o-mini" if provider == "compat" else "some-model"
    server.queue(Reply(body=COMPLETION), Reply(body=COMPLETION), Reply(body=COMPLETION))

    gw.create("chat/completions", {"model": model, "messages": []})
    result = gw.chat(ChatRequest(model=model, messages=[Message(role="user", content="hi")]))
    assert result.text == "ok"
    with gw.openai_client() as client:
        client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])

    assert [r.path for r in server.requests] == [expected] * 3
    for req in server.requests:
        assert req.headers["authorization"] == f"Bearer {API_KEY}"
        assert req.headers["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert gw.url("chat/completions").endswith(DOCUMENTED_CHAT_PATHS[provider])


def test_provider_base_url_is_what_an_sdk_takes(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(provider="mistral")
    assert gw.config.provider_base_url == f"{server.base_url}/{ACCOUNT}/default/mistral/v1"
    gw = make_gateway(provider="grok")
    assert gw.config.provider_base_url == f"{server.base_url}/{ACCOUNT}/default/grok"
    gw = make_gateway(provider="compat")
    assert gw.config.provider_base_url == f"{server.base_url}/{ACCOUNT}/default/compat"


def test_workers_ai_other_paths_and_embeddings(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(provider="workers-ai")
    gw.create("embeddings", {"model": "@cf/baai/bge-base-en-v1.5", "input": "x"})
    assert server.requests[0].path == f"/v1/{ACCOUNT}/default/workers-ai/v1/embeddings"


def test_provider_key_environment_variables(
    make_gateway: Any, server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cf_ai_gateway import Gateway

    for provider, env_name in (
        ("groq", "GROQ_API_KEY"),
        ("mistral", "MISTRAL_API_KEY"),
        ("deepseek", "DEEPSEEK_API_KEY"),
        ("grok", "XAI_API_KEY"),
        ("openrouter", "OPENROUTER_API_KEY"),
    ):
        monkeypatch.setenv(env_name, f"key-for-{provider}-123")
        gw = Gateway(account_id=ACCOUNT, base_url=server.base_url, provider=provider)
        gw.create("chat/completions", {"model": "m"})
        gw.close()
        assert server.requests[-1].headers["authorization"] == f"Bearer key-for-{provider}-123"
        monkeypatch.delenv(env_name)
        with pytest.raises(ConfigurationError, match=env_name):
            Gateway(account_id=ACCOUNT, base_url=server.base_url, provider=provider)


@pytest.mark.parametrize("model", ["gpt-4o-mini", "openai/", "/gpt-4o-mini", ""])
def test_compat_needs_provider_prefixed_models(
    model: str, make_gateway: Any, server: TestServer
) -> None:
    gw = make_gateway(provider="compat")
    with pytest.raises(ConfigurationError, match="model"):
        gw.chat(ChatRequest(model=model, messages=[Message(role="user", content="hi")]))
    assert server.requests == []


def test_compat_accepts_namespaced_models(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(provider="compat", cf_aig_token=TOKEN, auth_mode="byok")
    models = [
        "workers-ai/@cf/meta/llama-3.1-8b-instruct",
        "dynamic/support",
        "custom-acme/model-1",
        "google-ai-studio/gemini-2.5-flash",
    ]
    for model in models:
        server.queue(Reply(body=COMPLETION))
        gw.chat(ChatRequest(model=model, messages=[Message(role="user", content="hi")]))
    assert [r.json()["model"] for r in server.requests] == models
    assert all(r.path == f"/v1/{ACCOUNT}/default/compat/chat/completions" for r in server.requests)
    assert all("authorization" not in r.headers for r in server.requests)


@pytest.mark.parametrize("endpoint", ["chat/completions", "responses"])
def test_rest_surface_shape_and_headers(
    endpoint: str, make_gateway: Any, server: TestServer
) -> None:
    rest_base = server.base_url.replace("/v1", "/client/v4")
    gw = make_gateway(
        base_url=rest_base, gateway_id="my-gw", cf_api_token=CF_API_TOKEN, api_key=None,
        gateway_options={"cache_ttl": 300, "max_attempts": 2},
    )
    gw.create(endpoint, {"model": "openai/gpt-4.1"})
    (req,) = server.requests
    assert req.path == f"/client/v4/accounts/{ACCOUNT}/ai/v1/{endpoint}"
    assert req.headers["authorization"] == f"Bearer {CF_API_TOKEN}"
    assert req.headers["cf-aig-gateway-id"] == "my-gw"
    assert req.headers["cf-aig-cache-ttl"] == "300" and req.headers["cf-aig-max-attempts"] == "2"
    assert "cf-aig-authorization" not in req.headers
    assert API_KEY not in str(req.headers)


def test_rest_surface_chosen_explicitly(make_gateway: Any, server: TestServer) -> None:
    api_base = server.base_url.replace("/v1", "/client/v4")
    gw = make_gateway(
        surface="rest", base_url=None, api_base_url=api_base, cf_api_token=CF_API_TOKEN, api_key=None
    )
    assert gw.config.auth_mode == "rest"
    assert gw.config.provider_base_url == f"{api_base}/accounts/{ACCOUNT}/ai/v1"
    with gw.openai_client() as client:
        server.queue(Reply(body=COMPLETION))
        client.chat.completions.create(model="@cf/meta/llama-3.1-8b-instruct", messages=[])
    (req,) = server.requests
    assert req.path == f"/client/v4/accounts/{ACCOUNT}/ai/v1/chat/completions"
    assert req.headers["cf-aig-gateway-id"] == "default"


def test_rest_surface_needs_a_cloudflare_api_token(make_gateway: Any) -> None:
    with pytest.raises(ConfigurationError, match="CF_API_TOKEN"):
        make_gateway(surface="rest", api_key=API_KEY)


@pytest.mark.parametrize("provider", ["../openai", "open ai", "openai?x=1", "OpenAI", "groq/x"])
def test_provider_slugs_cannot_change_the_url(provider: str, make_gateway: Any) -> None:
    with pytest.raises(ConfigurationError, match="provider"):
        make_gateway(provider=provider)
