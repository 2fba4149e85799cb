"""The four credential forms of Cloudflare's OpenAI provider page, against the emulator.

Source: https://developers.cloudflare.com/ai-gateway/usage/providers/openai/ (last updated
2026-04-20). Its SDK examples are configured here exactly as the page shows them, with the plain
``openai`` SDK: a provider key plus ``cf-aig-authorization`` (authenticated gateway), a provider
key alone (unauthenticated gateway), and "With Stored Keys (BYOK) / Unified Billing", whose
``apiKey`` is the Cloudflare token and which sends no ``cf-aig-authorization``. Its cURL examples
are sent byte for byte: the stored-keys form carries ``cf-aig-authorization`` and no
``Authorization``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from cf_ai_gateway.emulator import Emulator

openai = pytest.importorskip("openai")

OPENAI_API_KEY = "sk-seed-page-key-0123456789"


def sdk(base_url: str, api_key: str, default_headers: dict[str, str] | None = None) -> Any:
    return openai.OpenAI(api_key=api_key, base_url=base_url, default_headers=default_headers, max_retries=0)


def ask_both_endpoints(client: Any) -> None:
    chat = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello, world!"}])
    assert "Hello, world!" in chat.choices[0].message.content
    response = client.responses.create(model="gpt-5.1", input="Write a one-sentence bedtime story about a unicorn.")
    assert response.output_text


def test_sdk_with_key_in_request_on_an_authenticated_gateway(emulator: Emulator) -> None:
    client = sdk(emulator.gateway_url(), OPENAI_API_KEY, {"cf-aig-authorization": f"Bearer {emulator.token}"})
    ask_both_endpoints(client)
    assert [(e.authentication, e.byok) for e in emulator.logs] == [(True, False), (True, False)]
    assert emulator.requests[-1].header("authorization") == f"Bearer {OPENAI_API_KEY}"


def test_sdk_with_key_in_request_on_an_unauthenticated_gateway(make_emulator: Callable[..., Emulator]) -> None:
    emu = make_emulator(authenticated=False)
    ask_both_endpoints(sdk(emu.gateway_url(), OPENAI_API_KEY))
    assert [(e.authentication, e.byok) for e in emu.logs] == [(False, False), (False, False)]


def test_sdk_with_stored_keys_sends_the_cloudflare_token_as_its_api_key(emulator: Emulator) -> None:
    emulator.configure(api_key=OPENAI_API_KEY)  # the provider accepts only the real key: the stored one pays
    ask_both_endpoints(sdk(emulator.gateway_url(), str(emulator.token)))
    assert [(e.authentication, e.byok, e.status_code) for e in emulator.logs] == [(True, True, 200)] * 2
    sent = emulator.requests[-1]
    assert sent.header("authorization") == f"Bearer {emulator.token}" and sent.header("cf-aig-authorization") is None


def test_sdk_with_stored_keys_and_a_wrong_token_is_the_gateways_401(emulator: Emulator) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        sdk(emulator.gateway_url(), "not-the-gateway-token").chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hello, world!"}])
    assert caught.value.body is not None and caught.value.response.json()["internalCode"] == 2009


def test_curl_with_stored_keys_sends_cf_aig_authorization_only(emulator: Emulator) -> None:
    base = emulator.gateway_url()
    headers = {"cf-aig-authorization": f"Bearer {emulator.token}", "Content-Type": "application/json"}
    responses = httpx.post(f"{base}/responses", headers=headers, json={
        "model": "gpt-5.1",
        "input": [{"role": "user", "content": "Write a one-sentence bedtime story about a unicorn."}]})
    chat = httpx.post(f"{base}/chat/completions", headers=headers, json={
        "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is Cloudflare?"}]})
    assert responses.status_code == chat.status_code == 200
    assert [(e.authentication, e.byok) for e in emulator.logs] == [(True, True), (True, True)]


def test_curl_with_key_in_request_on_both_gateway_kinds(make_emulator: Callable[..., Emulator]) -> None:
    authenticated, unauthenticated = make_emulator(), make_emulator(authenticated=False)
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is Cloudflare?"}]}
    key = {"Authorization": f"Bearer {OPENAI_API_KEY}", "Content-Type": "application/json"}
    with_token = {**key, "cf-aig-authorization": f"Bearer {authenticated.token}"}
    assert httpx.post(f"{authenticated.gateway_url()}/chat/completions", headers=with_token, json=body).status_code == 200
    assert httpx.post(f"{unauthenticated.gateway_url()}/chat/completions", headers=key, json=body).status_code == 200
    refused = httpx.post(f"{authenticated.gateway_url()}/chat/completions", headers=key, json=body)
    assert refused.status_code == 401 and refused.json()["internalCode"] == 2009


def test_sdk_with_the_cloudflare_token_is_paid_by_unified_billing_without_stored_keys(emulator: Emulator) -> None:
    emulator.configure(stored_keys=False, credits=5.0)
    ask_both_endpoints(sdk(emulator.gateway_url(), str(emulator.token)))
    assert [(e.authentication, e.byok, e.wholesale) for e in emulator.logs] == [(True, False, True)] * 2
