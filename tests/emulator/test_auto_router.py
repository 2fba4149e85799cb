"""The Auto Router (cloudflare/auto): candidate pool headers, session affinity, routing headers."""

from __future__ import annotations

import uuid

import pytest

from cf_ai_gateway.emulator import Emulator

from .features_helpers import authenticated, call, chat

POOL = ["openai/gpt-4.1-nano", "anthropic/claude-haiku-4-5", "openai/gpt-4.1"]
LONG = "Explain in detail " + "how the gateway routes requests " * 40


def auto(emu: Emulator, text: str = "hi", surface: str = "compat", **headers: str) -> dict[str, str]:
    reply = call(emu, chat("cloudflare/auto", text), surface=surface,
                 headers={k.replace("_", "-"): v for k, v in headers.items()})
    assert reply.status_code == 200, reply.text
    return dict(reply.headers)


@pytest.mark.parametrize("surface", ["compat", "rest"])
def test_the_decision_headers(emulator: Emulator, surface: str) -> None:
    authenticated(emulator, auto_router_models=POOL)
    short = auto(emulator, surface=surface)
    assert (short["cf-aig-routed-model"], short["cf-aig-routing-reason"]) == (POOL[0], "cost_optimal_within_pool")
    uuid.UUID(short["cf-aig-routing-decision-id"])
    assert auto(emulator, LONG, surface=surface)["cf-aig-routed-model"] == POOL[-1]


def test_allowed_models_with_wildcards_and_allowed_providers(emulator: Emulator) -> None:
    authenticated(emulator, auto_router_models=POOL)
    headers = auto(emulator, cf_aig_allowed_models="anthropic/*")
    assert (headers["cf-aig-routed-model"], headers["cf-aig-routing-reason"]) == (
        "anthropic/claude-haiku-4-5", "forced_by_candidate_pool")
    assert auto(emulator, cf_aig_allowed_providers="openai")["cf-aig-routed-model"] == "openai/gpt-4.1-nano"
    both = auto(emulator, LONG, cf_aig_allowed_models="openai/gpt-4.1*", cf_aig_allowed_providers="openai")
    assert both["cf-aig-routed-model"] == "openai/gpt-4.1"


def test_an_allowed_model_entry_matching_nothing_is_400(emulator: Emulator) -> None:
    authenticated(emulator, auto_router_models=POOL)
    assert call(emulator, chat("cloudflare/auto"), surface="compat",
                headers={"cf-aig-allowed-models": "*"}).status_code == 400  # '*' does not match across '/'
    assert call(emulator, chat("cloudflare/auto"), surface="compat",
                headers={"cf-aig-allowed-models": "openai/gpt-4.1-nano,mistral/*"}).status_code == 400
    assert call(emulator, chat("cloudflare/auto"), surface="compat",
                headers={"cf-aig-allowed-providers": "groq"}).status_code == 400


def test_a_session_keeps_its_model(emulator: Emulator) -> None:
    authenticated(emulator, auto_router_models=POOL)
    first = auto(emulator, cf_aig_session_id="s1")
    later = auto(emulator, LONG, cf_aig_session_id="s1")
    assert later["cf-aig-routed-model"] == first["cf-aig-routed-model"] == POOL[0]
    assert later["cf-aig-routing-reason"] == "pinned_by_turn"
    free = auto(emulator, LONG, cf_aig_session_id="s1", cf_aig_no_session_affinity="true")
    assert free["cf-aig-routed-model"] == POOL[-1]
    assert auto(emulator, LONG, cf_aig_session_id="s2")["cf-aig-routed-model"] == POOL[-1]


def test_an_unavailable_candidate_falls_back(emulator: Emulator) -> None:
    authenticated(emulator, auto_router_models=POOL)
    emulator.fault(503, model="gpt-4.1-nano")
    headers = auto(emulator)
    assert (headers["cf-aig-routed-model"], headers["cf-aig-routing-reason"]) == (
        POOL[1], "fallback_candidate_unavailable")


def test_a_bad_pool_is_refused_when_set(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="provider/model"):
        emulator.configure(auto_router_models=["gpt-4o-mini"])
    with pytest.raises(ValueError, match="provider/model"):
        emulator.configure(auto_router_models=[])
