"""The gateway's response cache: off by default, opted into per request or per gateway, bounded.

Caching follows https://developers.cloudflare.com/ai-gateway/features/caching/ ("Caching is
disabled by default"). A request opts in with ``cf-aig-cache-key``; a gateway opts every request in
with a default cache TTL. ``cf-aig-cache-ttl`` (seconds, 60 to one month) only sets the duration
of a request that already uses caching: alone, it caches nothing. The TTL is the header's, else the
gateway default, else five minutes. ``cf-aig-skip-cache: true`` bypasses the cache and
``cf-aig-cache-ttl: 0`` turns it off for one request. The default key is SHA-256 over provider,
endpoint, model, the provider's auth header and the raw body, so callers with different provider
keys never share a reply; ``cf-aig-cache-key`` replaces it, and metadata headers are never part of
it. Only successful, non-streamed replies are stored. The deprecated ``cf-cache-ttl`` /
``cf-skip-cache`` spellings still work, as they do on the real gateway. The store keeps at most a
configured number of entries and evicts the oldest first.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MIN_TTL_SECONDS = 60
MAX_TTL_SECONDS = 30 * 24 * 3600
KEY_ONLY_DEFAULT_TTL_SECONDS = 300
DEFAULT_MAX_ENTRIES = 1_000


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


def parse_cache_directive(
    headers: Mapping[str, str], gateway_default_ttl: int | None
) -> CacheDirective:
    """Read the cache headers of a request (``headers`` with lower-case names)."""
    skip = (_header(headers, "cf-aig-skip-cache", "cf-skip-cache") or "").lower() == "true"
    key = _header(headers, "cf-aig-cache-key") or None
    raw_ttl = _header(headers, "cf-aig-cache-ttl", "cf-cache-ttl")
    ttl: int | None = None
    explicit_off = False
    if raw_ttl is not None:
        try:
            ttl = int(float(raw_ttl))
        except (ValueError, OverflowError):  # "nan", "inf": no usable TTL
            ttl = None
        if ttl is not None and ttl <= 0:
            explicit_off, ttl = True, None
    default = gateway_default_ttl if gateway_default_ttl and gateway_default_ttl > 0 else None
    enabled = not explicit_off and (key is not None or default is not None)
    effective = ttl or default or KEY_ONLY_DEFAULT_TTL_SECONDS
    effective = max(MIN_TTL_SECONDS, min(MAX_TTL_SECONDS, effective))
    return CacheDirective(enabled=enabled, skip=skip, ttl=effective, key=key)


def cache_key(
    scope: str,
    custom_key: str | None,
    *,
    provider: str,
    endpoint: str,
    model: str | None,
    provider_auth: str | None,
    body: bytes,
) -> str:
    """The lookup key within ``scope`` (account and gateway): the custom key, else the documented parts."""
    digest = hashlib.sha256()
    digest.update(scope.encode() + b"\x00")
    if custom_key is not None:
        digest.update(b"key\x00" + custom_key.encode())
        return digest.hexdigest()
    for part in (provider, endpoint, model or "", provider_auth or ""):
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    digest.update(body)
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
    """Thread-safe map of cache keys to replies, expired against the caller's clock.

    It holds at most ``max_entries`` replies; storing one more evicts the oldest stored.
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        self._entries: OrderedDict[str, CachedReply] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

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
            self._entries.pop(key, None)
            self._entries[key] = entry
            while len(self._entries) > max(1, self.max_entries):
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
