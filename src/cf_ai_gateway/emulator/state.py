"""Everything the running emulator remembers, shared safely between the server thread and tests.

:class:`EmulatorSettings` is the gateway's configuration (auth, known gateways, rate limit,
default cache TTL, stored keys); it can be changed while serving and restored by a reset.
:class:`EmulatorState` holds the settings plus the stores: recorded requests, logs, cache,
queued replies and faults, rate-limit windows, stored Responses (for ``previous_response_id``)
and the prompts seen (for cached-token counts).
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .cache import ResponseCache
from .clock import Clock
from .conversation import Turn
from .logs import LogStore
from .scripting import ScriptQueue

DEFAULT_ACCOUNT_ID = "emulator-account"


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

    def replace(self, **changes: Any) -> EmulatorSettings:
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(f"unknown emulator setting(s): {', '.join(sorted(unknown))}")
        if "gateways" in changes and changes["gateways"] is not None:
            changes["gateways"] = frozenset(changes["gateways"])
        if "stored_key_aliases" in changes:
            changes["stored_key_aliases"] = tuple(changes["stored_key_aliases"])
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

    def __init__(self, settings: EmulatorSettings, account_id: str, clock: Callable[[], float] | None) -> None:
        self._initial = settings
        self.settings = settings
        self.account_id = account_id
        self.clock = Clock(clock)
        self.logs = LogStore()
        self.cache = ResponseCache()
        self.scripts = ScriptQueue()
        self.limiter = RateLimiter()
        self._requests: list[RecordedRequest] = []
        self._responses: dict[str, list[Turn]] = {}
        self._prompts: set[str] = set()
        self._lock = threading.Lock()

    # -- settings --

    def configure(self, **changes: Any) -> None:
        with self._lock:
            self.settings = self.settings.replace(**changes)

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
            self._prompts.add(fingerprint)
            return seen

    def store_response(self, response_id: str, turns: list[Turn]) -> None:
        with self._lock:
            self._responses[response_id] = turns

    def stored_response(self, response_id: str) -> list[Turn] | None:
        with self._lock:
            turns = self._responses.get(response_id)
            return list(turns) if turns is not None else None

    # -- reset --

    def reset(self) -> None:
        """Forget everything and restore the settings the emulator was created with."""
        with self._lock:
            self.settings = self._initial
            self._requests.clear()
            self._responses.clear()
            self._prompts.clear()
        self.logs.clear()
        self.cache.clear()
        self.scripts.clear()
        self.limiter.clear()
        self.clock.reset()
