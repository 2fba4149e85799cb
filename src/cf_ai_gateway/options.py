"""``GatewayOptions``: one checked field per ``cf-aig-*`` request header.

Each field maps to one documented request header (caching, logging, retries, cost, keys, the
Auto Router). Values are checked against the gateway's documented limits when the options are
built, so nothing out of range is ever sent: the gateway would otherwise drop it silently.
Options set on a client and options passed per call merge field by field, and the call wins.
``from_env`` reads each field from ``CF_AIG_<FIELD>`` (for example ``CF_AIG_CACHE_TTL``).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import field, fields
from typing import Any

from .checks import is_finite_number
from .errors import ConfigurationError
from .records import record

__all__ = ["BACKOFF_STRATEGIES", "CUSTOM_COST_KEYS", "GatewayOptions"]

MIN_CACHE_TTL = 60
MAX_CACHE_TTL = 30 * 24 * 3600  # one month
MAX_METADATA_ENTRIES = 5
MAX_ATTEMPTS = 5
MAX_RETRY_DELAY_MS = 5000
BACKOFF_STRATEGIES = ("constant", "linear", "exponential")
CUSTOM_COST_KEYS = (
    "per_token_in",
    "per_token_out",
    "per_cache_read_token",
    "per_cache_write_token",
    "total_cost",
)

# field name -> header name
_HEADERS: dict[str, str] = {
    "cache_ttl": "cf-aig-cache-ttl",
    "skip_cache": "cf-aig-skip-cache",
    "cache_key": "cf-aig-cache-key",
    "metadata": "cf-aig-metadata",
    "collect_log": "cf-aig-collect-log",
    "collect_log_payload": "cf-aig-collect-log-payload",
    "event_id": "cf-aig-event-id",
    "request_timeout_ms": "cf-aig-request-timeout",
    "max_attempts": "cf-aig-max-attempts",
    "retry_delay_ms": "cf-aig-retry-delay",
    "backoff": "cf-aig-backoff",
    "custom_cost": "cf-aig-custom-cost",
    "byok_alias": "cf-aig-byok-alias",
    "zdr": "cf-aig-zdr",
    "no_wholesale": "cf-aig-no-wholesale",
    "session_id": "cf-aig-session-id",
    "turn_id": "cf-aig-turn-id",
    "no_session_affinity": "cf-aig-no-session-affinity",
    "allowed_models": "cf-aig-allowed-models",
    "allowed_providers": "cf-aig-allowed-providers",
    "otel_trace_id": "cf-aig-otel-trace-id",
    "otel_parent_span_id": "cf-aig-otel-parent-span-id",
}
# OpenTelemetry trace context for the gateway's exported span: lower-case hex of these lengths.
_HEX_FIELDS = {"otel_trace_id": 32, "otel_parent_span_id": 16}

_BOOL_FIELDS = frozenset(
    {
        "skip_cache",
        "collect_log",
        "collect_log_payload",
        "zdr",
        "no_wholesale",
        "no_session_affinity",
    }
)
_STR_FIELDS = frozenset(
    {"cache_key", "event_id", "byok_alias", "backoff", "session_id", "turn_id", *_HEX_FIELDS}
)
_INT_FIELDS = frozenset({"cache_ttl", "request_timeout_ms", "max_attempts", "retry_delay_ms"})
_LIST_FIELDS = frozenset({"allowed_models", "allowed_providers"})


def env_var(name: str) -> str:
    """The environment variable that ``GatewayOptions.from_env`` reads for field ``name``."""
    return f"CF_AIG_{name.upper()}"


def _fail(name: str, problem: str) -> ConfigurationError:
    return ConfigurationError(
        f"gateway_options.{name} {problem} (header {_HEADERS[name]}, "
        f"environment variable {env_var(name)})"
    )


def _check_header_text(name: str, value: str) -> None:
    if not value:
        raise _fail(name, "must not be empty")
    if any(ch in value for ch in "\r\n\x00"):
        raise _fail(name, "must not contain CR, LF or NUL characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise _fail(name, "must not contain control characters (tab included)")
    if value != value.strip():
        raise _fail(name, "must not start or end with whitespace")
    if not value.isascii():
        raise _fail(name, "must be ASCII: HTTP header values cannot carry other characters")
    if len(value) > 1024:
        raise _fail(name, "must be at most 1024 characters")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@record(frozen=True)
class GatewayOptions:
    """Per-request gateway options. Every field left ``None`` sends no header.

    Caching: ``cache_key`` (opts the request into caching), ``cache_ttl`` (seconds, 60 to one
    month: how long a request that uses caching is cached; alone it caches nothing), ``skip_cache``. Logging: ``metadata`` (at most 5 entries of str/int/float/bool, no
    ``cf.`` keys), ``collect_log``, ``collect_log_payload``, ``event_id``. Timeouts and retries
    done by the gateway: ``request_timeout_ms``, ``max_attempts`` (1-5), ``retry_delay_ms``
    (0-5000), ``backoff`` (constant, linear or exponential). Cost and keys: ``custom_cost`` (keys
    per_token_in, per_token_out, per_cache_read_token, per_cache_write_token, total_cost),
    ``byok_alias``, ``zdr``, ``no_wholesale``. Auto Router: ``session_id``, ``turn_id``,
    ``no_session_affinity``, ``allowed_models``, ``allowed_providers``.
    """

    cache_ttl: int | None = None
    skip_cache: bool | None = None
    cache_key: str | None = None
    metadata: Mapping[str, str | int | float | bool] | None = None
    collect_log: bool | None = None
    collect_log_payload: bool | None = None
    event_id: str | None = None
    request_timeout_ms: int | None = None
    max_attempts: int | None = None
    retry_delay_ms: int | None = None
    backoff: str | None = None
    custom_cost: Mapping[str, float] | None = None
    byok_alias: str | None = None
    zdr: bool | None = None
    no_wholesale: bool | None = None
    session_id: str | None = None
    turn_id: str | None = None
    no_session_affinity: bool | None = None
    allowed_models: tuple[str, ...] | None = None
    allowed_providers: tuple[str, ...] | None = None
    otel_trace_id: str | None = None
    otel_parent_span_id: str | None = None
    _headers: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers: dict[str, str] = {}
        for name, header in _HEADERS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if name in _LIST_FIELDS and not isinstance(value, tuple):
                if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
                    value = tuple(v.strip() for v in str(value).split(",") if v.strip())
                else:
                    value = tuple(value)
                object.__setattr__(self, name, value)
            if name == "metadata" and isinstance(value, Mapping):
                object.__setattr__(self, name, dict(value))
            if name == "custom_cost" and isinstance(value, Mapping):
                object.__setattr__(self, name, dict(value))
            headers[header] = self._encode(name, getattr(self, name))
        object.__setattr__(self, "_headers", headers)

    @staticmethod
    def _encode(name: str, value: Any) -> str:
        if name in _BOOL_FIELDS:
            if not isinstance(value, bool):
                raise _fail(name, f"must be a bool, not {type(value).__name__}")
            return "true" if value else "false"
        if name in _INT_FIELDS:
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if not isinstance(value, int) or isinstance(value, bool):
                raise _fail(name, f"must be an integer, not {type(value).__name__}")
            _check_int_range(name, value)
            return str(value)
        if name in _STR_FIELDS:
            if not isinstance(value, str):
                raise _fail(name, f"must be a string, not {type(value).__name__}")
            _check_header_text(name, value)
            width = _HEX_FIELDS.get(name)
            if width is not None and (
                len(value) != width or value.strip("0123456789abcdef") or not value.strip("0")
            ):
                raise _fail(name, f"must be {width} lower-case hex characters, not all zero")
            if name == "backoff" and value not in BACKOFF_STRATEGIES:
                raise _fail(name, f"must be one of {', '.join(BACKOFF_STRATEGIES)}; got {value!r}")
            return value
        if name in _LIST_FIELDS:
            if not value:
                raise _fail(name, "must name at least one entry")
            for entry in value:
                if not isinstance(entry, str) or "," in entry:
                    raise _fail(name, f"entries must be strings without commas; got {entry!r}")
                _check_header_text(name, entry)
            return ",".join(value)
        if name == "metadata":
            return _encode_metadata(value)
        if name == "custom_cost":
            return _encode_custom_cost(value)
        raise AssertionError(name)  # pragma: no cover

    def to_headers(self) -> dict[str, str]:
        """The ``cf-aig-*`` request headers these options send."""
        return dict(self._headers)

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers, without a copy (read-only by convention)."""
        return self._headers

    def is_empty(self) -> bool:
        return not self._headers

    def merge(self, override: GatewayOptions | Mapping[str, Any] | None) -> GatewayOptions:
        """These options with every field that ``override`` sets replaced by its value."""
        other = GatewayOptions.coerce(override)
        if other.is_empty():
            return self
        if self.is_empty():
            return other
        values = {f: getattr(self, f) for f in _HEADERS}
        values.update({f: getattr(other, f) for f in _HEADERS if getattr(other, f) is not None})
        return GatewayOptions(**values)

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set."""
        return {f: getattr(self, f) for f in _HEADERS if getattr(self, f) is not None}

    @classmethod
    def coerce(cls, value: GatewayOptions | Mapping[str, Any] | None) -> GatewayOptions:
        """Accept ``GatewayOptions``, a dict of its fields, or None."""
        if value is None:
            return _empty()
        if isinstance(value, GatewayOptions):
            return value
        if isinstance(value, Mapping):
            unknown = sorted(set(value) - set(_HEADERS))
            if unknown:
                raise ConfigurationError(
                    f"gateway_options has unknown field(s) {', '.join(map(repr, unknown))}; "
                    f"valid fields: {', '.join(_HEADERS)}"
                )
            return cls(**{k: v for k, v in value.items() if v is not None})
        raise ConfigurationError(
            f"gateway_options must be a GatewayOptions or a dict, not {type(value).__name__}"
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> GatewayOptions:
        """Read each field from ``CF_AIG_<FIELD>``; unset variables leave the field unset."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in _HEADERS:
            raw = env.get(env_var(name))
            if raw is None or raw == "":
                continue
            values[name] = _parse_env_value(name, raw)
        return cls(**values) if values else _empty()

    @staticmethod
    def header_names() -> dict[str, str]:
        """Field name to header name, for documentation and tooling."""
        return dict(_HEADERS)


def _check_int_range(name: str, value: int) -> None:
    if name == "cache_ttl" and not MIN_CACHE_TTL <= value <= MAX_CACHE_TTL:
        raise _fail(
            name, f"must be between {MIN_CACHE_TTL} and {MAX_CACHE_TTL} seconds; got {value}"
        )
    if name == "max_attempts" and not 1 <= value <= MAX_ATTEMPTS:
        raise _fail(name, f"must be between 1 and {MAX_ATTEMPTS}; got {value}")
    if name == "retry_delay_ms" and not 0 <= value <= MAX_RETRY_DELAY_MS:
        raise _fail(name, f"must be between 0 and {MAX_RETRY_DELAY_MS} ms; got {value}")
    if name == "request_timeout_ms" and value <= 0:
        raise _fail(name, f"must be a positive number of milliseconds; got {value}")


def _encode_metadata(value: Any) -> str:
    name = "metadata"
    if not isinstance(value, Mapping):
        raise _fail(name, f"must be a dict, not {type(value).__name__}")
    if not value:
        raise _fail(name, "must have at least one entry")
    if len(value) > MAX_METADATA_ENTRIES:
        raise _fail(
            name,
            f"has {len(value)} entries; the gateway keeps at most {MAX_METADATA_ENTRIES} "
            "and silently drops the rest",
        )
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise _fail(name, f"keys must be non-empty strings; got {key!r}")
        if key.startswith("cf."):
            raise _fail(name, f"key {key!r} uses the reserved 'cf.' prefix, which is not saved")
        if item is None or not isinstance(item, (str, int, float, bool)):
            raise _fail(
                name,
                f"value of {key!r} must be a str, int, float or bool, not "
                f"{type(item).__name__}; the gateway drops all metadata otherwise",
            )
        if _is_number(item) and not is_finite_number(item):
            raise _fail(name, f"value of {key!r} must be a finite number")
    text = json.dumps(dict(value), separators=(",", ":"), ensure_ascii=True)
    _check_header_text(name, text)
    return text


def _encode_custom_cost(value: Any) -> str:
    name = "custom_cost"
    if not isinstance(value, Mapping) or not value:
        raise _fail(name, f"must be a non-empty dict with keys among {', '.join(CUSTOM_COST_KEYS)}")
    for key, item in value.items():
        if key not in CUSTOM_COST_KEYS:
            raise _fail(name, f"has unknown key {key!r}; valid keys: {', '.join(CUSTOM_COST_KEYS)}")
        if not is_finite_number(item) or item < 0:
            raise _fail(name, f"value of {key!r} must be a non-negative number; got {item!r}")
    return json.dumps(dict(value), separators=(",", ":"))


def _parse_env_value(name: str, raw: str) -> Any:
    if name in _BOOL_FIELDS:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise _fail(name, f"must be true or false; got {raw!r}")
    if name in _INT_FIELDS:
        try:
            return int(raw.strip())
        except ValueError:
            raise _fail(name, f"must be an integer; got {raw!r}") from None
    if name in ("metadata", "custom_cost"):
        try:
            return json.loads(raw)
        except ValueError:
            raise _fail(name, "must be a JSON object") from None
    return raw


@functools.cache
def _empty() -> GatewayOptions:
    """The shared options that set nothing (built on first use, not at import)."""
    return GatewayOptions()


# Field names in declaration order (handy for tooling and docs).
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(GatewayOptions) if f.init)
