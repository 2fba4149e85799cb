"""Core support for 2026 gateway features, over real sockets: custom-provider and Workers AI routes,
the gateway id limit, typed policy and spend-limit errors, and the Auto Router's decision headers."""

from __future__ import annotations

import pickle
import uuid
from typing import Any

import pytest

from cf_ai_gateway import (
    ConfigurationError,
    Gateway,
    GatewayAuthenticationError,
    GatewayConfig,
    GatewayError,
    GatewayInfo,
    GatewayRateLimitError,
    PolicyDeniedError,
    SpendLimitError,
)
from cf_ai_gateway.emulator import Emulator

from .conftest import ACCOUNT, API_KEY, TOKEN
from .testserver import Reply, TestServer

COMPLETION = {
    "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
}


def test_a_custom_provider_follows_the_documented_sdk_example(make_gateway: Any, server: TestServer) -> None:
    # Custom providers page, example 4: slug "alt-provider", base URL https://api.alt-provider.com,
    # SDK base_url ".../{gateway_id}/custom-alt-provider/v1", upstream ".../v1/chat/completions".
    gw = make_gateway(provider="custom-alt-provider", gateway_id="gw", cf_aig_token=TOKEN)
    assert gw.config.provider_base_url == f"{server.base_url}/{ACCOUNT}/gw/custom-alt-provider/v1"
    server.queue(Reply(body=COMPLETION))
    gw.create("chat/completions", {"model": "alt-model-v2", "messages": []})
    assert server.requests[-1].path == f"/v1/{ACCOUNT}/gw/custom-alt-provider/v1/chat/completions"


def test_workers_ai_native_route_is_built_as_documented(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(provider="workers-ai", api_key=API_KEY)
    server.queue(Reply(body={"result": {"response": "ok"}, "success": True}))
    gw.create("@cf/meta/llama-3.1-8b-instruct", {"prompt": "What is Cloudflare?"})
    assert server.requests[-1].path == f"/v1/{ACCOUNT}/default/workers-ai/@cf/meta/llama-3.1-8b-instruct"
    assert gw.config.url("chat/completions").endswith("/workers-ai/v1/chat/completions")


@pytest.mark.parametrize("config", [{"provider": "openai"}, {"surface": "rest", "cf_api_token": TOKEN}])
def test_a_workers_ai_model_route_elsewhere_is_refused_before_sending(
    make_gateway: Any, server: TestServer, config: dict[str, Any]
) -> None:
    gw = make_gateway(**config)
    with pytest.raises(ConfigurationError, match="workers-ai"):
        gw.create("@cf/meta/llama-3.1-8b-instruct", {"prompt": "hi"})
    assert server.requests == []


def test_gateway_ids_have_at_most_64_characters() -> None:
    assert GatewayConfig.resolve(account_id="a", api_key=API_KEY, gateway_id="g" * 64).gateway_id == "g" * 64
    with pytest.raises(ConfigurationError, match=r"gateway_id \(environment variable CF_AIG_GATEWAY_ID\).*64"):
        GatewayConfig.resolve(account_id="a", api_key=API_KEY, gateway_id="g" * 65)
    with pytest.raises(ConfigurationError, match="CF_AIG_GATEWAY_ID"):
        GatewayConfig.resolve(account_id="a", api_key=API_KEY, environ={"CF_AIG_GATEWAY_ID": "g" * 65})


def test_a_policy_denial_is_not_an_authentication_error(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(max_retries=2, cf_aig_token=TOKEN)
    server.queue(Reply(status=403, body={"success": False, "error": {"message": "Access denied by policy"}},
                       headers={"cf-aig-log-id": "019a7b3e-5f2c-7c41-9d3e-2b8f6a1c4e07"}))
    with pytest.raises(PolicyDeniedError) as err:
        gw.create("chat/completions", {"model": "m"})
    error = err.value
    assert not isinstance(error, GatewayAuthenticationError) and isinstance(error, GatewayError)
    assert (error.status_code, error.log_id) == (403, "019a7b3e-5f2c-7c41-9d3e-2b8f6a1c4e07")
    assert "Access denied by policy" in str(error)
    assert len(server.requests) == 1
    assert type(pickle.loads(pickle.dumps(error))) is PolicyDeniedError


def test_a_spend_limit_carries_its_details_and_is_not_retried(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(max_retries=3, cf_aig_token=TOKEN)
    body = {"success": False, "error": {"message": "Spending limit exceeded", "bucket": "daily:ann",
                                        "spent": 1000.42, "limit": 1000}}
    server.queue(Reply(status=429, body=body))
    with pytest.raises(SpendLimitError) as err:
        gw.create("chat/completions", {"model": "m"})
    error = err.value
    assert isinstance(error, GatewayRateLimitError)
    assert (error.bucket, error.spent, error.limit) == ("daily:ann", 1000.42, 1000.0)
    assert len(server.requests) == 1
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is SpendLimitError and copy.bucket == "daily:ann"


def test_spend_limit_rule_codes_are_spend_limit_errors(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(max_retries=3, cf_aig_token=TOKEN)
    server.queue(Reply(status=429, body={"success": False, "result": [], "messages": [],
                                         "error": [{"code": 2045, "message": "Spend limit exceeded"}]}))
    with pytest.raises(SpendLimitError) as err:
        gw.create("chat/completions", {"model": "m"})
    assert err.value.code == 2045 and err.value.bucket is None and len(server.requests) == 1


def test_the_emulators_policy_and_spend_answers_become_the_typed_errors() -> None:
    policies = [{"action": "block", "metadata": {"user": "mallory"}},
                {"action": "allow", "spend_limit": 0.0, "bucket": "zero"}]
    with Emulator(token=TOKEN, policies=policies) as emu:
        gw = Gateway(account_id=emu.account_id, base_url=emu.base_url, cf_aig_token=TOKEN, max_retries=2)
        with pytest.raises(PolicyDeniedError):
            gw.create("chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                      options={"metadata": {"user": "mallory"}})
        with pytest.raises(SpendLimitError) as err:
            gw.create("chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        assert err.value.bucket == "zero" and err.value.limit == 0.0
        assert len(emu.requests) == 2
        gw.close()


def test_gateway_info_exposes_the_auto_router_decision() -> None:
    with Emulator(token=TOKEN, auto_router_models=["openai/gpt-4.1-nano", "openai/gpt-4.1"]) as emu:
        gw = Gateway(account_id=emu.account_id, base_url=emu.base_url, cf_aig_token=TOKEN, provider="compat",
                     max_retries=0)
        reply = gw.create("chat/completions", {"model": "cloudflare/auto",
                                               "messages": [{"role": "user", "content": "hi"}]},
                          options={"session_id": "s1"})
        info = reply.info
        assert (info.routed_model, info.routing_reason) == ("openai/gpt-4.1-nano", "cost_optimal_within_pool")
        assert info.routing_decision_id is not None
        uuid.UUID(info.routing_decision_id)
        assert info.to_dict()["routing_decision_id"] == info.routing_decision_id
        gw.close()


def test_gateway_info_reads_the_decision_id_header() -> None:
    info = GatewayInfo.from_headers({"cf-aig-routing-decision-id": "d-1", "cf-aig-routed-model": "openai/x"})
    assert (info.routing_decision_id, info.routed_model) == ("d-1", "openai/x")
