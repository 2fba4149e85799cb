"""Policies (403 / spend caps 429), custom cache-token costs, and the logs API's DELETE, filters and statistics."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_ai_gateway.emulator import Emulator

from .features_helpers import TOKEN, authenticated, call, chat


def meta(**values: object) -> dict[str, str]:
    return {"cf-aig-metadata": json.dumps(values)}


def test_a_block_policy_and_no_matching_policy_answer_403(emulator: Emulator) -> None:
    authenticated(emulator, policies=[{"action": "block", "metadata": {"user": "mallory"}},
                                      {"action": "allow", "metadata": {"team": "ai"}}])
    denied = {"success": False, "error": {"message": "Access denied by policy"}}
    blocked = call(emulator, headers=meta(user="mallory", team="ai"))
    assert blocked.status_code == 403 and blocked.json() == denied
    assert call(emulator, headers=meta(team="web")).json() == denied
    assert call(emulator).status_code == 403
    assert call(emulator, headers=meta(team="ai")).status_code == 200


def test_a_spend_cap_answers_429_with_bucket_spent_and_limit(emulator: Emulator) -> None:
    authenticated(emulator, policies=[{"action": "allow", "spend_limit": 0.00001, "window": "day", "per": "user",
                                       "bucket": "daily"}])
    headers = meta(user="ann")
    spent = 0.0
    while spent < 0.00001:
        assert call(emulator, headers=headers).status_code == 200
        spent += emulator.logs[-1].cost
    reply = call(emulator, headers=headers)
    assert reply.status_code == 429
    error = reply.json()["error"]
    assert reply.json()["success"] is False and error["message"] == "Spending limit exceeded"
    assert (error["bucket"], error["limit"]) == ("daily:ann", 0.00001) and error["spent"] == pytest.approx(spent)
    assert call(emulator, headers=meta(user="bob")).status_code == 200
    emulator.advance(86400)
    assert call(emulator, headers=headers).status_code == 200


def test_cached_answers_skip_policies(emulator: Emulator) -> None:
    authenticated(emulator, policies=[{"action": "allow", "metadata": {"team": "ai"}}])
    cache = {"cf-aig-cache-key": "k1", **meta(team="ai")}
    assert call(emulator, headers=cache).headers["cf-aig-cache-status"] == "MISS"
    emulator.configure(policies=[{"action": "block"}])
    assert call(emulator, headers=cache).headers["cf-aig-cache-status"] == "HIT"
    assert call(emulator, headers={"cf-aig-cache-key": "k2"}).status_code == 403


def test_custom_cache_token_rates_price_cached_prompt_tokens(emulator: Emulator) -> None:
    authenticated(emulator)
    cost = {"per_token_in": 0.001, "per_token_out": 0.002, "per_cache_read_token": 0.0001}
    first = call(emulator, headers={"cf-aig-custom-cost": json.dumps(cost)}).json()["usage"]
    assert emulator.logs[-1].cost == pytest.approx(first["prompt_tokens"] * 0.001 + first["completion_tokens"] * 0.002)
    second = call(emulator, headers={"cf-aig-custom-cost": json.dumps(cost)}).json()["usage"]
    cached = second["prompt_tokens_details"]["cached_tokens"]
    assert cached == second["prompt_tokens"] > 0
    assert emulator.logs[-1].cost == pytest.approx(cached * 0.0001 + second["completion_tokens"] * 0.002)


def test_an_omitted_cache_rate_defaults_to_per_token_in(emulator: Emulator) -> None:
    authenticated(emulator)
    call(emulator)  # the prompt is now cached
    cost = {"per_token_in": 0.001, "per_token_out": 0.002, "per_cache_write_token": 0.5}
    usage = call(emulator, headers={"cf-aig-custom-cost": json.dumps(cost)}).json()["usage"]
    assert emulator.logs[-1].cost == pytest.approx(usage["prompt_tokens"] * 0.001 + usage["completion_tokens"] * 0.002)
    assert emulator.logs[-1].custom_cost is True


def logs_url(emu: Emulator) -> str:
    return f"{emu.api_base_url}/accounts/{emu.account_id}/ai-gateway/gateways/default/logs"


def api(emu: Emulator, method: str, **params: object) -> httpx.Response:
    query = {k: json.dumps(v) if k == "filters" else str(v) for k, v in params.items()}
    return httpx.request(method, logs_url(emu), params=query, headers={"authorization": f"Bearer {TOKEN}"})


def test_delete_logs_with_filters(emulator: Emulator) -> None:
    authenticated(emulator)
    call(emulator, chat("gpt-4o-mini"))
    call(emulator, chat("gpt-4.1"))
    call(emulator, chat("gpt-4.1"))
    reply = api(emulator, "DELETE", filters=[{"key": "model", "operator": "eq", "value": ["gpt-4.1"]}], limit=1)
    assert reply.status_code == 200 and reply.json()["success"] is True
    assert sorted(e.model or "" for e in emulator.logs) == ["gpt-4.1", "gpt-4o-mini"]
    api(emulator, "DELETE", filters=[{"key": "model", "operator": "eq", "value": ["gpt-4.1"]}])
    assert [e.model for e in emulator.logs] == ["gpt-4o-mini"]
    api(emulator, "DELETE")
    assert emulator.logs == []


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_unknown_filter_keys_are_refused(emulator: Emulator, method: str) -> None:
    authenticated(emulator)
    call(emulator)
    reply = api(emulator, method, filters=[{"key": "modle", "operator": "eq", "value": ["gpt-4o-mini"]}])
    assert reply.status_code == 400
    assert "modle" in reply.json()["errors"][0]["message"] and "Expected one of" in reply.json()["errors"][0]["message"]
    assert len(emulator.logs) == 1


def test_user_agent_filters_lists_but_not_deletes(emulator: Emulator) -> None:
    authenticated(emulator)
    call(emulator)
    assert api(emulator, "GET", filters=[{"key": "user_agent", "operator": "eq", "value": ["x"]}]).status_code == 200
    assert api(emulator, "DELETE", filters=[{"key": "user_agent", "operator": "eq", "value": ["x"]}]).status_code == 400


def test_result_info_carries_the_documented_statistics(emulator: Emulator) -> None:
    authenticated(emulator)
    call(emulator, chat("gpt-4o-mini", "short"))
    call(emulator, chat("gpt-4o-mini", "a somewhat longer question about the gateway and its logs"))
    info = api(emulator, "GET", per_page=1).json()["result_info"]
    entries = emulator.logs
    assert (info["count"], info["total_count"]) == (1, 2)
    assert info["min_tokens_in"] == min(e.tokens_in for e in entries)
    assert info["max_tokens_in"] == max(e.tokens_in for e in entries)
    assert info["max_total_tokens"] == max(e.tokens_in + e.tokens_out for e in entries)
    assert info["min_cost"] == min(e.cost for e in entries) and info["max_cost"] == max(e.cost for e in entries)
    for name in ("min_duration", "max_duration", "min_tokens_out", "max_tokens_out", "min_total_tokens"):
        assert name in info


def test_a_spend_limit_rule_answers_429_with_code_2045(emulator: Emulator) -> None:
    authenticated(emulator, spend_limits=[{"id": "r1", "limit": 0.000001, "interval": 3600, "model": "gpt-4.1"}])
    assert call(emulator, chat("gpt-4.1")).status_code == 200
    reply = call(emulator, chat("gpt-4.1"))
    assert reply.status_code == 429 and reply.json()["error"][0]["code"] == 2045
    assert reply.json()["error"][0]["message"] == (
        "Spend limit exceeded: rule 'r1' (cost limit 1e-06 per 3600s, fixed) for openai gpt-4.1")
    assert call(emulator, chat("gpt-4o-mini")).status_code == 200  # another model: not covered
    emulator.advance(3600)
    assert call(emulator, chat("gpt-4.1")).status_code == 200


def test_spend_limit_rules_are_checked_when_set(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="at most 20"):
        emulator.configure(spend_limits=[{"limit": 1}] * 21)
    with pytest.raises(ValueError, match="technique"):
        emulator.configure(spend_limits=[{"limit": 1, "technique": "rolling"}])


DOCUMENTED_KEYS = ["id", "created_at", "request_content_type", "response_content_type", "request_type", "success",
                   "cached", "provider", "model", "model_type", "cost", "tokens", "tokens_in", "tokens_out",
                   "duration", "feedback", "event_id", "metadata.key", "metadata.value", "authentication",
                   "wholesale", "compatibilityMode", "dlp_action"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(st.sampled_from(DOCUMENTED_KEYS), st.text(max_size=20)),
       operator=st.sampled_from(["eq", "neq", "contains", "lt", "gt"]),
       value=st.one_of(st.text(max_size=10), st.integers(), st.booleans()))
def test_filter_keys_are_accepted_exactly_when_documented(emulator: Emulator, key: str, operator: str,
                                                          value: object) -> None:
    emulator.reset()
    authenticated(emulator)
    call(emulator)
    filters = [{"key": key, "operator": operator, "value": [value]}]
    listed = api(emulator, "GET", filters=filters)
    assert listed.status_code == (200 if key in DOCUMENTED_KEYS else 400)
    deleted = api(emulator, "DELETE", filters=filters)
    assert deleted.status_code == (200 if key in DOCUMENTED_KEYS else 400)
    assert emulator.errors == []
