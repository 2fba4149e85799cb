"""The Auto Router (``model: "cloudflare/auto"``): one model chosen per request from a pool.

The pool is ``auto_router_models`` (cheapest first) or a default pool. ``cf-aig-allowed-models``
(comma list; ``*`` matches within one path segment, never across ``/``) and
``cf-aig-allowed-providers`` narrow it; an entry that matches no model is a 400, and so is an
empty pool. The choice is the cheapest model for a short prompt and the last (most capable) one
for a long prompt or one with tools (``cost_optimal_within_pool``), the only model left
(``forced_by_candidate_pool``), or, with ``cf-aig-session-id`` (per ``cf-aig-turn-id`` when
sent), the model the session used before (``pinned_by_turn``) unless
``cf-aig-no-session-affinity: true``. If that model's upstream fails, the next one in the pool
answers (``fallback_candidate_unavailable``). Answers carry ``cf-aig-routed-model``,
``cf-aig-routing-reason`` and ``cf-aig-routing-decision-id``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

from starlette.responses import Response

from . import envelopes
from .conversation import ModelRequest
from .exchange import Exchange
from .model import prompt_tokens
from .routing import Candidate

AUTO_MODEL = "cloudflare/auto"
DEFAULT_POOL = (
    "workers-ai/@cf/meta/llama-3.1-8b-instruct",
    "openai/gpt-4.1-nano",
    "google-ai-studio/gemini-2.5-flash",
    "openai/gpt-4o-mini",
    "anthropic/claude-haiku-4-5",
    "openai/gpt-4.1",
    "anthropic/claude-sonnet-4-5",
)
LONG_PROMPT_TOKENS = 200


def _entry_pattern(entry: str) -> re.Pattern[str]:
    return re.compile("^" + "[^/]*".join(re.escape(part) for part in entry.split("*")) + "$")


def _listed(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def plan(ex: Exchange, request: ModelRequest) -> Response | Iterator[Candidate]:
    """The Auto Router's decision, as the models to try in order, or the 400 answer."""
    pool = list(ex.state.settings.auto_router_models or DEFAULT_POOL)
    allowed_models = _listed(ex.headers.get("cf-aig-allowed-models"))
    allowed_providers = _listed(ex.headers.get("cf-aig-allowed-providers"))
    if allowed_models:
        patterns = [(entry, _entry_pattern(entry)) for entry in allowed_models]
        unmatched = [
            entry for entry, pattern in patterns if not any(pattern.match(m) for m in pool)
        ]
        if unmatched:
            return _bad_request(
                ex, f"cf-aig-allowed-models entry {unmatched[0]!r} matches no model"
            )
        pool = [m for m in pool if any(pattern.match(m) for _entry, pattern in patterns)]
    if allowed_providers:
        pool = [m for m in pool if m.split("/", 1)[0] in allowed_providers]
    if not pool:
        return _bad_request(
            ex, "No model matches cf-aig-allowed-models and cf-aig-allowed-providers"
        )
    session = ex.headers.get("cf-aig-session-id", "").strip()
    affinity = (
        bool(session) and ex.headers.get("cf-aig-no-session-affinity", "").strip().lower() != "true"
    )
    session_key = f"{ex.gateway}\x00{session}\x00{ex.headers.get('cf-aig-turn-id', '').strip()}"
    pinned = ex.state.features.session_model(session_key) if affinity else None
    if pinned in pool:
        chosen, reason = str(pinned), "pinned_by_turn"
    elif len(pool) == 1:
        chosen, reason = pool[0], "forced_by_candidate_pool"
    else:
        demanding = bool(request.tools) or prompt_tokens(request) > LONG_PROMPT_TOKENS
        chosen, reason = (pool[-1] if demanding else pool[0]), "cost_optimal_within_pool"
    return _candidates(ex, pool, chosen, reason, session_key if affinity else None)


def _candidates(
    ex: Exchange, pool: list[str], chosen: str, reason: str, session_key: str | None
) -> Iterator[Candidate]:
    decision = str(uuid.uuid4())
    order = [chosen] + [m for m in pool if m != chosen]
    for index, model in enumerate(order):
        headers = {
            "cf-aig-routed-model": model,
            "cf-aig-routing-reason": reason if index == 0 else "fallback_candidate_unavailable",
            "cf-aig-routing-decision-id": decision,
        }

        def pin(model: str = model) -> None:
            if session_key is not None:
                ex.state.features.pin_session(session_key, model)

        yield Candidate(model, model.split("/", 1)[0], headers=headers, on_success=pin)


def _bad_request(ex: Exchange, message: str) -> Response:
    if ex.route.surface == "rest":
        return ex.answer(*envelopes.api_error(7003, message, 400))
    return ex.answer(*envelopes.gateway_error(2019, message, 400))
