"""Typed errors, and the one function that turns a failed gateway response into one.

Cloudflare AI Gateway answers its own failures with a JSON envelope that names an internal code
(``{"error": [{"code": 2009, ...}], "name": "AiGatewayError", "internalCode": 2009}``), the
Cloudflare API uses the plural ``errors`` form, and a provider's own errors pass through unchanged.
:func:`error_from_response` reads all three, so a gateway 401 (2009) and a provider 401 become
different exceptions. Every error carries ``status_code``, ``code``, ``log_id`` and
``retry_after``, pickles, and never holds a secret: every live client registers its configured
secrets (:func:`register_secrets`), and each error's message and body are scrubbed of them, of
any cut-off piece of them and of bearer-token shapes when the error is built, wherever that is.
The envelope reading lives in :mod:`~cf_ai_gateway.error_parsing`; its two public functions
are importable from here.
"""

from __future__ import annotations

import functools
import re
import threading
import weakref
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ConfigurationError",
    "GatewayAuthenticationError",
    "GatewayBadRequestError",
    "GatewayConnectionError",
    "GatewayContentBlockedError",
    "GatewayError",
    "GatewayNotFoundError",
    "GatewayPaymentRequiredError",
    "GatewayRateLimitError",
    "GatewayTimeoutError",
    "LogNotFoundError",
    "LogsUnavailableError",
    "MalformedResponseError",
    "MissingCredentialsError",
    "PolicyDeniedError",
    "ProviderError",
    "SpendLimitError",
    "StreamError",
    "error_from_response",
    "is_error_reply",
    "scrub",
    "scrub_chain",
    "scrub_value",
]


@functools.cache
def _secret_patterns() -> tuple[re.Pattern[str], ...]:
    """Bearer tokens and ``sk-`` keys, compiled on first use so importing costs nothing."""
    return (
        re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{4,}"),
        re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"),
    )


# A cut-off piece of a secret this long (a quoted line truncated mid-key) is masked too.
_FRAGMENT = 8
# Secrets of every live client, so that an error built anywhere never shows one. Each value
# is counted once per configuration holding it and forgotten when the last one is collected.
_REGISTERED: dict[str, int] = {}
_REGISTRY_LOCK = threading.Lock()
_MIN_REGISTERED = 6
_SORTED: tuple[str, ...] = ()  # the registered secrets, longest first (rebuilt on each change)
_RELEASED: list[tuple[str, ...]] = []  # secrets of collected configurations, not yet forgotten


def register_secrets(owner: object, secrets: tuple[str, ...]) -> None:
    """Scrub ``secrets`` from every error message and body while ``owner`` is alive."""
    kept = tuple(s for s in secrets if len(s) >= _MIN_REGISTERED)
    if not kept:
        return
    with _REGISTRY_LOCK:
        _drain_released()
        for secret in kept:
            _REGISTERED[secret] = _REGISTERED.get(secret, 0) + 1
        _rebuild()
    # The finalizer may run inside any allocation (garbage collection), even while this thread
    # holds the lock: it only queues the release, which the next registry access applies.
    weakref.finalize(owner, _RELEASED.append, kept)


def _drain_released() -> None:
    while _RELEASED:
        for secret in _RELEASED.pop():
            left = _REGISTERED.get(secret, 0) - 1
            if left > 0:
                _REGISTERED[secret] = left
            else:
                _REGISTERED.pop(secret, None)


def _rebuild() -> None:
    global _SORTED
    _SORTED = tuple(sorted(_REGISTERED, key=len, reverse=True))


def known_secrets(extra: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The secrets of live clients plus ``extra``, longest first."""
    if _RELEASED:
        with _REGISTRY_LOCK:
            _drain_released()
            _rebuild()
    registered = _SORTED
    if not extra:
        return registered
    every = set(registered)
    every.update(s for s in extra if s and len(s) >= 4)
    return tuple(sorted(every, key=len, reverse=True))


def _mask_secret(text: str, secret: str) -> str:
    """``text`` with ``secret`` masked, and any cut-off start or end of it of 8+ characters."""
    if secret in text:
        text = text.replace(secret, "***")
    if len(secret) <= _FRAGMENT:
        return text
    head, tail = secret[:_FRAGMENT], secret[-_FRAGMENT:]
    if head in text:  # a prefix of the secret, cut where a message was truncated
        out, pos = [], 0
        while (start := text.find(head, pos)) != -1:
            end = start + _FRAGMENT
            while (
                end < len(text) and end - start < len(secret) and text[end] == secret[end - start]
            ):
                end += 1
            out.append(text[pos:start] + "***")
            pos = end
        text = "".join(out) + text[pos:]
    if tail in text:  # a suffix of the secret, cut at the start of a quoted window
        out, pos = [], 0
        while (end := text.find(tail, pos)) != -1:
            start, stop = end, end + _FRAGMENT
            offset = len(secret) - _FRAGMENT
            while start > pos and offset > 0 and text[start - 1] == secret[offset - 1]:
                start -= 1
                offset -= 1
            out.append(text[pos:start] + "***")
            pos = stop
        text = "".join(out) + text[pos:]
    return text


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove bearer tokens, ``sk-`` keys, the given secret values and those of every live
    client (with cut-off pieces of them) from ``text``."""
    for secret in known_secrets(secrets):
        text = _mask_secret(text, secret)
    for pattern in _secret_patterns():
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + "***", text)
    return text


def scrub_chain(error: BaseException, secrets: tuple[str, ...] = ()) -> BaseException:
    """``error``, an HTTP library's exception about to become the cause of a ``GatewayError``,
    with its message scrubbed as :func:`scrub` does and the exceptions below it dropped: a
    parser's error quotes the reply bytes it refused, and an aiohttp error carries the request's
    headers, either of which may show a secret. ``error``'s own message keeps the gist."""
    error.args = tuple(_scrubbed_arg(arg, secrets) for arg in error.args)
    error.__cause__ = None
    error.__context__ = None
    error.__suppress_context__ = True
    return error


def _scrubbed_arg(arg: Any, secrets: tuple[str, ...]) -> Any:
    """An exception argument, or its scrubbed text when it shows a secret (a request's
    headers, reply bytes)."""
    if isinstance(arg, str):
        return scrub(arg, secrets)
    if isinstance(arg, (int, float, bool)) or arg is None:
        return arg
    try:
        text = repr(arg)
    except Exception:
        return type(arg).__name__
    clean = scrub(text, secrets)
    return arg if clean == text else clean


def scrub_value(value: Any, secrets: tuple[str, ...] = ()) -> Any:
    """Parsed JSON (or text) with every string in it scrubbed as :func:`scrub` does.

    Containers are rebuilt without recursion, so a deeply nested body cannot overflow the stack.
    """
    if isinstance(value, str):
        return scrub(value, secrets)
    if not isinstance(value, (dict, list)):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = scrub(item, secrets)
        elif isinstance(item, list):
            copy = list(item)
            container[key] = copy
            stack.extend((copy, i) for i in range(len(copy)))
        elif isinstance(item, dict):
            copy_dict = {scrub(k, secrets) if isinstance(k, str) else k: v for k, v in item.items()}
            container[key] = copy_dict
            stack.extend((copy_dict, k) for k in copy_dict)
    return root[0]


class GatewayError(Exception):
    """Base of every error the library raises for a gateway call.

    ``status_code`` is the HTTP status (None when no response came), ``code`` the gateway's
    internal code (None for provider errors), ``log_id`` the ``cf-aig-log-id`` of the failed
    request, ``retry_after`` the seconds the server asked to wait, ``body`` the scrubbed reply
    body and ``info`` the :class:`~cf_ai_gateway.GatewayInfo` of the failed response.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: int | None = None,
        log_id: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
        info: Any = None,
    ) -> None:
        message = scrub(message)
        if body is not None:
            body = scrub_value(body)
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.log_id = log_id
        self.retry_after = retry_after
        self.body = body
        self.info = info

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_error,
            (
                type(self),
                self.message,
                {
                    "status_code": self.status_code,
                    "code": self.code,
                    "log_id": self.log_id,
                    "retry_after": self.retry_after,
                    "body": self.body,
                    "info": self.info,
                },
            ),
        )

    def __str__(self) -> str:
        parts = [self.message]
        details = []
        if self.status_code is not None:
            details.append(f"status {self.status_code}")
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.log_id:
            details.append(f"log id {self.log_id}")
        if details:
            parts.append(f"({', '.join(details)})")
        return " ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r}, "
            f"code={self.code!r}, log_id={self.log_id!r})"
        )


def _rebuild_error(cls: type[GatewayError], message: str, fields: dict[str, Any]) -> GatewayError:
    error = cls.__new__(cls)
    GatewayError.__init__(error, message, **fields)
    return error


class ConfigurationError(GatewayError, ValueError):
    """Bad configuration or input, raised before anything is sent."""


class MissingCredentialsError(ConfigurationError):
    """The account id, or the key or token the auth mode needs, is set nowhere (neither as an
    argument nor in the environment)."""


class GatewayAuthenticationError(GatewayError):
    """The gateway itself refused the request: missing or invalid ``cf-aig-authorization`` (2009),
    or a Cloudflare API token refused on the REST surface (10000)."""


class GatewayNotFoundError(GatewayError):
    """The gateway id does not exist or is not configured (2001), or the route is unknown
    (2008 invalid provider, 7000 no route)."""


class LogsUnavailableError(GatewayNotFoundError):
    """The Cloudflare API has no logs API for this gateway: accounts created on or after
    2026-09-24 keep AI Gateway logs in Logs powered by Workers Observability, not Legacy Logs."""


class LogNotFoundError(GatewayNotFoundError):
    """No log entry matched (yet): the log id is unknown, or the log was not written in time."""


class GatewayRateLimitError(GatewayError):
    """Any 429: the gateway's rate limit (2003), a spend limit (2041/2045), Workers AI capacity
    (3040), or the provider's own rate limit."""


class SpendLimitError(GatewayRateLimitError):
    """A spend limit is used up: a gateway spend-limit rule (2041/2045) or a Policies spend cap
    (429 "Spending limit exceeded"). Waiting a few seconds does not help, so it is not retried.

    ``bucket``, ``spent`` and ``limit`` hold the Policies details when the gateway sent them."""

    @property
    def bucket(self) -> str | None:
        value = _error_object(self.body).get("bucket")
        return str(value) if value is not None else None

    @property
    def spent(self) -> float | None:
        return _number(_error_object(self.body).get("spent"))

    @property
    def limit(self) -> float | None:
        return _number(_error_object(self.body).get("limit"))


class PolicyDeniedError(GatewayError):
    """A gateway policy refused the caller (403 "Access denied by policy"): a block policy, or no
    matching policy on a gateway that has policies. The credentials were fine; the caller's
    identity (metadata, country, Access identity) is not allowed."""


class GatewayPaymentRequiredError(GatewayError):
    """Unified Billing has no credits left (2021, HTTP 402)."""


class GatewayContentBlockedError(GatewayError):
    """Guardrails (2016/2017) or a DLP policy (2029/2030) blocked the prompt or the response."""


class GatewayBadRequestError(GatewayError):
    """The gateway rejected the request: an unknown BYOK alias (2040), a malformed compat body
    (2019), a failed provider route (2005), or another gateway-level 4xx."""


class ProviderError(GatewayError):
    """An error the provider returned and the gateway passed through unchanged.

    ``provider_code`` and ``provider_type`` hold the provider's own ``code`` and ``type`` strings
    (e.g. ``"invalid_api_key"``, ``"invalid_request_error"``)."""

    @property
    def provider_code(self) -> str | None:
        err = self.body.get("error") if isinstance(self.body, dict) else None
        code = err.get("code") if isinstance(err, dict) else None
        return str(code) if code is not None else None

    @property
    def provider_type(self) -> str | None:
        err = self.body.get("error") if isinstance(self.body, dict) else None
        kind = err.get("type") if isinstance(err, dict) else None
        return str(kind) if kind is not None else None


class GatewayTimeoutError(GatewayError):
    """The request timed out: the client's timeout, or the gateway's request timeout."""


class GatewayConnectionError(GatewayError):
    """The gateway could not be reached (DNS, refused connection, TLS, reset)."""


class StreamError(GatewayError):
    """A stream broke off before its terminal event, carried an error event, or did not parse.

    ``partial_text`` is the text already delivered when a stream with fallbacks failed after
    its first content delta (the answer is never spliced with another model's); else None.
    """

    partial_text: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        _rebuild, (cls, message, fields) = super().__reduce__()
        return (_rebuild_stream_error, (cls, message, fields, self.partial_text))


def _rebuild_stream_error(
    cls: type[StreamError], message: str, fields: dict[str, Any], partial_text: str | None
) -> GatewayError:
    error = _rebuild_error(cls, message, fields)
    if partial_text is not None:
        error.partial_text = partial_text  # type: ignore[attr-defined]
    return error


class MalformedResponseError(StreamError):
    """A successful (2xx) reply or stream event that is not a valid answer of its endpoint:
    not JSON, not an object, or of the wrong shape (no ``choices``, no ``output``, a message
    that is not an object, ...). The message says what was wrong."""


def _error_object(body: Any) -> Mapping[str, Any]:
    """The ``error`` object of a Policies answer (``{"success": false, "error": {...}}``), else {}."""
    if isinstance(body, Mapping) and body.get("success") is False:
        error = body.get("error")
        if isinstance(error, Mapping):
            return error
    return {}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


# The envelope reading lives in ``error_parsing``; its functions stay importable from here.
from .error_parsing import error_from_response as error_from_response  # noqa: E402
from .error_parsing import is_error_reply as is_error_reply  # noqa: E402
