"""Policies (Beta): allow or block callers by their ``cf-aig-metadata``, with spend caps.

``policies=[{"action": "allow", "metadata": {"team": "ai"}, "spend_limit": 5.0, "window": "day",
"per": "user", "bucket": "daily-team"}, {"action": "block", "metadata": {"user": "mallory"}}]``.
The first policy whose ``metadata`` pairs all match the request's metadata decides: ``block``
answers 403 ``{"success": false, "error": {"message": "Access denied by policy"}}``, and so does a
request that matches no policy once the gateway has any. An ``allow`` policy with a
``spend_limit`` (USD) answers 429 ``{"success": false, "error": {"message": "Spending limit
exceeded", "bucket": ..., "spent": ..., "limit": ...}}`` once its bucket has spent the limit in the
current UTC calendar ``window`` (hour, day, week from Monday, month; none: forever). ``per``
splits the bucket by the value of one metadata key. Cached answers skip policies (the cache is
checked first) and cost nothing.

Spend limits are the gateway's own rules (at most 20): ``spend_limits=[{"id": "r1", "limit":
0.5, "interval": 3600, "technique": "fixed", "provider": "openai", "model": "gpt-4o-mini"}]``
(``provider``, ``model`` and ``metadata`` narrow a rule). Once a rule's window has spent its
limit, requests it covers get 429 with code 2045 and "Spend limit exceeded: rule '<id>' (cost
limit <n> per <w>s, <technique>) for <provider> <model>".
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

from . import envelopes
from .exchange import Exchange
from .features import FeatureState
from .logs import parse_metadata

WINDOWS = ("hour", "day", "week", "month")
MAX_SPEND_LIMIT_RULES = 20
SPEND_LIMIT_CODE = 2045
_MONDAY_OFFSET = 4 * 86400  # 1970-01-01 was a Thursday


def check_policies(policies: Any) -> None:
    """Raise ``ValueError`` for a policy list the emulator cannot apply."""
    if isinstance(policies, (str, bytes)) or not isinstance(policies, Sequence):
        raise ValueError("policies must be a list of dicts")
    for policy in policies:
        if not isinstance(policy, Mapping) or policy.get("action") not in ("allow", "block"):
            raise ValueError("each policy needs 'action': 'allow' or 'block'")
        if not isinstance(policy.get("metadata", {}), Mapping):
            raise ValueError("a policy's 'metadata' must be a dict of key -> value")
        limit = policy.get("spend_limit")
        if limit is not None and (
            isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0
        ):
            raise ValueError("a policy's 'spend_limit' must be a non-negative number (USD)")
        if policy.get("window") not in (None, *WINDOWS):
            raise ValueError(f"a policy's 'window' must be one of {', '.join(WINDOWS)}")


def check_spend_limits(rules: Any) -> None:
    """Raise ``ValueError`` for spend-limit rules the gateway would not take."""
    if isinstance(rules, (str, bytes)) or not isinstance(rules, Sequence):
        raise ValueError("spend_limits must be a list of dicts")
    if len(rules) > MAX_SPEND_LIMIT_RULES:
        raise ValueError(f"a gateway has at most {MAX_SPEND_LIMIT_RULES} spend-limit rules")
    for rule in rules:
        if not isinstance(rule, Mapping):
            raise ValueError("each spend-limit rule is a dict")
        limit, interval = rule.get("limit"), rule.get("interval", 3600)
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or limit < 0:
            raise ValueError("a spend-limit rule needs a non-negative 'limit' (USD)")
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval <= 0:
            raise ValueError("a spend-limit rule's 'interval' is a positive number of seconds")
        if rule.get("technique", "fixed") not in ("fixed", "sliding"):
            raise ValueError("a spend-limit rule's 'technique' is 'fixed' or 'sliding'")


def _slot(window: str | None, now: float) -> int:
    if window == "hour":
        return int(now // 3600)
    if window == "day":
        return int(now // 86400)
    if window == "week":
        return int((now - _MONDAY_OFFSET) // (7 * 86400))
    if window == "month":
        moment = _dt.datetime.fromtimestamp(now, tz=_dt.timezone.utc)
        return moment.year * 12 + moment.month
    return 0


def apply_policies(ex: Exchange) -> Response | None:
    """Policies, then the gateway's spend-limit rules: an error answer, or None to go on."""
    return _policies(ex) or _spend_limits(ex)


def _spend_limits(ex: Exchange) -> Response | None:
    rules = ex.state.settings.spend_limits
    if not rules:
        return None
    metadata = parse_metadata(ex.headers.get("cf-aig-metadata"))
    model = (ex.model or "").split("/", 1)[-1] if ex.route.surface != "native" else ex.model or ""
    counted: list[tuple[Any, ...]] = []
    for index, rule in enumerate(rules):
        if rule.get("provider") not in (None, ex.provider) or rule.get("model") not in (
            None,
            model,
        ):
            continue
        wanted = rule.get("metadata", {})
        if not all(
            key in metadata and str(metadata[key]) == str(value) for key, value in wanted.items()
        ):
            continue
        rule_id = str(rule.get("id") or f"rule-{index}")
        interval = float(rule.get("interval", 3600))
        key = (
            "spend-limit",
            ex.route.account,
            ex.gateway,
            rule_id,
            int(ex.state.clock.now() // interval),
        )
        if ex.state.features.window_total(key) >= rule["limit"]:
            message = (
                f"Spend limit exceeded: rule '{rule_id}' (cost limit {rule['limit']} per "
                f"{_seconds(interval)}s, {rule.get('technique', 'fixed')}) for {ex.provider} {model}"
            )
            return ex.answer(*envelopes.gateway_error(SPEND_LIMIT_CODE, message, 429))
        counted.append(key)
    features = ex.state.features

    def count(cost: float, keys: list[tuple[Any, ...]] = counted) -> None:
        for key in keys:
            features.add_to_window(key, cost)

    ex.cost_listeners.append(count)
    return None


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _policies(ex: Exchange) -> Response | None:
    """Allow, deny (403) or stop for spend (429); an allowed spend cap counts the answer's cost."""
    policies = ex.state.settings.policies
    if not policies:
        return None
    metadata = parse_metadata(ex.headers.get("cf-aig-metadata"))
    for index, policy in enumerate(policies):
        wanted = policy.get("metadata", {})
        if not all(
            str(metadata.get(key)) == str(value) and key in metadata
            for key, value in wanted.items()
        ):
            continue
        if policy["action"] == "block":
            return _denied(ex)
        limit = policy.get("spend_limit")
        if limit is None:
            return None
        bucket = str(policy.get("bucket") or f"policy-{index}")
        per = policy.get("per")
        if per:
            bucket = f"{bucket}:{metadata.get(str(per), '')}"
        key = (
            "policy-spend",
            ex.route.account,
            ex.gateway,
            bucket,
            _slot(policy.get("window"), ex.state.clock.now()),
        )
        spent = ex.state.features.window_total(key)
        if spent >= limit:
            body = {
                "success": False,
                "error": {
                    "message": "Spending limit exceeded",
                    "bucket": bucket,
                    "spent": round(spent, 12),
                    "limit": limit,
                },
            }
            return ex.answer(429, body)
        features = ex.state.features

        def count(
            cost: float, features: FeatureState = features, key: tuple[Any, ...] = key
        ) -> None:
            features.add_to_window(key, cost)

        ex.cost_listeners.append(count)
        return None
    return _denied(ex)


def _denied(ex: Exchange) -> Response:
    return ex.answer(403, {"success": False, "error": {"message": "Access denied by policy"}})
