"""Everything the running emulator remembers, shared safely between the server thread and tests.

:class:`EmulatorSettings` is the gateway's configuration (auth, known gateways, rate limit,
default cache TTL, stored keys, store size); it can be changed while serving and restored by a
reset. :class:`EmulatorState` holds the settings plus the stores: recorded requests, logs, cache,
queued replies and faults, rate-limit windows, stored Responses (for ``previous_response_id``)
and the prompts seen (for cached-token counts). Every store keeps at most
``EmulatorSettings.max_entries`` items and evicts the oldest first, so a long-running emulator
(a demo server, a load test) stays within bounded memory.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import ids
from .cache import ResponseCache
from .clock import Clock
from .conversation import Turn
from .features import FeatureState, check_feature_settings
from .logs import LogStore
from .scripting import ScriptQueue

DEFAULT_ACCOUNT_ID = "emulator-account"
DEFAULT_MAX_ENTRIES = 1_000
GATEWAY_TOKEN_LENGTH = 40


def generate_gateway_token() -> str:
    """A fresh random gateway token (letters and digits, like Cloudflare's API tokens)."""
    return ids.random_token(GATEWAY_TOKEN_LENGTH)


@dataclass
class EmulatorSettings:
    """The emulated gateway's configuration (see :class:`~cf_ai_gateway.emulator.Emulator`)."""

    token: str | None = None
    api_token: str | None = None
    api_key: str | None = None
    gateways: frozenset[str] | None = None
    rate_limit: int | None = None
    rate_limit_window: float = 60.0
    cache_ttl: int | None = None
    stored_keys: bool = True
    stored_key_aliases: tuple[str, ...] = ("default",)
    collect_logs: bool = True
    stream_chunks: int | None = None
    logs_api: bool = True
    otel_exporter: Any = None
    max_entries: int = DEFAULT_MAX_ENTRIES
    # Gateway features (see docs/emulator.md, "Gateway features").
    retry_max_attempts: int = 1
    retry_delay: int = 0
    retry_backoff: str = "constant"
    byok_only: bool = False
    credits: float | None = None
    unified_billing_rate_limit: int = 200
    routes: Mapping[str, Any] = field(default_factory=dict)
    guardrails: Mapping[str, Any] | None = None
    dlp: Mapping[str, Any] | None = None
    policies: Sequence[Mapping[str, Any]] = ()
    spend_limits: Sequence[Mapping[str, Any]] = ()
    auto_router_models: Sequence[str] | None = None

    @property
    def authenticated(self) -> bool:
        """Whether the gateway requires its token (it does whenever a token is set)."""
        return self.token is not None

    def replace(self, **changes: Any) -> EmulatorSettings:
        if "authenticated" in changes:
            authenticated = bool(changes.pop("authenticated"))
            if not authenticated:
                if changes.get("token") is not None:
                    raise ValueError(
                        "an unauthenticated gateway has no token: drop token= or authenticated=False"
                    )
                changes["token"] = None
            elif changes.get("token") is None:
                changes["token"] = self.token or generate_gateway_token()
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown emulator setting(s): {', '.join(sorted(unknown))}")
        limit = changes.get("max_entries", self.max_entries)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"max_entries must be a positive integer, got {limit!r}")
        if "gateways" in changes and changes["gateways"] is not None:
            changes["gateways"] = frozenset(changes["gateways"])
        if "stored_key_aliases" in changes:
            changes["stored_key_aliases"] = tuple(changes["stored_key_aliases"])
        check_feature_settings(changes)
        return dataclasses.replace(self, **changes)


@dataclass
class RecordedRequest:
    """One request the emulator received. ``headers`` has lower-case names."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    query: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class RateLimiter:
    """Fixed windows aligned to the clock (as the gateway's are), per account and gateway."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()

    def allow(self, scope: tuple[str, str], limit: int, window: float, now: float) -> bool:
        slot = int(now // window)
        key = (scope[0], scope[1], slot)
        with self._lock:
            for stale in [k for k in self._counts if k[2] < slot]:
                del self._counts[stale]
            count = self._counts.get(key, 0)
            if count >= limit:
                return False
            self._counts[key] = count + 1
            return True

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class EmulatorState:
    """The live state of one emulator."""

    def __init__(
        self, settings: EmulatorSettings, account_id: str, clock: Callable[[], float] | None
    ) -> None:
        self._initial = settings
        self.settings = settings
        self.account_id = account_id
        self.clock = Clock(clock)
        self.logs = LogStore(settings.max_entries)
        self.cache = ResponseCache(settings.max_entries)
        self.scripts = ScriptQueue()
        self.limiter = RateLimiter()
        self.features = FeatureState()
        self._requests: deque[RecordedRequest] = deque(maxlen=settings.max_entries)
        self._responses: OrderedDict[str, list[Turn]] = OrderedDict()
        self._prompts: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0  # bumped by reset: a request that began before it logs nothing

    # -- settings --

    def configure(self, **changes: Any) -> None:
        with self._lock:
            self.settings = self.settings.replace(**changes)
            self._apply_limit()

    def _apply_limit(self) -> None:
        """Bound every store by ``settings.max_entries`` (the lock is held)."""
        limit = self.settings.max_entries
        if self._requests.maxlen != limit:
            self._requests = deque(self._requests, maxlen=limit)
        for store in (self._responses, self._prompts):
            while len(store) > limit:
                store.popitem(last=False)
        self.logs.set_limit(limit)
        self.cache.max_entries = limit

    # -- requests --

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    # -- conversation memory --

    def remember_prompt(self, fingerprint: str) -> bool:
        """Note a prompt; True when it was seen before."""
        with self._lock:
            seen = fingerprint in self._prompts
            self._prompts.pop(fingerprint, None)
            self._prompts[fingerprint] = None
            while len(self._prompts) > self.settings.max_entries:
                self._prompts.popitem(last=False)
            return seen

    def store_response(self, response_id: str, turns: list[Turn]) -> None:
        with self._lock:
            self._responses[response_id] = turns
            while len(self._responses) > self.settings.max_entries:
                self._responses.popitem(last=False)

    def stored_response(self, response_id: str) -> list[Turn] | None:
        with self._lock:
            turns = self._responses.get(response_id)
            return list(turns) if turns is not None else None

    # -- reset --

    def reset(self) -> None:
        """Forget everything and restore the settings the emulator was created with."""
        with self._lock:
            self.generation += 1
            self.settings = self._initial
            self._requests.clear()
            self._responses.clear()
            self._prompts.clear()
            self._apply_limit()
        self.logs.clear()
        self.cache.clear()
        self.scripts.clear()
        self.limiter.clear()
        self.features.clear()
        self.clock.reset()
