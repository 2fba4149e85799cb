"""One request through a gateway route: its identity headers, its answer, and its log entry.

Every answer of a gateway route — success or failure — carries ``cf-aig-log-id``, an equal
``cf-aig-request-id``, ``cf-aig-step: 0`` and ``cf-aig-event-id`` (the caller's own, else the same
UUIDv7 as the log id, as the gateway answers a single-step request since 2026-10-08); answers that reached
the provider stage also carry ``cf-aig-cache-status``. :class:`Exchange` builds those answers and
writes the log entry the way the gateway does (``cf-aig-collect-log`` and
``cf-aig-collect-log-payload`` respected, cost from ``cf-aig-custom-cost`` or a default price).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

from . import ids
from .logs import LogEntry, parse_metadata
from .routes import RouteMatch
from .state import EmulatorState

DEFAULT_PRICE_IN = 0.15e-6
DEFAULT_PRICE_OUT = 0.6e-6
JSON_TYPE = "application/json"


def json_bytes(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Outcome:
    """What the log should say about an answer."""

    status: int
    body: Any = None
    model: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    cached: bool = False
    stream: bool = False
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@dataclass
class Exchange:
    """A request through a gateway route, from arrival to log entry."""

    state: EmulatorState
    route: RouteMatch
    method: str
    path: str
    headers: dict[str, str]
    raw_body: bytes
    gateway: str
    provider: str
    log_id: str = ""
    started: float = field(default_factory=time.perf_counter)
    created_at: float = 0.0
    body: Any = None
    model: str | None = None
    request_type: str = "chat"
    authenticated: bool = False
    byok: bool = False
    wholesale: bool = False
    step: int = 0
    attempts: int = 0
    waited_ms: int = 0
    feature_headers: dict[str, str] = field(default_factory=dict)
    cost_listeners: list[Callable[[float], None]] = field(default_factory=list)
    feature_notes: dict[str, Any] = field(default_factory=dict)
    generation: int = 0

    def __post_init__(self) -> None:
        self.generation = self.state.generation
        self.created_at = self.state.clock.now()
        self.log_id = ids.uuid7(self.created_at)

    # -- headers --

    def identity_headers(self, cache_status: str | None = None) -> dict[str, str]:
        headers = {
            "cf-aig-log-id": self.log_id,
            "cf-aig-request-id": self.log_id,
            "cf-aig-step": str(self.step),
            "cf-aig-event-id": self.event_id,
            **self.feature_headers,
        }
        if cache_status:
            headers["cf-aig-cache-status"] = cache_status
        return headers

    # -- answers --

    def answer(
        self,
        status: int,
        body: Any,
        *,
        cache_status: str | None = None,
        extra: dict[str, str] | None = None,
        outcome: Outcome | None = None,
        log: bool = True,
    ) -> Response:
        """A JSON (or raw bytes) answer with the identity headers, logged unless ``log`` is False."""
        content = body if isinstance(body, bytes) else json_bytes(body)
        headers = {**self.identity_headers(cache_status), **(extra or {})}
        if log:
            self.write_log(
                outcome
                or Outcome(status, body if not isinstance(body, bytes) else None, self.model)
            )
        return Response(content, status_code=status, headers=headers, media_type=JSON_TYPE)

    # -- logging --

    def write_log(self, outcome: Outcome) -> LogEntry | None:
        """Add the log entry for this exchange (unless logging is off for it)."""
        settings = self.state.settings
        if self.generation != self.state.generation:
            return None  # the emulator was reset while this request was in flight
        cost, custom = self.cost(outcome)
        if outcome.status < 400 and not outcome.cached:
            for listener in self.cost_listeners:
                listener(cost)
        collect = self.headers.get("cf-aig-collect-log", "").strip().lower()
        if collect == "false" or (collect != "true" and not settings.collect_logs):
            return None
        with_payload = self.headers.get("cf-aig-collect-log-payload", "").strip().lower() != "false"
        tokens_in, tokens_out = outcome.tokens_in, outcome.tokens_out
        entry = LogEntry(
            id=self.log_id,
            account_id=self.route.account,
            gateway_id=self.gateway,
            created_at=self.created_at,
            path=self.path,
            provider=self.provider,
            model=outcome.model or self.model,
            status_code=outcome.status,
            success=outcome.status < 400,
            cached=outcome.cached,
            duration_ms=self.elapsed_ms(),
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=cost,
            custom_cost=custom,
            event_id=self.event_id,
            metadata=parse_metadata(self.headers.get("cf-aig-metadata")),
            request_type=self.request_type,
            stream=outcome.stream,
            authentication=self.authenticated,
            byok=self.byok,
            request_headers={
                k: v
                for k, v in self.headers.items()
                if k.startswith("cf-aig-") and k != "cf-aig-authorization"
            },
            request_body=self.body if with_payload else None,
            response_body=outcome.body if with_payload else None,
            payload_collected=with_payload,
            step=self.step,
            attempts=max(1, self.attempts),
            wholesale=self.wholesale,
            notes=dict(self.feature_notes),
            dlp_action=_dlp_action(self.feature_headers.get("cf-aig-dlp")),
        )
        self.state.logs.add(entry)
        if settings.otel_exporter is not None:
            from .otel import export_gateway_span

            export_gateway_span(settings.otel_exporter, entry, self.headers)
        return entry

    @property
    def event_id(self) -> str:
        """The caller's ``cf-aig-event-id``, else the log id."""
        return self.headers.get("cf-aig-event-id", "").strip() or self.log_id

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000) + self.waited_ms

    def cost(self, outcome: Outcome) -> tuple[float, bool]:
        """The cost of an answer (``cf-aig-custom-cost`` or the default price) and whether it was custom.

        When the custom cost names ``per_cache_read_token`` or ``per_cache_write_token``, cached
        prompt tokens are priced at those rates (an omitted one defaults to ``per_token_in``).
        """
        tokens_in, tokens_out, cached = outcome.tokens_in, outcome.tokens_out, outcome.cached
        raw = self.headers.get("cf-aig-custom-cost")
        custom: dict[str, Any] = {}
        if raw:
            try:
                parsed = json.loads(raw)
                custom = parsed if isinstance(parsed, dict) else {}
            except ValueError:
                custom = {}
        if cached:
            return 0.0, bool(custom)
        if "total_cost" in custom and _is_rate(custom["total_cost"]):
            return float(custom["total_cost"]), True
        price_in = custom.get("per_token_in", DEFAULT_PRICE_IN)
        price_out = custom.get("per_token_out", DEFAULT_PRICE_OUT)
        if not _is_rate(price_in) or not _is_rate(price_out):
            price_in, price_out = DEFAULT_PRICE_IN, DEFAULT_PRICE_OUT
        if "per_cache_read_token" in custom or "per_cache_write_token" in custom:
            read_rate = custom.get("per_cache_read_token", price_in)
            write_rate = custom.get("per_cache_write_token", price_in)
            if _is_rate(read_rate) and _is_rate(write_rate):
                read, write = outcome.cache_read_tokens, outcome.cache_write_tokens
                uncached = max(0, tokens_in - read - write)
                total = (
                    uncached * price_in
                    + read * read_rate
                    + write * write_rate
                    + tokens_out * price_out
                )
                return round(total, 12), True
        return round(tokens_in * price_in + tokens_out * price_out, 12), bool(custom)


def _dlp_action(report: str | None) -> str | None:
    if not report:
        return None
    try:
        action = json.loads(report).get("action")
    except (ValueError, AttributeError):
        return None
    return str(action) if action else None


def _is_rate(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )
