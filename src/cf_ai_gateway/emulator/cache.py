"""The gateway's response cache: opt-in per request, keyed on path and body, expired by TTL.

Caching follows the documented headers. ``cf-aig-cache-ttl`` (seconds, 60 to one month) or
``cf-aig-cache-key`` opt a request in; a key alone uses the gateway default TTL, else five
minutes. ``cf-aig-skip-cache: true`` bypasses the cache. The key is the request path plus the raw
body unless ``cf-aig-cache-key`` replaces it; metadata headers are never part of it. Only
successful, non-streamed replies are stored. The deprecated ``cf-cache-ttl`` / ``cf-skip-cache``
spellings still work, as they do on the real gateway.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 30 * 24 * 3600
KEY_ONLY_DEFAULT_TTL_SECONDS = 300


@dataclass(frozen=True)
class CacheDirective:
    """What one request asked of the cache."""

    enabled: bool
    skip: bool
    ttl: int
    key: str | None


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            return value.strip()
    return None


def parse_cache_directive(headers: Mapping[str, str], gateway_default_ttl: int | None) -> CacheDirective:
    """Read the cache headers of a request (``headers`` with lower-case names)."""
    skip = (_header(headers, "cf-aig-skip-cache", "cf-skip-cache") or "").lower() == "true"
    key = _header(headers, "cf-aig-cache-key") or None
    raw_ttl = _header(headers, "cf-aig-cache-ttl", "cf-cache-ttl")
    ttl: int | None = None
    explicit_off = False
    if raw_ttl is not None:
        try:
            ttl = int(float(raw_ttl))
        except ValueError:
            ttl = None
        if ttl is not None and ttl <= 0:
            explicit_off, ttl = True, None
    default = gateway_default_ttl if gateway_default_ttl and gateway_default_ttl > 0 else None
    enabled = not explicit_off and (ttl is not None or key is not None or default is not None)
    effective = ttl or default or KEY_ONLY_DEFAULT_TTL_SECONDS
    effective = max(MIN_TTL_SECONDS, min(MAX_TTL_SECONDS, effective))
    return CacheDirective(enabled=enabled, skip=skip, ttl=effective, key=key)


def cache_key(scope: str, path: str, body: bytes, custom_key: str | None) -> str:
    """The lookup key: ``scope`` (account and gateway) plus the custom key, or path and body."""
    digest = hashlib.sha256()
    digest.update(scope.encode())
    digest.update(b"\x00")
    if custom_key is not None:
        digest.update(b"key\x00" + custom_key.encode())
    else:
        digest.update(b"req\x00" + path.encode() + b"\x00" + body)
    return digest.hexdigest()


@dataclass
class CachedReply:
    """A stored reply and what the log needs to describe a hit."""

    status: int
    body: bytes
    content_type: str
    expires_at: float
    model: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ResponseCache:
    """Thread-safe map of cache keys to replies, expired against the caller's clock."""

    def __init__(self) -> None:
        self._entries: dict[str, CachedReply] = {}
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> CachedReply | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.expires_at <= now:
                del self._entries[key]
                return None
            return entry

    def put(self, key: str, entry: CachedReply) -> None:
        with self._lock:
            self._entries[key] = entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
