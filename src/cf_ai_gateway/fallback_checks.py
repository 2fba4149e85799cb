"""The checks of a call's ``fallbacks``, ``fallback_on`` and ``dynamic/<route>`` model, run before anything is sent.

They are the part of :mod:`cf_ai_gateway.failover` that every ``Gateway`` needs (its
constructor checks ``fallbacks`` and each raw call checks a dynamic route), kept apart so the
failover machinery itself loads only with the first call that has fallbacks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .config import DEFAULT_GATEWAY_ID, GatewayConfig, Secret
from .errors import ConfigurationError

__all__ = ["check_dynamic_route", "check_fallback_on", "check_fallbacks"]

_ENTRY_KEYS = frozenset({"provider", "model", "api_key"})


def check_dynamic_route(config: GatewayConfig, endpoint: str, body: Any) -> None:
    """Refuse ``model: "dynamic/<route>"`` where it cannot work, before anything is sent.

    Dynamic routes take the chat completions shape only (the Responses API gets a 400), and a
    route belongs to the gateway it was created on: on the REST surface a request that names no
    gateway resolves against the account's default gateway and gets a 404, so the gateway must be
    named. ``"default"`` is a real gateway (created on first use) that can own routes, so naming
    it explicitly is accepted.
    """
    model = body.get("model") if isinstance(body, Mapping) else None
    if not isinstance(model, str) or not model.startswith("dynamic/"):
        return
    if endpoint == "responses":
        raise ConfigurationError(
            f"model {model!r} is a dynamic route, which takes chat completions only: "
            "call it with api='chat' (chat/completions), not the Responses API"
        )
    if (
        config.surface == "rest"
        and config.gateway_id == DEFAULT_GATEWAY_ID
        and not config.gateway_named
    ):
        raise ConfigurationError(
            f"model {model!r} is a dynamic route, and a route belongs to the gateway it was "
            "created on: on the REST surface a request that names no gateway resolves against "
            "the account's default gateway and gets a 404 unless the route lives there. Pass "
            "gateway_id=... (environment variable CF_AIG_GATEWAY_ID) naming the gateway that "
            f"owns the route (gateway_id={DEFAULT_GATEWAY_ID!r} for a route on the default gateway)"
        )


def check_fallbacks(value: Any, arg: str = "fallbacks") -> tuple[str | dict[str, Any], ...]:
    """The checked entries of ``value``; a bad entry raises :class:`ConfigurationError`."""
    if value is None:
        return ()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise ConfigurationError(
            f"{arg} must be a list of model names or {{'provider', 'model', 'api_key'}} mappings"
        )
    entries: list[str | dict[str, Any]] = []
    for index, entry in enumerate(value):
        where = f"{arg}[{index}]"
        if isinstance(entry, str):
            if not entry.strip():
                raise ConfigurationError(f"{where} must be a non-empty model name")
            entries.append(entry)
            continue
        if not isinstance(entry, Mapping):
            raise ConfigurationError(
                f"{where} must be a model name or a {{'provider', 'model', 'api_key'}} mapping, "
                f"not {type(entry).__name__}"
            )
        unknown = sorted(str(k) for k in entry if k not in _ENTRY_KEYS)
        if unknown:
            raise ConfigurationError(f"{where} has unknown keys {unknown}")
        model = entry.get("model")
        if not isinstance(model, str) or not model.strip():
            raise ConfigurationError(f"{where}['model'] must be a non-empty string")
        provider = entry.get("provider")
        if provider is not None and (not isinstance(provider, str) or not provider):
            raise ConfigurationError(f"{where}['provider'] must be a non-empty string")
        checked = dict(entry)
        key = entry.get("api_key")
        if key is not None:
            if hasattr(key, "get_secret_value"):
                key = key.get_secret_value()
            if not isinstance(key, str) or not key:
                raise ConfigurationError(f"{where}['api_key'] must be a non-empty string")
            checked["api_key"] = Secret(key)  # masked in every repr
        entries.append(checked)
    return tuple(entries)


def check_fallback_on(value: Any, arg: str = "fallback_on") -> tuple[type[BaseException], ...]:
    """``fallback_on`` as a tuple of exception classes (empty: the transient default)."""
    if value is None:
        return ()
    items = (value,) if isinstance(value, type) else value
    if not isinstance(items, (tuple, list)) or not all(
        isinstance(item, type) and issubclass(item, BaseException) for item in items
    ):
        raise ConfigurationError(f"{arg} must be an exception class or a list of them")
    return tuple(items)
