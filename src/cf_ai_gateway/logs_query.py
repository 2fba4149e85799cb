"""The logs API's vocabulary: checked filters and queries, and typed log entries and pages.

Cloudflare's ``GET …/logs`` and ``DELETE …/logs`` take ``filters``, a JSON array of
``{"key", "operator", "value": [...]}`` items (keys such as ``model``, ``success``, ``cost``,
``created_at``, ``metadata.key``; operators ``eq``, ``neq``, ``contains``, ``lt``, ``gt``), plus
``order_by``, ``order_by_direction``, ``page`` and ``per_page``; the older top-level parameters
(``model=``, ``cached=``, ``start_date=``…) are deprecated. :func:`build_filters` turns friendly
keyword arguments into those items, checked before anything is sent. :class:`GatewayLog` is one
entry of the API, read defensively: a field of the wrong type reads as None, never an exception.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import field
from typing import Any

from .errors import ConfigurationError, StreamError
from .records import record

__all__ = [
    "FILTER_KEYS",
    "FILTER_OPERATORS",
    "ORDER_BY",
    "GatewayLog",
    "LogFilter",
    "LogPage",
    "build_filters",
    "filter_arguments",
    "list_arguments",
    "parse_log",
    "parse_page",
]

FILTER_KEYS = frozenset(
    {
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
    }
)
FILTER_OPERATORS = frozenset({"eq", "neq", "contains", "lt", "gt"})
ORDER_BY = ("created_at", "provider", "model", "model_type", "success", "cached")
DELETE_ORDER_BY = (*ORDER_BY, "cost", "tokens_in", "tokens_out", "duration", "feedback")
DIRECTIONS = ("asc", "desc")
MAX_PER_PAGE = 50

Scalar = str | int | float | bool


@record(frozen=True)
class LogFilter:
    """One item of the logs API's ``filters``: ``key``, ``operator`` and the values it matches."""

    key: str
    operator: str
    value: tuple[Scalar | None, ...]

    def to_api(self) -> dict[str, Any]:
        return {"key": self.key, "operator": self.operator, "value": list(self.value)}


def _check_filter(item: Any, arg: str = "filters") -> LogFilter:
    if isinstance(item, LogFilter):
        item = item.to_api()
    if not isinstance(item, Mapping):
        raise ConfigurationError(
            f"{arg} items must be LogFilter or {{'key', 'operator', 'value'}} dicts; got {item!r}"
        )
    unknown = set(item) - {"key", "operator", "value"}
    if unknown:
        raise ConfigurationError(
            f"{arg} item has unknown field(s): {', '.join(sorted(map(str, unknown)))}"
        )
    key, operator = item.get("key"), item.get("operator", "eq")
    if key not in FILTER_KEYS:
        raise ConfigurationError(
            f"{arg} key must be one of {', '.join(sorted(FILTER_KEYS))}; got {key!r}"
        )
    if operator not in FILTER_OPERATORS:
        raise ConfigurationError(
            f"{arg} operator must be one of {', '.join(sorted(FILTER_OPERATORS))}; got {operator!r}"
        )
    raw = item.get("value")
    values = list(raw) if isinstance(raw, (list, tuple)) else [raw]
    if not values:
        raise ConfigurationError(f"{arg} item {key!r} needs at least one value")
    for value in values:
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise ConfigurationError(
                f"{arg} values must be str, number, bool or None; got {type(value).__name__}"
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigurationError(f"{arg} values must be finite numbers")
    return LogFilter(str(key), str(operator), tuple(values))


def _as_time(value: Any, arg: str, now: _dt.datetime | None = None) -> str:
    """An ISO 8601 UTC time from a datetime, an ISO string, or a timedelta before now."""
    if isinstance(value, _dt.timedelta):
        if value < _dt.timedelta(0):
            raise ConfigurationError(f"{arg} as a timedelta must not be negative; got {value!r}")
        value = (now or _dt.datetime.now(_dt.timezone.utc)) - value
    if isinstance(value, str):
        try:
            value = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigurationError(f"{arg} must be an ISO 8601 time; got {value!r}") from None
    if not isinstance(value, _dt.datetime):
        raise ConfigurationError(
            f"{arg} must be a datetime, an ISO 8601 string or a timedelta; got {value!r}"
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    utc: _dt.datetime = value.astimezone(_dt.timezone.utc)
    return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(value: Any, arg: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(f"{arg} must be a finite number; got {value!r}")
    return value


def _texts(value: Any, arg: str) -> list[Scalar | None]:
    values = [value] if isinstance(value, str) else value
    if (
        not isinstance(values, Sequence)
        or not values
        or not all(isinstance(v, str) and v for v in values)
    ):
        raise ConfigurationError(
            f"{arg} must be a non-empty string or a list of them; got {value!r}"
        )
    return list(values)


def _flag(value: Any, arg: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{arg} must be True or False; got {value!r}")
    return value


def _alias(value: Any, alias: Any, name: str, alias_name: str) -> Any:
    if value is not None and alias is not None:
        raise ConfigurationError(f"give {name} or {alias_name}, not both")
    return alias if value is None else value


def build_filters(
    *,
    model: str | Sequence[str] | None = None,
    provider: str | Sequence[str] | None = None,
    success: bool | None = None,
    cached: bool | None = None,
    feedback: int | None = None,
    event_id: str | None = None,
    metadata: Mapping[str, Scalar] | None = None,
    since: Any = None,
    until: Any = None,
    min_cost: float | None = None,
    max_cost: float | None = None,
    filters: Sequence[LogFilter | Mapping[str, Any]] | None = None,
    start_date: Any = None,
    end_date: Any = None,
) -> list[LogFilter]:
    """The ``filters`` items that the keyword arguments describe (all must match).

    ``start_date`` / ``end_date`` (the API's own names) are aliases of ``since`` / ``until``.
    """
    since = _alias(since, start_date, "since", "start_date")
    until = _alias(until, end_date, "until", "end_date")
    out: list[LogFilter] = []
    if model is not None:
        out.append(LogFilter("model", "eq", tuple(_texts(model, "model"))))
    if provider is not None:
        out.append(LogFilter("provider", "eq", tuple(_texts(provider, "provider"))))
    if success is not None:
        out.append(LogFilter("success", "eq", (_flag(success, "success"),)))
    if cached is not None:
        out.append(LogFilter("cached", "eq", (_flag(cached, "cached"),)))
    if feedback is not None:
        if isinstance(feedback, bool) or feedback not in (-1, 0, 1):
            raise ConfigurationError(f"feedback must be -1, 0 or 1; got {feedback!r}")
        out.append(LogFilter("feedback", "eq", (int(feedback),)))
    if event_id is not None:
        out.append(LogFilter("event_id", "eq", tuple(_texts(event_id, "event_id"))))
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not metadata:
            raise ConfigurationError(f"metadata must be a non-empty dict; got {metadata!r}")
        for key, value in metadata.items():
            if not isinstance(key, str) or not key:
                raise ConfigurationError(f"metadata keys must be non-empty strings; got {key!r}")
            if not isinstance(value, (str, int, float, bool)):
                raise ConfigurationError(
                    f"metadata[{key!r}] must be a str, number or bool; got {type(value).__name__}"
                )
            out.append(LogFilter("metadata.key", "eq", (key,)))
            out.append(LogFilter("metadata.value", "eq", (value,)))
    now = _dt.datetime.now(_dt.timezone.utc)
    if since is not None:
        out.append(LogFilter("created_at", "gt", (_as_time(since, "since", now),)))
    if until is not None:
        out.append(LogFilter("created_at", "lt", (_as_time(until, "until", now),)))
    if min_cost is not None:
        out.append(LogFilter("cost", "gt", (_number(min_cost, "min_cost"),)))
    if max_cost is not None:
        out.append(LogFilter("cost", "lt", (_number(max_cost, "max_cost"),)))
    if filters is not None:
        if isinstance(filters, (str, bytes, Mapping)) or not isinstance(filters, Sequence):
            raise ConfigurationError(f"filters must be a list of filter items; got {filters!r}")
        out.extend(_check_filter(item) for item in filters)
    return out


def encode_filters(filters: Sequence[LogFilter]) -> str:
    """``filters`` as the query string carries them: a compact JSON array."""
    return json.dumps([f.to_api() for f in filters], separators=(",", ":"), allow_nan=False)


def check_order(order_by: Any, direction: Any, choices: Sequence[str] = ORDER_BY) -> dict[str, str]:
    if order_by not in choices:
        raise ConfigurationError(f"order_by must be one of {', '.join(choices)}; got {order_by!r}")
    if direction not in DIRECTIONS:
        raise ConfigurationError(f"direction must be 'asc' or 'desc'; got {direction!r}")
    return {"order_by": str(order_by), "order_by_direction": str(direction)}


def check_count(value: Any, arg: str, maximum: int | None = None) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < 1
        or (maximum is not None and value > maximum)
    ):
        bound = f" up to {maximum}" if maximum is not None else ""
        raise ConfigurationError(f"{arg} must be a positive integer{bound}; got {value!r}")
    return value


_LIST_DEFAULTS: dict[str, Any] = {
    "order_by": "created_at",
    "direction": "desc",
    "per_page": 20,
    "limit": None,
    "search": None,
}
_FILTER_ARGS = frozenset(
    {
        "start_date",
        "end_date",
        "model",
        "provider",
        "success",
        "cached",
        "feedback",
        "event_id",
        "metadata",
        "since",
        "until",
        "min_cost",
        "max_cost",
        "filters",
    }
)


def list_arguments(query: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of a listing, with their defaults; unknown names are refused."""
    query = dict(query)
    if query.get("order_by_direction") is not None:
        query["direction"] = query.pop("order_by_direction")
    query.pop("order_by_direction", None)
    unknown = set(query) - _FILTER_ARGS - set(_LIST_DEFAULTS)
    if unknown:
        raise ConfigurationError(f"unknown logs argument(s): {', '.join(sorted(unknown))}")
    return {**_LIST_DEFAULTS, **query}


def filter_arguments(args: dict[str, Any]) -> dict[str, Any]:
    """The keyword filters of a delete; unknown names are refused."""
    unknown = set(args) - _FILTER_ARGS
    if unknown:
        raise ConfigurationError(f"unknown delete() argument(s): {', '.join(sorted(unknown))}")
    return args


# --- entries and pages ----------------------------------------------------------------------


def _get(raw: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = raw.get(key)
    if isinstance(value, bool) and kind is not bool:
        return None
    return value if isinstance(value, kind) else None


def _finite(value: Any) -> float | None:
    """A JSON number as a finite float; None for anything else (an integer beyond a float's
    range, infinity, NaN, a bool, a string)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _time(value: Any) -> _dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=_dt.timezone.utc)


@record(frozen=True)
class GatewayLog:
    """One gateway log entry as the logs API returns it.

    Fields the API did not send, or sent with an unexpected type, are None; ``raw`` keeps the
    whole entry. ``duration_ms`` is the gateway's ``duration``.
    """

    id: str
    created_at: _dt.datetime | None = None
    model: str | None = None
    provider: str | None = None
    success: bool | None = None
    cached: bool | None = None
    status_code: int | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: float | None = None
    duration_ms: int | None = None
    event_id: str | None = None
    step: int | None = None
    feedback: int | None = None
    score: float | None = None
    path: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, key: str) -> Any:
        """A field of the entry as the API sent it (``entry["request_head"]``)."""
        return self.raw[key]

    def get(self, key: str, default: Any = None) -> Any:
        """A field of the entry as the API sent it, or ``default``."""
        return self.raw.get(key, default)

    @property
    def tokens(self) -> int | None:
        """Input plus output tokens (None when neither is known)."""
        if self.tokens_in is None and self.tokens_out is None:
            return None
        return (self.tokens_in or 0) + (self.tokens_out or 0)


def _metadata(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, str) and value:  # some API versions send it JSON-encoded
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):
            return {}
        return dict(parsed) if isinstance(parsed, dict) else {}
    return {}


def parse_log(raw: Any, status_code: int | None = None) -> GatewayLog:
    """A :class:`GatewayLog` from one API entry; an entry without an id is a StreamError."""
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw["id"]:
        raise StreamError("the logs API returned an entry without an id", status_code=status_code)
    cost = _finite(raw.get("cost"))
    score = _finite(raw.get("score"))
    return GatewayLog(
        id=raw["id"],
        created_at=_time(raw.get("created_at")),
        model=_get(raw, "model", str),
        provider=_get(raw, "provider", str),
        success=_get(raw, "success", bool),
        cached=_get(raw, "cached", bool),
        status_code=_get(raw, "status_code", int),
        tokens_in=_get(raw, "tokens_in", int),
        tokens_out=_get(raw, "tokens_out", int),
        cost=cost,
        duration_ms=_get(raw, "duration", int),
        event_id=_get(raw, "event_id", str),
        step=_get(raw, "step", int),
        feedback=_get(raw, "feedback", int),
        score=score,
        path=_get(raw, "path", str),
        metadata=_metadata(raw.get("metadata")),
        raw=raw,
    )


@record(frozen=True)
class LogPage:
    """One page of a log listing, with the API's ``result_info`` (counts and statistics)."""

    entries: list[GatewayLog]
    page: int
    per_page: int
    total_count: int | None
    info: dict[str, Any] = field(default_factory=dict, repr=False)
    # Set on the pages a listing yields: whether the listing ended with this page.
    last: bool | None = field(default=None, repr=False, compare=False)

    def __iter__(self) -> Iterator[GatewayLog]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def result_info(self) -> dict[str, Any]:
        """The API's ``result_info``: ``count``, ``page``, ``per_page``, ``total_count`` and
        the statistics (``min_cost``, ``max_cost``, ...)."""
        return self.info

    @property
    def page_size(self) -> int:
        """The page size the API used: its ``result_info.per_page`` when smaller than the one
        asked for (an API capping ``per_page``), else the one asked for."""
        size = self.info.get("per_page")
        if type(size) is int and 0 < size < self.per_page:
            return size
        return self.per_page

    @property
    def is_last(self) -> bool:
        """True when no later page can hold more entries: the page is empty, it reaches
        ``total_count``, or (without a count) it is shorter than the API's page size. On a
        page that ``Logs.pages`` yielded, whether the listing ended with it."""
        if self.last is not None:
            return self.last
        if not self.entries:
            return True
        size = self.page_size
        if self.total_count is not None:
            return (self.page - 1) * size + len(self.entries) >= self.total_count
        return len(self.entries) < size


def parse_page(
    result: Any, info: Mapping[str, Any], page: int, per_page: int, status_code: int | None = None
) -> LogPage:
    if not isinstance(result, list):
        raise StreamError(
            "the logs API's list reply has no list of entries", status_code=status_code
        )
    total = info.get("total_count")
    return LogPage(
        entries=[parse_log(item, status_code) for item in result],
        page=page,
        per_page=per_page,
        total_count=total if isinstance(total, int) and not isinstance(total, bool) else None,
        info=dict(info),
    )
