"""Credentials: ``Secret``, the checked wrapper every key and token lives in, and the auth mode.

Secrets arrive as ``str``, :class:`Secret` or any ``SecretStr`` (pydantic, LangChain,
LlamaIndex), or from an environment variable, and are wrapped at once: their checks read the
value through the wrapper, so no frame of a traceback holds it as a plain local, and
``os.environ`` is never kept in a local either (a traceback rendered with locals would print it).
:func:`resolve_auth_mode` infers or checks the auth mode from the secrets that are set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from .errors import ConfigurationError, MissingCredentialsError

__all__ = ["AUTH_MODES", "AuthMode", "Secret", "getenv", "mask", "resolve_auth_mode", "secret"]

AuthMode = Literal["authenticated", "unauthenticated", "byok", "rest"]
AUTH_MODES = ("authenticated", "unauthenticated", "byok", "unified_billing")


class Secret:
    """A secret string that never shows itself in ``repr`` or ``str``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def _check(self, arg: str, env_name: str) -> Secret:
        # The value is read through self only, so no frame of a traceback holds it as a local.
        if self._value[:7].lower() == "bearer ":
            raise ConfigurationError(
                f"{arg} (environment variable {env_name}) starts with 'Bearer ': pass the bare "
                "key or token; the library adds the 'Bearer ' prefix itself"
            )
        if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in self._value):
            raise ConfigurationError(
                f"{arg} (environment variable {env_name}) contains whitespace or control "
                "characters (CR/LF would change the request headers); check how it was copied"
            )
        if not self._value.isascii():
            raise ConfigurationError(
                f"{arg} (environment variable {env_name}) contains non-ASCII characters"
            )
        return self


def getenv(environ: Mapping[str, str] | None, *names: str) -> str | None:
    # os.environ is looked up here, never held in a caller's locals (a traceback rendered
    # with locals would print the whole environment, keys included).
    source = os.environ if environ is None else environ
    for name in names:
        value = source.get(name)
        if value:
            return value
    return None


def secret(value: Any, arg: str, environ: Mapping[str, str] | None, env_name: str) -> Secret | None:
    """``value`` (str, ``Secret`` or any ``SecretStr``), else the variable, as a checked Secret."""
    if value is None or value == "":
        return _env_secret(environ, env_name, arg)
    if isinstance(value, Secret):
        return value._check(arg, env_name) if value else _env_secret(environ, env_name, arg)
    if hasattr(value, "get_secret_value"):
        if not isinstance(value.get_secret_value(), str):
            raise ConfigurationError(f"{arg} must hold a string")
        if not value.get_secret_value():
            return _env_secret(environ, env_name, arg)
        return Secret(value.get_secret_value())._check(arg, env_name)
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{arg} must be a string (or a SecretStr), not {type(value).__name__}"
        )
    return Secret(value)._check(arg, env_name)


def _env_secret(environ: Mapping[str, str] | None, env_name: str, arg: str) -> Secret | None:
    source = os.environ if environ is None else environ
    if not source.get(env_name):
        return None
    return Secret(source[env_name])._check(arg, env_name)


def mask(secret: Secret | None) -> str | None:
    if secret is None:
        return None
    value = secret.get_secret_value()
    # Long keys keep their last 4 characters, so users can tell which key is in use.
    return f"***{value[-4:]}" if len(value) >= 24 else "***"


def resolve_auth_mode(
    requested: str | None, key: Secret | None, token: Secret | None, key_env: str
) -> AuthMode:
    if requested is not None and requested not in AUTH_MODES:
        raise ConfigurationError(
            f"auth_mode must be one of {', '.join(AUTH_MODES)} (or omitted to infer it); "
            f"got {requested!r}"
        )
    if requested == "unified_billing":
        requested = "byok"
    key_hint = f"pass api_key=... or set {key_env}"
    token_hint = "pass cf_aig_token=... or set CF_AIG_TOKEN"
    if requested is None:
        if key and token:
            return "authenticated"
        if key:
            return "unauthenticated"
        if token:
            return "byok"
        raise MissingCredentialsError(
            f"no credentials: {key_hint} (provider key), and/or {token_hint} (gateway token "
            "for an authenticated gateway, stored keys or Unified Billing)"
        )
    if requested == "authenticated":
        if not key or not token:
            missing = [h for h, s in ((key_hint, key), (token_hint, token)) if not s]
            raise MissingCredentialsError(
                "auth_mode='authenticated' needs a provider key and a gateway token: "
                + "; ".join(missing)
            )
        return "authenticated"
    if requested == "unauthenticated":
        if not key:
            raise MissingCredentialsError(
                f"auth_mode='unauthenticated' needs a provider key: {key_hint}"
            )
        return "unauthenticated"
    if not token:
        raise MissingCredentialsError(
            f"auth_mode={requested!r} (stored keys / Unified Billing) needs a gateway token: "
            f"{token_hint}"
        )
    return "byok"
