"""The gateway's in-memory request logs, their metadata rules, and the logs-API views of them.

Each request through a gateway route becomes a :class:`LogEntry` (unless it sent
``cf-aig-collect-log: false``) holding what Cloudflare's log shows: model, provider, status,
token counts, cost, cache status, duration, event id, metadata, feedback and score, and the
request and response bodies unless ``cf-aig-collect-log-payload: false``. Metadata follows the
documented limits: at most 5 entries kept, ``cf.`` keys not saved, and a null or nested value
drops the whole set.
"""

from __future__ import annotations

import datetime as _dt
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_METADATA_ENTRIES = 5
DEFAULT_MAX_LOGS = 1_000


def parse_metadata(raw: str | None) -> dict[str, str | int | float | bool]:
    """Apply the gateway's metadata rules to a ``cf-aig-metadata`` header value."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    kept: dict[str, str | int | float | bool] = {}
    for key, item in value.items():
        if item is None or isinstance(item, (dict, list)):
            return {}
        if str(key).startswith("cf."):
            continue
        if len(kept) < MAX_METADATA_ENTRIES:
            kept[str(key)] = item
    return kept


def _iso(timestamp: float) -> str:
    moment = _dt.datetime.fromtimestamp(timestamp, tz=_dt.timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class LogEntry:
    """One gateway log entry, as the logs API shows it."""

    id: str
    account_id: str
    gateway_id: str
    created_at: float
    path: str
    provider: str
    model: str | None
    status_code: int
    success: bool
    cached: bool
    duration_ms: int
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    custom_cost: bool = False
    event_id: str | None = None
    metadata: dict[str, str | int | float | bool] = field(default_factory=dict)
    request_type: str = "chat"
    stream: bool = False
    authentication: bool = False
    byok: bool = False
    feedback: int = 0
    score: float | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = None
    response_body: Any = None
    payload_collected: bool = True
    step: int = 0
    # Emulator-only detail, not in the logs API: upstream attempts made, and what guardrails noted.
    attempts: int = 1
    wholesale: bool = False
    notes: dict[str, Any] = field(default_factory=dict)
    dlp_action: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The entry as ``GET …/logs/{id}`` returns it (bodies are served separately)."""
        return {
            "id": self.id,
            "created_at": _iso(self.created_at),
            "cached": self.cached,
            "duration": self.duration_ms,
            "model": self.model,
            "model_type": self.request_type,
            "path": self.path,
            "provider": self.provider,
            "success": self.success,
            "status_code": self.status_code,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost": self.cost,
            "custom_cost": self.custom_cost,
            "event_id": self.event_id,
            "metadata": dict(self.metadata),
            "feedback": self.feedback,
            "score": self.score,
            "step": self.step,
            "request_type": self.request_type,
            "request_content_type": "application/json",
            "response_content_type": "text/event-stream" if self.stream else "application/json",
            "request_size": len(json.dumps(self.request_body))
            if self.request_body is not None
            else 0,
            "response_size": len(json.dumps(self.response_body))
            if self.response_body is not None
            else 0,
            "request_head": json.dumps(self.request_body)[:256] if self.payload_collected else "",
            "request_head_complete": self.payload_collected,
            "response_head": json.dumps(self.response_body)[:256] if self.payload_collected else "",
            "response_head_complete": self.payload_collected,
            "authentication": self.authentication,
            "byok": self.byok,
            "wholesale": self.wholesale,
            "dlp_action": self.dlp_action,
        }


class LogStore:
    """Thread-safe log entries, oldest first, at most ``max_entries`` (the oldest are evicted first).

    The real gateway keeps a bounded number of logs per gateway too and can delete the oldest
    when full (``log_management_strategy: DELETE_OLDEST``).
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_LOGS) -> None:
        self._entries: OrderedDict[str, LogEntry] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def add(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.pop(entry.id, None)
            self._entries[entry.id] = entry
            self._trim()

    def _trim(self) -> None:
        while len(self._entries) > max(1, self.max_entries):
            self._entries.popitem(last=False)

    def set_limit(self, max_entries: int) -> None:
        with self._lock:
            self.max_entries = max_entries
            self._trim()

    def find(self, log_id: str) -> LogEntry | None:
        with self._lock:
            return self._entries.get(log_id)

    def get(self, account_id: str, gateway_id: str, log_id: str) -> LogEntry | None:
        entry = self.find(log_id)
        if entry is not None and entry.gateway_id == gateway_id and entry.account_id == account_id:
            return entry
        return None

    def remove(self, doomed: list[LogEntry]) -> int:
        """Delete these entries; returns how many were removed."""
        removed = 0
        with self._lock:
            for entry in doomed:
                if self._entries.get(entry.id) is entry:
                    del self._entries[entry.id]
                    removed += 1
        return removed

    def snapshot(self) -> list[LogEntry]:
        with self._lock:
            return list(self._entries.values())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


# --- the logs API's list filters ------------------------------------------------------------

_BOOL_PARAMS = ("success", "cached")
# The filter keys and operators the logs API documents (list; DELETE takes the same but user_agent).
FILTER_KEYS = (
    "id",
    "created_at",
    "request_content_type",
    "response_content_type",
    "request_type",
    "success",
    "cached",
    "provider",
    "model",
    "model_type",
    "cost",
    "tokens",
    "tokens_in",
    "tokens_out",
    "duration",
    "feedback",
    "event_id",
    "metadata.key",
    "metadata.value",
    "authentication",
    "wholesale",
    "compatibilityMode",
    "dlp_action",
    "user_agent",
)
DELETE_FILTER_KEYS = tuple(key for key in FILTER_KEYS if key != "user_agent")
FILTER_OPERATORS = ("eq", "neq", "contains", "lt", "gt")
LIST_ORDER_BY = ("created_at", "provider", "model", "model_type", "success", "cached")
DELETE_ORDER_BY = (*LIST_ORDER_BY, "cost", "tokens_in", "tokens_out", "duration", "feedback")
_TEXT_PARAMS = ("model", "provider", "model_type")


def _field_value(entry: LogEntry, key: str) -> list[Any]:
    """The values of ``key`` on ``entry`` that a filter compares against."""
    if key == "metadata.key":
        return list(entry.metadata)
    if key == "metadata.value":
        return list(entry.metadata.values())
    if key == "tokens":
        return [entry.tokens_in + entry.tokens_out]
    if key == "duration":
        return [entry.duration_ms]
    if key == "model_type":
        return [entry.request_type]
    if key == "compatibilityMode":
        return ["/compat/" in entry.path]
    if key == "user_agent":
        return [entry.request_headers.get("user-agent")]
    if hasattr(entry, key):
        return [getattr(entry, key)]
    return [entry.to_api().get(key)]


def _compare(actual: Any, operator: str, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        actual_text, expected_text = str(actual).lower(), str(expected).lower()
        if operator == "neq":
            return actual_text != expected_text
        return actual_text == expected_text
    if operator in ("lt", "gt"):
        try:
            left, right = float(actual), float(expected)
        except (TypeError, ValueError):
            return False
        return left < right if operator == "lt" else left > right
    if operator == "contains":
        return str(expected).lower() in str(actual).lower()
    if operator == "neq":
        return str(actual) != str(expected)
    return str(actual) == str(expected)


def _epoch(value: Any) -> Any:
    """An ISO 8601 ``created_at`` filter value as epoch seconds (other values unchanged)."""
    if not isinstance(value, str):
        return value
    try:
        moment = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.timezone.utc)
    return moment.timestamp()


def _matches_filter(entry: LogEntry, item: Mapping[str, Any]) -> bool:
    key = str(item.get("key", ""))
    operator = str(item.get("operator", "eq"))
    expected = item.get("value", [])
    expected_values = expected if isinstance(expected, list) else [expected]
    if key == "created_at":
        expected_values = [_epoch(value) for value in expected_values]
    actual_values = _field_value(entry, key)
    if operator == "neq":
        return all(_compare(a, "neq", e) for a in actual_values for e in expected_values)
    return any(_compare(a, operator, e) for a in actual_values for e in expected_values)


class FilterError(ValueError):
    """A log filter the API would reject."""


def parse_filters(raw: str | None, keys: tuple[str, ...] = FILTER_KEYS) -> list[dict[str, Any]]:
    """The ``filters`` query parameter (a JSON array), with every key and operator checked."""
    if not raw:
        return []
    try:
        filters = json.loads(raw)
    except ValueError as exc:
        raise FilterError("filters must be a JSON array") from exc
    if not isinstance(filters, list) or not all(isinstance(f, dict) for f in filters):
        raise FilterError("filters must be a JSON array of objects")
    for item in filters:
        key = item.get("key")
        if key not in keys:
            raise FilterError(
                f"Invalid enum value for filters[].key: {str(key)[:80]!r}. "
                f"Expected one of: {', '.join(keys)}"
            )
        if item.get("operator", "eq") not in FILTER_OPERATORS:
            raise FilterError(
                f"Invalid enum value for filters[].operator. Expected one of: {', '.join(FILTER_OPERATORS)}"
            )
    return filters


def apply_filters(entries: list[LogEntry], filters: list[dict[str, Any]]) -> list[LogEntry]:
    selected = list(entries)
    for item in filters:
        selected = [e for e in selected if _matches_filter(e, item)]
    return selected


def statistics(entries: list[LogEntry]) -> dict[str, float]:
    """The documented ``result_info`` statistics over ``entries`` (all pages)."""
    if not entries:
        return {}
    columns: dict[str, Sequence[float]] = {
        "cost": [e.cost for e in entries],
        "duration": [e.duration_ms for e in entries],
        "tokens_in": [e.tokens_in for e in entries],
        "tokens_out": [e.tokens_out for e in entries],
        "total_tokens": [e.tokens_in + e.tokens_out for e in entries],
    }
    stats: dict[str, float] = {}
    for name, values in columns.items():
        stats[f"min_{name}"] = min(values)
        stats[f"max_{name}"] = max(values)
    return stats


def select_logs(
    entries: list[LogEntry], params: Mapping[str, str]
) -> tuple[list[LogEntry], dict[str, Any]]:
    """Filter, order and page ``entries`` by the logs-API query ``params``."""
    selected = list(entries)
    for name in _BOOL_PARAMS:
        if name in params:
            wanted = params[name].lower() == "true"
            selected = [e for e in selected if getattr(e, name) is wanted]
    for name in _TEXT_PARAMS:
        if name in params:
            selected = [e for e in selected if str(_field_value(e, name)[0]) == params[name]]
    if "feedback" in params:
        selected = [e for e in selected if str(e.feedback) == params["feedback"]]
    if "event_id" in params:
        selected = [e for e in selected if e.event_id == params["event_id"]]
    if "search" in params:
        needle = params["search"].lower()
        selected = [
            e
            for e in selected
            if needle in json.dumps([e.request_body, e.response_body, e.model]).lower()
        ]
    selected = apply_filters(selected, parse_filters(params.get("filters")))
    descending = params.get("direction", params.get("order_by_direction", "desc")).lower() != "asc"
    order_by = params.get("order_by", "created_at")
    if order_by not in LIST_ORDER_BY:
        raise FilterError("Invalid enum value for order_by")
    selected.sort(key=lambda e: (str(_field_value(e, order_by)[0]), e.id), reverse=descending)
    try:
        page = max(1, int(params.get("page", "1")))
        per_page = max(1, min(50, int(params.get("per_page", "20"))))
    except ValueError as exc:
        raise FilterError("page and per_page must be integers") from exc
    start = (page - 1) * per_page
    page_entries = selected[start : start + per_page]
    info: dict[str, Any] = {
        "page": page,
        "per_page": per_page,
        "count": len(page_entries),
        "total_count": len(selected),
        **statistics(selected),
    }
    return page_entries, info
