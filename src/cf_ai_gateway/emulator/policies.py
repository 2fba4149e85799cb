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
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

from .exchange import Exchange
from .features import FeatureState
from .logs import parse_metadata

WINDOWS = ("hour", "day", "week", "month")
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
