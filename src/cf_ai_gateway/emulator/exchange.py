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
import time
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
    generation: int = 0

    def __post_init__(self) -> None:
        self.generation = self.state.generation
        self.created_at = self.state.clock.now()
        self.log_id = ids.uuid7(self.created_at)

    # -- headers --

    def identity_headers(self, cache_status: str | None = None) -> dict[str, str]:
        headers = {"cf-aig-log-id": self.log_id, "cf-aig-request-id": self.log_id, "cf-aig-step": "0",
                   "cf-aig-event-id": self.event_id}
        if cache_status:
            headers["cf-aig-cache-status"] = cache_status
        return headers

    # -- answers --

    def answer(self, status: int, body: Any, *, cache_status: str | None = None, extra: dict[str, str] | None = None,
               outcome: Outcome | None = None, log: bool = True) -> Response:
        """A JSON (or raw bytes) answer with the identity headers, logged unless ``log`` is False."""
        content = body if isinstance(body, bytes) else json_bytes(body)
        headers = {**self.identity_headers(cache_status), **(extra or {})}
        if log:
            self.write_log(outcome or Outcome(status, body if not isinstance(body, bytes) else None, self.model))
        return Response(content, status_code=status, headers=headers, media_type=JSON_TYPE)

    # -- logging --

    def write_log(self, outcome: Outcome) -> LogEntry | None:
        """Add the log entry for this exchange (unless logging is off for it)."""
        settings = self.state.settings
        if self.generation != self.state.generation:
            return None  # the emulator was reset while this request was in flight
        collect = self.headers.get("cf-aig-collect-log", "").strip().lower()
        if collect == "false" or (collect != "true" and not settings.collect_logs):
            return None
        with_payload = self.headers.get("cf-aig-collect-log-payload", "").strip().lower() != "false"
        tokens_in, tokens_out = outcome.tokens_in, outcome.tokens_out
        cost, custom = self._cost(tokens_in, tokens_out, outcome.cached)
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
            request_headers={k: v for k, v in self.headers.items() if k.startswith("cf-aig-")
                             and k != "cf-aig-authorization"},
            request_body=self.body if with_payload else None,
            response_body=outcome.body if with_payload else None,
            payload_collected=with_payload,
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
        return int((time.perf_counter() - self.started) * 1000)

    def _cost(self, tokens_in: int, tokens_out: int, cached: bool) -> tuple[float, bool]:
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
        if "total_cost" in custom and isinstance(custom["total_cost"], (int, float)):
            return float(custom["total_cost"]), True
        price_in = custom.get("per_token_in", DEFAULT_PRICE_IN)
        price_out = custom.get("per_token_out", DEFAULT_PRICE_OUT)
        if not isinstance(price_in, (int, float)) or not isinstance(price_out, (int, float)):
            price_in, price_out = DEFAULT_PRICE_IN, DEFAULT_PRICE_OUT
        return round(tokens_in * price_in + tokens_out * price_out, 12), bool(custom)
