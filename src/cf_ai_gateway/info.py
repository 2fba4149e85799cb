"""``GatewayInfo``: what the gateway said about one request, read from its response headers.

The gateway sets ``cf-aig-log-id``, ``cf-aig-cache-status``, ``cf-aig-event-id``,
``cf-aig-request-id``, ``cf-aig-step`` and, for dynamic routes, ``cf-aig-model`` and
``cf-aig-provider`` on every response, failed ones included. They arrive before the first byte of
a stream, so a stream's info is known before its first event. The Auto Router's decision headers
(``cf-aig-routed-model``, ``cf-aig-routing-reason``, ``cf-aig-routing-decision-id``) and a parsed
``cf-aig-dlp`` report are kept too. A header that does not parse is left unset (and kept as text
in ``headers``): it never breaks an otherwise good reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import field
from typing import Any

from .jsontext import loads, shallow
from .records import record

__all__ = ["Attempt", "GatewayInfo"]


@record(frozen=True)
class Attempt:
    """One try of a call with fallbacks: which route, and how it ended.

    ``status`` is the HTTP status (None when no response came), ``code`` the gateway's error
    code, ``error`` the error class name (None for the attempt that answered).
    """

    provider: str | None
    model: str | None
    status: int | None = None
    code: int | None = None
    log_id: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


# Request headers that carry credentials; a proxy that reflects them must not make them data.
_AUTH_HEADERS = frozenset({"cf-aig-authorization", "cf-aig-authorization-token"})


def _without_secrets(aig: dict[str, str]) -> dict[str, str]:
    from .errors import scrub

    return {k: scrub(v) for k, v in aig.items() if k not in _AUTH_HEADERS}


@record(frozen=True)
class GatewayInfo:
    """The ``cf-aig-*`` response headers of one gateway response.

    ``cached`` is True when the gateway served the reply from its cache. ``headers`` holds the
    ``cf-aig-*`` response headers as received, for the ones without a field of their own; never
    an auth header a proxy reflected (``cf-aig-authorization``), and no value that holds a
    configured secret. ``buffered`` is True when a stream request was answered with one JSON
    reply (the gateway does this when Guardrails are on) and the stream was rebuilt from it.
    ``attempts`` lists every try of a call made with fallbacks, the last one included.
    """

    log_id: str | None = None
    cache_status: str | None = None
    event_id: str | None = None
    request_id: str | None = None
    step: int | None = None
    model: str | None = None
    provider: str | None = None
    routed_model: str | None = None
    routing_reason: str | None = None
    routing_decision_id: str | None = None
    dlp: dict[str, Any] | None = None
    status_code: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    buffered: bool = False
    attempts: tuple[Attempt, ...] = ()

    @property
    def cached(self) -> bool:
        return (self.cache_status or "").upper() == "HIT"

    @classmethod
    def from_headers(
        cls, headers: Mapping[str, str], status_code: int | None = None
    ) -> GatewayInfo:
        """Read the ``cf-aig-*`` headers of a response (an ``httpx.Headers`` or any mapping)."""
        items = headers.multi_items() if hasattr(headers, "multi_items") else headers.items()
        aig = {k.lower(): v for k, v in items if k[:7].lower() == "cf-aig-"}
        if aig:
            aig = _without_secrets(aig)
        if not aig:
            return cls(status_code=status_code)
        return cls(
            log_id=aig.get("cf-aig-log-id"),
            cache_status=aig.get("cf-aig-cache-status"),
            event_id=aig.get("cf-aig-event-id") or aig.get("cf-aig-eventid"),
            request_id=aig.get("cf-aig-request-id"),
            step=_step(aig.get("cf-aig-step")),
            model=aig.get("cf-aig-model"),
            provider=aig.get("cf-aig-provider"),
            routed_model=aig.get("cf-aig-routed-model"),
            routing_reason=aig.get("cf-aig-routing-reason"),
            routing_decision_id=aig.get("cf-aig-routing-decision-id"),
            dlp=_dlp(aig.get("cf-aig-dlp")),
            status_code=status_code,
            headers=aig,
        )

    def to_dict(self) -> dict[str, Any]:
        """The fields that were set, as a plain dict (for framework metadata)."""
        out: dict[str, Any] = {}
        for name in (
            "log_id",
            "cache_status",
            "event_id",
            "request_id",
            "step",
            "model",
            "provider",
            "routed_model",
            "routing_reason",
            "routing_decision_id",
            "dlp",
        ):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.buffered:
            out["buffered"] = True
        if self.attempts:
            out["attempts"] = [attempt.to_dict() for attempt in self.attempts]
        return out


def _step(text: str | None) -> int | None:
    """The ``cf-aig-step`` index: a small decimal integer, else unset."""
    if text is None:
        return None
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


def _dlp(text: str | None) -> dict[str, Any] | None:
    """The ``cf-aig-dlp`` report as a JSON object; anything else (bad, deep, not an object) is unset."""
    if not text:
        return None
    try:
        parsed = loads(text)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and shallow(parsed) else None
