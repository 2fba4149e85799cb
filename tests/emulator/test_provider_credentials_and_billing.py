"""Require provider credentials (byok_only, cf-aig-no-wholesale), Unified Billing credits and request limit."""

from __future__ import annotations

from cf_ai_gateway.emulator import Emulator

from .features_helpers import authenticated, call, chat

NO_WHOLESALE = {"cf-aig-no-wholesale": "true"}


def test_byok_only_refuses_a_request_without_credentials_with_400(emulator: Emulator) -> None:
    authenticated(emulator, stored_keys=False, byok_only=True, credits=10.0)
    reply = call(emulator, key=None)
    assert reply.status_code == 400
    assert reply.json()["success"] is False and reply.json()["name"] == "AiGatewayError"
    assert call(emulator).status_code == 200  # a sent key applies
    emulator.configure(stored_keys=True)
    assert call(emulator, key=None).status_code == 200  # a stored key applies


def test_no_wholesale_header_refuses_the_unified_billing_fallback(emulator: Emulator) -> None:
    authenticated(emulator, stored_keys=False, credits=10.0)
    assert call(emulator, key=None).status_code == 200  # Unified Billing pays
    assert emulator.logs[-1].wholesale is True
    assert call(emulator, key=None, headers=NO_WHOLESALE).status_code == 400


def test_the_header_cannot_relax_the_gateway_setting(emulator: Emulator) -> None:
    authenticated(emulator, stored_keys=False, byok_only=True, credits=10.0)
    assert call(emulator, key=None, headers={"cf-aig-no-wholesale": "false"}).status_code == 400


def test_workers_ai_stays_allowed(emulator: Emulator) -> None:
    authenticated(emulator, byok_only=True, stored_keys=False, credits=10.0)
    reply = call(emulator, chat("@cf/meta/llama-3.1-8b-instruct"), surface="workers-ai", endpoint="v1/chat/completions",
                 key="cf-api-token-1234", headers=NO_WHOLESALE)
    assert reply.status_code == 200
    compat = call(emulator, chat("workers-ai/@cf/meta/llama-3.1-8b-instruct"), surface="compat", headers=NO_WHOLESALE,
                  key="cf-api-token-1234")
    assert compat.status_code == 200


def test_unified_billing_credits_run_out_with_402_code_2021(emulator: Emulator) -> None:
    authenticated(emulator, stored_keys=False, credits=0.00002)
    first = call(emulator, key=None)
    assert first.status_code == 200
    cost = emulator.logs[-1].cost
    assert cost > 0 and emulator.credits_remaining == 0.00002 - cost
    while (emulator.credits_remaining or 0) > 0:
        assert call(emulator, key=None).status_code == 200
    reply = call(emulator, key=None)
    assert reply.status_code == 402 and reply.json()["error"][0]["code"] == 2021
    assert reply.json()["internalCode"] == 2021
    assert call(emulator).status_code == 200  # a request key does not need credits


def test_unified_billing_has_a_request_limit(emulator: Emulator) -> None:
    authenticated(emulator, stored_keys=False, credits=100.0, unified_billing_rate_limit=2)
    assert [call(emulator, key=None).status_code for _ in range(3)] == [200, 200, 429]
    assert call(emulator).status_code == 200  # own key: not Unified Billing
    emulator.advance(60)
    assert call(emulator, key=None).status_code == 200


def test_rest_api_credentials_rejected_by_the_provider(emulator: Emulator) -> None:
    authenticated(emulator)
    emulator.fault(401)
    reply = call(emulator, chat("openai/gpt-4o-mini"), surface="rest")
    assert reply.status_code == 401 and reply.json()["errors"][0]["code"] == 2009
    emulator.configure(stored_keys=False)
    emulator.fault(401)
    assert call(emulator, chat("openai/gpt-4o-mini"), surface="rest").status_code == 503


def test_provider_native_route_passes_a_credential_rejection_through(emulator: Emulator) -> None:
    authenticated(emulator)
    emulator.fault(401)
    reply = call(emulator)
    assert reply.status_code == 401 and "error" in reply.json() and "errors" not in reply.json()


def test_rest_workers_ai_requires_the_gateway_id_header(emulator: Emulator) -> None:
    authenticated(emulator)
    model = chat("@cf/meta/llama-3.1-8b-instruct")
    reply = call(emulator, model, surface="rest")
    assert reply.status_code == 400 and "cf-aig-gateway-id" in reply.json()["errors"][0]["message"]
    assert call(emulator, model, surface="rest", headers={"cf-aig-gateway-id": "default"}).status_code == 200
    assert call(emulator, chat("openai/gpt-4o-mini"), surface="rest").status_code == 200
