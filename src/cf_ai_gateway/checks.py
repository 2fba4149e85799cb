"""Input checks shared by the settings resolver, the options and every call: nothing bad is sent.

Ids are matched as whole strings (a trailing newline is not an id), base URLs must be usable by
httpx as they are (valid IDNA host, numeric port, no whitespace of any script) and use https
unless they point at this machine, header values carry no control characters and no leading or
trailing whitespace, and numbers are finite and within range. Every failure is a
:class:`~cf_ai_gateway.ConfigurationError` naming the argument and, where one exists, its
environment variable; messages never echo a secret.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigurationError

__all__ = [
    "ENDPOINT_RULE",
    "ID_RULE",
    "PROVIDER_RULE",
    "check_endpoint",
    "check_extra_headers",
    "check_header_value",
    "check_id",
    "check_max_retries",
    "check_retry_base_delay",
    "check_timeout_value",
    "is_finite_number",
    "is_loopback_host",
    "where",
]

# Patterns, compiled on first use (see :func:`compiled`), so importing costs nothing.
ID_RULE = r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}"
PROVIDER_RULE = r"[a-z0-9][a-z0-9-]{0,63}"
ENDPOINT_RULE = r"[A-Za-z0-9@._:-]+"
_HEADER_NAME_RULE = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
_RULE_TEXT = {
    ID_RULE: "letters, digits, '-' and '_' (starting with a letter or digit, at most 128)",
    PROVIDER_RULE: (
        "lower-case letters, digits and '-' (starting with a letter or digit, at most 64; no '_')"
    ),
}
# Longest timeout or delay accepted, in seconds: a day. Longer ones are almost surely a unit
# mistake (milliseconds), and infinite ones are not timeouts.
MAX_SECONDS = 86400.0


@functools.cache
def compiled(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled once, on its first use."""
    return re.compile(pattern)


def where(arg: str, env_name: str | None) -> str:
    """``arg``, with its environment variable when it has one."""
    return f"{arg} (environment variable {env_name})" if env_name else arg


def check_id(value: Any, arg: str, env_name: str | None, rule: str = ID_RULE) -> str:
    """A whole-string match of the pattern ``rule``; anything else (a trailing newline too) is refused."""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{where(arg, env_name)} must be a non-empty string")
    if compiled(rule).fullmatch(value) is None:
        allowed = _RULE_TEXT.get(rule, f"characters matching {rule}")
        raise ConfigurationError(
            f"{where(arg, env_name)} is not a valid id: {value[:80]!r}. It may hold {allowed} "
            "only; slashes, '..', '?', '#', whitespace and control characters would change the "
            "request URL"
        )
    return value


def check_endpoint(endpoint: Any) -> str:
    """Check a provider path such as ``"embeddings"`` or ``"models"``; return it unchanged."""
    if not isinstance(endpoint, str) or not endpoint or endpoint.startswith("/"):
        raise ConfigurationError(
            f"endpoint must be a relative provider path such as 'chat/completions'; got {endpoint!r}"
        )
    for segment in endpoint.split("/"):
        if segment in ("", ".", "..") or compiled(ENDPOINT_RULE).fullmatch(segment) is None:
            raise ConfigurationError(
                f"endpoint {endpoint[:80]!r} has an invalid path segment; '..', '?', '#', "
                "whitespace and control characters are not allowed"
            )
    return endpoint


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` names and loopback (or this-host) IP addresses."""
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def check_url_usable(value: str, arg: str, env_name: str | None) -> None:
    """Refuse a URL httpx could not send to: bad IDNA host, bad port, any whitespace."""
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ConfigurationError(
            f"{where(arg, env_name)} must not contain whitespace or control characters"
        )
    import httpx  # the client needs it anyway; deferred to keep this module light

    parts = urlsplit(value)
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(
            f"{where(arg, env_name)} has an invalid port: it must be a number from 0 to 65535"
        ) from None
    del port
    try:
        httpx.URL(value)
        for label in (parts.hostname or "").split("."):
            if label[:4].lower() == "xn--":  # an A-label must decode (httpx may not check it)
                import idna

                idna.decode(label)
    except (httpx.InvalidURL, ValueError, UnicodeError) as exc:
        raise ConfigurationError(f"{where(arg, env_name)} is not a usable URL: {exc}") from None


def check_header_value(value: Any, label: str) -> str:
    """An ASCII header value without control characters or surrounding whitespace."""
    if not isinstance(value, str):
        raise ConfigurationError(f"{label} must be a string, not {type(value).__name__}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ConfigurationError(
            f"{label} must not contain control characters (CR, LF, tab, NUL, ...)"
        )
    if not value.isascii():
        raise ConfigurationError(
            f"{label} must be ASCII: HTTP header values cannot carry other characters"
        )
    if value != value.strip(" "):
        raise ConfigurationError(f"{label} must not start or end with whitespace")
    return value


# Headers that would replace the auth headers or the request framing.
_FORBIDDEN_HEADERS = frozenset({"authorization", "host", "content-length", "transfer-encoding"})


def check_extra_headers(headers: Any, arg: str = "extra_headers") -> dict[str, str]:
    """Check user-supplied headers: valid names and values, no auth or framing headers, and no
    ``cf-aig-*`` header (those are :class:`~cf_ai_gateway.GatewayOptions`, checked there)."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ConfigurationError(f"{arg} must be a dict of header names to values")
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or compiled(_HEADER_NAME_RULE).fullmatch(name) is None:
            raise ConfigurationError(f"{arg} has an invalid header name {name!r}")
        lowered = name.lower()
        if lowered in _FORBIDDEN_HEADERS or lowered == "cf-aig-authorization":
            raise ConfigurationError(
                f"{arg} must not set {name}; pass api_key / cf_aig_token for authentication"
            )
        if lowered.startswith("cf-aig-"):
            raise ConfigurationError(
                f"{arg} must not set {name}: gateway headers are set with gateway_options "
                "(GatewayOptions), which checks them against the gateway's limits"
            )
        out[name] = check_header_value(value, f"{arg}[{name!r}]")
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """An int or float (not a bool) that is finite and fits in a float."""
    return _is_number(value) and _finite(value)


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def check_timeout_value(value: Any, arg: str = "timeout") -> float | None:
    """A finite number of seconds above 0 and at most a day, or None."""
    if value is None:
        return None
    if not _is_number(value) or not _finite(value) or not 0 < value <= MAX_SECONDS:
        raise ConfigurationError(
            f"{arg} must be a positive, finite number of seconds (at most {MAX_SECONDS:g}), an "
            f"httpx.Timeout or None; got {_describe(value)}"
        )
    return float(value)


def _describe(value: Any) -> str:
    """What a bad value is, without echoing it (it may have been pasted from somewhere secret)."""
    if not _is_number(value):
        return f"a {type(value).__name__}"
    if not _finite(value):
        return "an infinite or too large number"
    return "a number <= 0" if value <= 0 else "a number too large"


def check_max_retries(value: Any, arg: str = "max_retries") -> int:
    """A non-negative integer of at most 100."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        raise ConfigurationError(f"{arg} must be an integer from 0 to 100; got {value!r}")
    return value


def check_retry_base_delay(value: Any, arg: str = "retry_base_delay") -> float:
    """A finite number of seconds, 0 or more and at most a minute."""
    if not _is_number(value) or not _finite(value) or not 0 <= value <= 60:
        raise ConfigurationError(f"{arg} must be a number of seconds from 0 to 60; got {value!r}")
    return float(value)
