"""Checks for the gateway-feature settings, and the counters those features keep while serving.

The settings (retries, Unified Billing credits, dynamic routes, guardrails, DLP, policies, the
Auto Router's pool) are plain values on :class:`~cf_ai_gateway.emulator.EmulatorSettings`; a bad
value is refused when it is set, not when the first request meets it. :class:`FeatureState`
holds what those features count: Unified Billing spend and its request window, policy spend
buckets, dynamic-route limit windows and split counters, and Auto Router sessions.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

BACKOFFS = ("constant", "linear", "exponential")
MAX_ATTEMPTS = 5
MAX_GATEWAY_RETRY_DELAY_MS = 60_000
MAX_TRACKED = 10_000  # windows and sessions kept; the oldest go first


def check_feature_settings(changes: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` for a feature setting the gateway would not accept."""
    attempts = changes.get("retry_max_attempts")
    if attempts is not None and (
        not isinstance(attempts, int) or not 1 <= attempts <= MAX_ATTEMPTS
    ):
        raise ValueError(f"retry_max_attempts must be an integer from 1 to {MAX_ATTEMPTS}")
    delay = changes.get("retry_delay")
    if delay is not None and (
        not isinstance(delay, int) or not 0 <= delay <= MAX_GATEWAY_RETRY_DELAY_MS
    ):
        raise ValueError(f"retry_delay must be an integer from 0 to {MAX_GATEWAY_RETRY_DELAY_MS}")
    backoff = changes.get("retry_backoff")
    if backoff is not None and backoff not in BACKOFFS:
        raise ValueError(f"retry_backoff must be one of {', '.join(BACKOFFS)}")
    routes = changes.get("routes")
    if routes is not None:
        from .routing import check_routes

        check_routes(routes)
    for name in ("guardrails", "dlp"):
        value = changes.get(name)
        if value is not None:
            from .guardrails import check_rules

            check_rules(name, value)
    policies = changes.get("policies")
    if policies is not None:
        from .policies import check_policies

        check_policies(policies)
    pool = changes.get("auto_router_models")
    if pool is not None and (
        isinstance(pool, str)
        or not pool
        or not all(isinstance(m, str) and "/" in m.strip("/") for m in pool)
    ):
        raise ValueError("auto_router_models is a non-empty list of 'provider/model' names")
    spend_limits = changes.get("spend_limits")
    if spend_limits is not None:
        from .policies import check_spend_limits

        check_spend_limits(spend_limits)


class FeatureState:
    """Counters of the gateway features, shared by all requests (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.credits_spent = 0.0
        self._windows: dict[tuple[Any, ...], float] = {}
        self._counters: dict[str, int] = {}
        self._sessions: dict[str, str] = {}

    def spend_credits(self, amount: float) -> None:
        with self._lock:
            self.credits_spent += amount

    def window_total(self, key: tuple[Any, ...]) -> float:
        """The amount counted under ``key`` (a scope plus its window slot)."""
        with self._lock:
            return self._windows.get(key, 0.0)

    def add_to_window(self, key: tuple[Any, ...], amount: float) -> float:
        """Add ``amount`` under ``key``; returns the new total."""
        with self._lock:
            total = self._windows.pop(key, 0.0) + amount
            self._windows[key] = total
            _trim(self._windows)
            return total

    def next_count(self, name: str) -> int:
        """0, 1, 2, ... per ``name`` (deterministic percentage splits)."""
        with self._lock:
            value = self._counters.get(name, 0)
            self._counters[name] = value + 1
            return value

    def session_model(self, session: str) -> str | None:
        with self._lock:
            return self._sessions.get(session)

    def pin_session(self, session: str, model: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)
            self._sessions[session] = model
            _trim(self._sessions)

    def clear(self) -> None:
        with self._lock:
            self.credits_spent = 0.0
            self._windows.clear()
            self._counters.clear()
            self._sessions.clear()


def _trim(table: dict[Any, Any]) -> None:
    while len(table) > MAX_TRACKED:
        del table[next(iter(table))]
