"""Dynamic routes served for model "dynamic/<name>": conditions, splits, fallback chains, limits."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from cf_ai_gateway.emulator import Emulator

from .features_helpers import authenticated, call, chat

CHAIN = {"model": "openai/gpt-4o-mini", "fallback": {"model": "groq/llama-3.3-70b", "fallback": {
    "model": "openai/gpt-4.1"}}}


def route(emu: Emulator, node: dict[str, Any], name: str = "support") -> Emulator:
    return authenticated(emu, routes={name: node})


@pytest.mark.parametrize("surface", ["compat", "rest"])
def test_a_route_answers_with_its_model_provider_and_step(emulator: Emulator, surface: str) -> None:
    route(emulator, CHAIN)
    reply = call(emulator, chat("dynamic/support"), surface=surface)
    assert reply.status_code == 200
    assert (reply.headers["cf-aig-model"], reply.headers["cf-aig-provider"], reply.headers["cf-aig-step"]) == (
        "gpt-4o-mini", "openai", "0")
    assert reply.json()["model"] == "gpt-4o-mini"


def test_a_failing_model_falls_over_to_the_next_node(emulator: Emulator) -> None:
    route(emulator, CHAIN)
    emulator.fault(503, model="gpt-4o-mini")
    reply = call(emulator, chat("dynamic/support"), surface="compat")
    assert reply.status_code == 200
    assert (reply.headers["cf-aig-model"], reply.headers["cf-aig-provider"], reply.headers["cf-aig-step"]) == (
        "llama-3.3-70b", "groq", "1")
    entry = emulator.log(reply.headers["cf-aig-log-id"])
    assert entry is not None and (entry.model, entry.provider, entry.step) == ("llama-3.3-70b", "groq", 1)


def test_the_last_failure_is_answered_when_every_model_fails(emulator: Emulator) -> None:
    route(emulator, CHAIN)
    for model in ("gpt-4o-mini", "llama-3.3-70b", "gpt-4.1"):
        emulator.fault(500, model=model)
    reply = call(emulator, chat("dynamic/support"), surface="compat")
    assert reply.status_code == 500 and reply.headers["cf-aig-step"] == "2"


def test_a_model_node_retries_before_falling_over(emulator: Emulator) -> None:
    route(emulator, {"model": "openai/gpt-4o-mini", "retries": 1, "fallback": {"model": "openai/gpt-4.1"}})
    emulator.fault(503, model="gpt-4o-mini")
    reply = call(emulator, chat("dynamic/support"), surface="compat")
    assert reply.headers["cf-aig-model"] == "gpt-4o-mini" and emulator.logs[-1].attempts == 2


def test_conditions_on_metadata(emulator: Emulator) -> None:
    route(emulator, {"conditional": {"metadata.tier": {"$eq": "pro"}}, "then": {"model": "openai/gpt-4.1"},
                     "else": {"model": "openai/gpt-4o-mini"}})
    pro = call(emulator, chat("dynamic/support"), surface="compat",
               headers={"cf-aig-metadata": json.dumps({"tier": "pro"})})
    free = call(emulator, chat("dynamic/support"), surface="compat",
                headers={"cf-aig-metadata": json.dumps({"tier": "free"})})
    assert (pro.headers["cf-aig-model"], free.headers["cf-aig-model"]) == ("gpt-4.1", "gpt-4o-mini")


def test_percentage_split(emulator: Emulator) -> None:
    route(emulator, {"percentage": [[70, {"model": "openai/gpt-4o-mini"}], [30, {"model": "openai/gpt-4.1"}]]})
    models = Counter(call(emulator, chat("dynamic/support"), surface="compat").headers["cf-aig-model"]
                     for _ in range(20))
    assert models == Counter({"gpt-4o-mini": 14, "gpt-4.1": 6})


def test_a_rate_limit_node_sends_the_excess_to_its_fallback(emulator: Emulator) -> None:
    route(emulator, {"rate_limit": {"limit": 2, "interval": 60, "key": "metadata.user"},
                     "success": {"model": "openai/gpt-4.1"}, "fallback": {"model": "openai/gpt-4o-mini"}})

    def model_for(user: str) -> str:
        headers = {"cf-aig-metadata": json.dumps({"user": user})}
        return call(emulator, chat("dynamic/support"), surface="compat", headers=headers).headers["cf-aig-model"]

    assert [model_for("ann") for _ in range(3)] == ["gpt-4.1", "gpt-4.1", "gpt-4o-mini"]
    assert model_for("bob") == "gpt-4.1"
    emulator.advance(60)
    assert model_for("ann") == "gpt-4.1"


def test_a_budget_limit_node_counts_cost(emulator: Emulator) -> None:
    route(emulator, {"budget_limit": {"limit": 0.000001, "interval": 3600},
                     "success": {"model": "openai/gpt-4.1"}, "fallback": {"model": "openai/gpt-4o-mini"}})
    first = call(emulator, chat("dynamic/support"), surface="compat")
    second = call(emulator, chat("dynamic/support"), surface="compat")
    assert (first.headers["cf-aig-model"], second.headers["cf-aig-model"]) == ("gpt-4.1", "gpt-4o-mini")


def test_other_request_shapes_are_refused_with_400(emulator: Emulator) -> None:
    route(emulator, CHAIN)
    reply = call(emulator, {"model": "dynamic/support", "input": "hi"}, surface="compat", endpoint="responses")
    assert reply.status_code == 400
    assert call(emulator, {"model": "dynamic/support", "input": "hi"}, surface="rest",
                endpoint="responses").status_code == 400


def test_an_unknown_route_or_one_on_another_gateway_is_404(emulator: Emulator) -> None:
    route(emulator, {**CHAIN, "gateway": "prod"})
    assert call(emulator, chat("dynamic/nope"), surface="compat").status_code == 404
    assert call(emulator, chat("dynamic/support"), surface="rest").status_code == 404
    reply = call(emulator, chat("dynamic/support"), surface="rest", headers={"cf-aig-gateway-id": "prod"})
    assert reply.status_code == 200 and reply.headers["cf-aig-model"] == "gpt-4o-mini"


def test_bad_routes_are_refused_when_set(emulator: Emulator) -> None:
    with pytest.raises(ValueError):
        emulator.configure(routes={"x": {"model": "gpt-4o-mini"}})
    with pytest.raises(ValueError):
        emulator.configure(routes={"x": {"percentage": [[80, {"model": "a/b"}], [30, {"model": "a/c"}]]}})

