"""Auth outcomes and routing errors, with the exact envelopes the real gateway and OpenAI send."""

from __future__ import annotations

import httpx
import pytest

from cf_ai_gateway.emulator import Emulator

from .helpers import CHAT_BODY, KEY, gateway_envelope, post

TOKEN = "gateway-token-0123456789"
UNAUTHORIZED = {
    "success": False, "result": [], "messages": [], "error": [{"code": 2009, "message": "Unauthorized"}],
    "name": "AiGatewayError", "httpCode": 401, "internalCode": 2009, "message": "Unauthorized",
}


@pytest.mark.ai_gateway_emulator(authenticated=False)
def test_unauthenticated_gateway_serves_a_request_with_a_provider_key(emulator: Emulator) -> None:
    reply = post(emulator)
    assert reply.status_code == 200
    assert reply.json()["object"] == "chat.completion"
    assert emulator.logs[-1].authentication is False and emulator.logs[-1].byok is False


@pytest.mark.ai_gateway_emulator(authenticated=False)
def test_unauthenticated_gateway_without_provider_key_passes_the_providers_401(emulator: Emulator) -> None:
    reply = post(emulator, key=None)
    assert reply.status_code == 401
    error = reply.json()["error"]
    assert error["message"].startswith("You didn't provide an API key.")
    assert error["type"] == "invalid_request_error" and error["param"] is None and error["code"] is None
    assert reply.headers["cf-aig-log-id"]  # failed requests carry a log id too


def test_required_provider_key_rejects_another_key_without_echoing_it(emulator: Emulator) -> None:
    emulator.configure(api_key="sk-the-right-key-123456")
    assert post(emulator, key="sk-the-right-key-123456").status_code == 200
    reply = post(emulator, key="sk-wrong-key-abcdef")
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "invalid_api_key"
    assert "sk-wrong-key-abcdef" not in reply.text


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", TOKEN, "Basic " + TOKEN])
def test_authenticated_gateway_rejects_missing_or_wrong_token_with_2009(emulator: Emulator, header: str | None) -> None:
    emulator.configure(token=TOKEN)
    headers = {"cf-aig-authorization": header} if header else {}
    reply = post(emulator, headers=headers, gateway_token=None)
    assert reply.status_code == 401
    assert reply.json() == UNAUTHORIZED
    assert reply.headers["cf-aig-log-id"] == reply.headers["cf-aig-request-id"]
    assert emulator.logs[-1].status_code == 401 and emulator.logs[-1].success is False


def test_authenticated_gateway_with_token_and_no_key_uses_a_stored_key(emulator: Emulator) -> None:
    emulator.configure(token=TOKEN)
    reply = post(emulator, key=None, headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 200
    entry = emulator.logs[-1]
    assert entry.byok is True and entry.authentication is True
    sent = emulator.requests[-1].headers
    assert sent["cf-aig-authorization"] == f"Bearer {TOKEN}" and "authorization" not in sent


def test_a_stored_key_alias_must_exist(emulator: Emulator) -> None:
    emulator.configure(token=TOKEN, stored_key_aliases=["default", "team-a"])
    auth = {"cf-aig-authorization": f"Bearer {TOKEN}"}
    assert post(emulator, key=None, headers={**auth, "cf-aig-byok-alias": "team-a"}).status_code == 200
    reply = post(emulator, key=None, headers={**auth, "cf-aig-byok-alias": "team-b"})
    assert reply.status_code == 400 and reply.json()["internalCode"] == 2040
    assert reply.json()["error"][0]["message"] == (
        "Provider 'openai' has no BYOK credential named 'team-b'. Configured aliases: 'default', 'team-a'")
    assert post(emulator, headers={**auth, "cf-aig-byok-alias": "team-b"}).status_code == 200  # a key is sent


def test_authenticated_gateway_uses_a_provider_key_that_is_sent(emulator: Emulator) -> None:
    emulator.configure(token=TOKEN, api_key=KEY)
    ok = post(emulator, headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
    assert ok.status_code == 200 and emulator.logs[-1].byok is False
    wrong = post(emulator, key="sk-not-the-key", headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_api_key"


def test_authenticated_gateway_without_stored_keys_passes_the_providers_401(emulator: Emulator) -> None:
    emulator.configure(token=TOKEN, stored_keys=False)
    reply = post(emulator, key=None, headers={"cf-aig-authorization": f"Bearer {TOKEN}"})
    assert reply.status_code == 401 and "error" in reply.json() and "internalCode" not in reply.json()


def test_unknown_gateway_answers_2001(emulator: Emulator) -> None:
    emulator.configure(gateways=["prod"])
    assert post(emulator, gateway="prod").status_code == 200
    reply = post(emulator, gateway="staging")
    assert reply.status_code == 400
    assert reply.json() == {"success": False, "result": [], "messages": [],
                            "error": [{"code": 2001, "message": "Please configure AI Gateway in the Cloudflare dashboard"}]}


def test_unknown_provider_answers_2008(emulator: Emulator) -> None:
    reply = post(emulator, provider="not-a-provider")
    assert reply.status_code == 400
    assert reply.json() == gateway_envelope(2008, "Invalid provider", 400)


@pytest.mark.parametrize("provider", ["groq", "mistral", "deepseek", "grok", "openrouter", "perplexity-ai",
                                      "cerebras", "custom-my-llm"])
def test_openai_wire_providers_serve_both_endpoints(emulator: Emulator, provider: str) -> None:
    assert post(emulator, "chat/completions", provider=provider).json()["object"] == "chat.completion"
    assert post(emulator, "responses", provider=provider).json()["object"] == "response"
    assert emulator.logs[-1].provider == provider


def test_v1_prefix_and_workers_ai_paths(emulator: Emulator) -> None:
    base = emulator.gateway_url("default", "openai")
    headers = {"authorization": f"Bearer {KEY}", "cf-aig-authorization": f"Bearer {emulator.token}"}
    assert httpx.post(f"{base}/v1/chat/completions", json=CHAT_BODY, headers=headers).status_code == 200
    workers = emulator.gateway_url("default", "workers-ai")
    body = {**CHAT_BODY, "model": "@cf/meta/llama-3.1-8b-instruct"}
    reply = httpx.post(f"{workers}/v1/chat/completions", json=body, headers=headers)
    assert reply.status_code == 200 and reply.json()["model"] == "@cf/meta/llama-3.1-8b-instruct"
    native = httpx.post(f"{workers}/@cf/meta/llama-3.1-8b-instruct", json=body, headers=headers)
    assert native.status_code == 400 and native.json()["error"][0]["code"] == 7000


def test_other_paths_answer_7000_and_wrong_methods_7001(emulator: Emulator) -> None:
    unknown = httpx.post(f"{emulator.root_url}/somewhere/else", json={})
    assert unknown.status_code == 400 and unknown.json()["error"][0]["code"] == 7000
    api_unknown = httpx.get(f"{emulator.api_base_url}/accounts/acct/nothing")
    assert api_unknown.status_code == 404 and api_unknown.json()["errors"][0]["code"] == 7000
    get = httpx.get(emulator.gateway_url() + "/chat/completions", headers={"authorization": f"Bearer {KEY}"})
    assert get.status_code == 405 and get.json()["internalCode"] == 7001
    assert post(emulator, "files").json()["error"][0]["code"] == 7000


def test_compat_route_takes_provider_prefixed_models(emulator: Emulator) -> None:
    compat = f"{emulator.base_url}/{emulator.account_id}/default/compat/chat/completions"
    headers = {"authorization": f"Bearer {KEY}", "cf-aig-authorization": f"Bearer {emulator.token}"}
    ok = httpx.post(compat, json={**CHAT_BODY, "model": "openai/gpt-4o-mini"}, headers=headers)
    assert ok.status_code == 200 and ok.json()["model"] == "openai/gpt-4o-mini"
    assert emulator.logs[-1].provider == "openai"
    missing = httpx.post(compat, json={**CHAT_BODY, "model": "gpt-4o-mini"}, headers=headers)
    assert missing.status_code == 400 and missing.json() == gateway_envelope(2019, "Chat completion bad format", 400)
    unknown = httpx.post(compat, json={**CHAT_BODY, "model": "nosuch/model"}, headers=headers)
    assert unknown.status_code == 400 and unknown.json()["internalCode"] == 2008
    custom = httpx.post(compat, json={**CHAT_BODY, "model": "custom-mine/llm"}, headers=headers)
    assert custom.status_code == 200


def test_rest_surface_uses_the_api_token_and_the_plural_envelope(emulator: Emulator) -> None:
    emulator.configure(api_token="cf-api-token-123456")
    rest = f"{emulator.api_base_url}/accounts/{emulator.account_id}/ai/v1"
    body = {**CHAT_BODY, "model": "openai/gpt-4.1"}
    bad = httpx.post(f"{rest}/chat/completions", json=body, headers={"authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.json() == {"result": None, "success": False,
                          "errors": [{"code": 10000, "message": "Authentication error"}], "messages": []}
    good_headers = {"authorization": "Bearer cf-api-token-123456", "cf-aig-gateway-id": "team"}
    ok = httpx.post(f"{rest}/chat/completions", json=body, headers=good_headers)
    assert ok.status_code == 200 and ok.headers["cf-aig-log-id"]
    assert emulator.logs[-1].gateway_id == "team" and emulator.logs[-1].provider == "openai"
    responses = httpx.post(f"{rest}/responses", json={"model": "openai/gpt-4.1", "input": "hi"}, headers=good_headers)
    assert responses.json()["object"] == "response"
    bare = httpx.post(f"{rest}/chat/completions", json=CHAT_BODY, headers=good_headers)
    assert bare.status_code == 400 and bare.json()["errors"][0]["code"] == 7003
    emulator.configure(gateways=["default"])
    unknown = httpx.post(f"{rest}/chat/completions", json=body, headers=good_headers)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["code"] == 2001


def test_a_dedicated_emulator_with_its_own_settings(make_emulator: object) -> None:
    emu = make_emulator(token=TOKEN, gateways=["prod"])  # type: ignore[operator]
    assert post(emu, gateway="prod", headers={"cf-aig-authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert post(emu, gateway="prod", gateway_token=None).status_code == 401
