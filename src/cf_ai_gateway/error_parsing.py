"""Reading a failed reply: :func:`error_from_response` and :func:`is_error_reply`.

A gateway failure comes as a JSON envelope naming an internal code (``{"error": [{"code": 2009,
...}], "name": "AiGatewayError", "internalCode": 2009}``), a Cloudflare API failure in the plural
``errors`` form, and a provider failure as the provider's own body. This module reads all three
(plus ``Retry-After``, policy denials and spend limits) into the typed errors of
:mod:`cf_ai_gateway.errors`, so a gateway 401 (2009) and a provider 401 become different
exceptions; both functions are also importable from :mod:`cf_ai_gateway.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import (
    GatewayAuthenticationError,
    GatewayBadRequestError,
    GatewayContentBlockedError,
    GatewayError,
    GatewayNotFoundError,
    GatewayPaymentRequiredError,
    GatewayRateLimitError,
    GatewayTimeoutError,
    PolicyDeniedError,
    ProviderError,
    SpendLimitError,
    _error_object,
    scrub,
)
from .jsontext import loads as _loads
from .jsontext import shallow as _shallow

__all__ = ["error_from_response", "is_error_reply"]


_CODE_CLASSES: dict[int, type[GatewayError]] = {
    2001: GatewayNotFoundError,
    2003: GatewayRateLimitError,
    2005: GatewayBadRequestError,
    2008: GatewayNotFoundError,
    2009: GatewayAuthenticationError,
    2016: GatewayContentBlockedError,
    2017: GatewayContentBlockedError,
    2019: GatewayBadRequestError,
    2021: GatewayPaymentRequiredError,
    2029: GatewayContentBlockedError,
    2030: GatewayContentBlockedError,
    2040: GatewayBadRequestError,
    2041: SpendLimitError,
    2045: SpendLimitError,
    3040: GatewayRateLimitError,
    7000: GatewayNotFoundError,
    10000: GatewayAuthenticationError,
}


def _first_error_entry(body: Mapping[str, Any]) -> tuple[int | None, str | None]:
    """The (code, message) of a Cloudflare envelope, from ``error`` or ``errors``."""
    for key in ("error", "errors"):
        entries = body.get(key)
        if isinstance(entries, list) and entries and isinstance(entries[0], Mapping):
            return _int_code(entries[0].get("code")), _text(entries[0].get("message"))
    internal = _int_code(body.get("internalCode"))
    if internal is not None:
        return internal, _text(body.get("message"))
    return None, None


def _int_code(value: Any) -> int | None:
    return value if type(value) is int else None


def _text(value: Any) -> str | None:
    """A message field as text: strings and numbers only (nested values are not messages)."""
    if isinstance(value, str):
        return value or None
    if type(value) in (int, float):
        return str(value)
    return None


_POLICY_DENIED = "access denied by policy"
_SPEND_LIMIT = "spending limit exceeded"


def _policy_error(status_code: int, body: Any, common: dict[str, Any]) -> GatewayError | None:
    """The typed error of a Policies answer, whose ``error`` is an object, not a list."""
    error = _error_object(body)
    message = error.get("message")
    if not isinstance(message, str):
        return None
    lowered = message.strip().lower()
    if status_code == 403 and lowered == _POLICY_DENIED:
        return PolicyDeniedError(f"AI Gateway: {message}", **common)
    if status_code == 429 and lowered == _SPEND_LIMIT:
        return SpendLimitError(f"AI Gateway: {message}", **common)
    return None


def _is_gateway_envelope(body: Mapping[str, Any]) -> bool:
    if body.get("name") == "AiGatewayError" or "internalCode" in body:
        return True
    if body.get("success") is False and (
        isinstance(body.get("error"), list) or isinstance(body.get("errors"), list)
    ):
        return True
    # The envelope's list form, ``{"error": [{"code": 2005, ...}]}``, also without its other keys.
    return _first_error_entry(body)[0] is not None


def _parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number, or an HTTP-date in any zone spelling
    (``GMT``, ``UTC``, ``+0000``, ``-0000`` or none, all read as UTC). None when unusable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        import datetime as _dt
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, OverflowError, IndexError):
            return None
        if when.tzinfo is None:  # "-0000" or no zone: RFC 5322 says UTC
            when = when.replace(tzinfo=_dt.timezone.utc)
        seconds = (when - _dt.datetime.now(_dt.timezone.utc)).total_seconds()
        return max(0.0, seconds)  # a date in the past: retry now
    if not 0 <= seconds < float("inf"):  # negative, NaN or infinite: not a usable delay
        return None
    return seconds


def error_from_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    info: Any = None,
    secrets: tuple[str, ...] = (),
) -> GatewayError:
    """Build the typed error for a failed HTTP response (status >= 400)."""
    text = scrub(content.decode("utf-8", "replace"), secrets)
    try:
        body: Any = _loads(text) if text else None
    except ValueError:
        body = text[:2000]
    if not _shallow(body):
        body = text[:2000]
    log_id = headers.get("cf-aig-log-id")
    retry_after = _parse_retry_after(headers.get("retry-after"))
    common: dict[str, Any] = {
        "status_code": status_code,
        "log_id": log_id,
        "retry_after": retry_after,
        "body": body,
        "info": info,
    }
    policy_error = _policy_error(status_code, body, common)
    if policy_error is not None:
        return policy_error
    if isinstance(body, Mapping) and _is_gateway_envelope(body):
        code, message = _first_error_entry(body)
        cls = _CODE_CLASSES.get(code) if code is not None else None
        if cls is None:
            cls = _class_for_status(status_code, gateway=True)
        text_message = message or f"AI Gateway error {code}"
        return cls(f"AI Gateway: {text_message}", code=code, **common)
    message = _provider_message(body) or f"HTTP {status_code}"
    if status_code == 429:
        return GatewayRateLimitError(f"Provider: {message}", **common)
    if status_code in (408, 504) and not isinstance(body, Mapping):
        return GatewayTimeoutError(f"Gateway timeout: {message}", **common)
    return ProviderError(f"Provider: {message}", **common)


def _provider_message(body: Any) -> str | None:
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        body = body[0]  # some providers (Gemini) wrap their error object in a list
    if isinstance(body, Mapping):
        err = body.get("error")
        if isinstance(err, Mapping) and _text(err.get("message")):
            return _text(err["message"])
        if isinstance(err, str) and err:
            return err[:2000]
        if _text(body.get("message")):
            return _text(body["message"])
    if isinstance(body, str) and body:
        return body[:300]
    return None


def is_error_reply(body: Any) -> bool:
    """True when a successful (2xx) reply body is an error envelope rather than an answer.

    Recognised: the gateway's envelope (``name``/``internalCode``, ``success: false``), the
    Cloudflare API's non-empty ``errors`` list, a provider's ``{"error": ...}`` (object, string
    or list) and a list wrapping one. A Responses object (``"object": "response"``) is an
    answer even when it carries an ``error``: its ``status`` says how it ended.
    """
    if isinstance(body, list):
        return bool(body) and isinstance(body[0], dict) and bool(body[0].get("error"))
    if not isinstance(body, dict):
        return False
    if body.get("success") is False or body.get("name") == "AiGatewayError":
        return True
    if "internalCode" in body or body.get("errors"):
        return True
    return body.get("object") != "response" and bool(body.get("error"))


def _class_for_status(status_code: int, *, gateway: bool) -> type[GatewayError]:
    if status_code == 401 or status_code == 403:
        return GatewayAuthenticationError
    if status_code == 402:
        return GatewayPaymentRequiredError
    if status_code == 404:
        return GatewayNotFoundError
    if status_code == 429:
        return GatewayRateLimitError
    if status_code in (408, 504):
        return GatewayTimeoutError
    if 400 <= status_code < 500:
        return GatewayBadRequestError
    return GatewayError
