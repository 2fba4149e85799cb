"""Constructor argument checks for ``ChatCloudflareAIGateway``, outside pydantic's validators.

Bad arguments raise :class:`cf_ai_gateway.ConfigurationError` naming the argument (and its
environment variable where it has one). Pydantic's own type errors are re-raised the same way
by :func:`validation_message`, which names the field and what it accepts but never echoes the
value given, because that value may be a secret. The checks run outside pydantic's validators
so that the error reaches the caller as itself rather than wrapped in a ``ValidationError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from cf_ai_gateway.checks import check_max_retries
from cf_ai_gateway.config import GENERIC_KEY_ENV, PROVIDER_KEY_ENV
from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.transport import check_timeout

from .request import check_reasoning, options_dict

__all__ = [
    "check_arguments",
    "check_http_settings",
    "env_var_for",
    "provider_key_env",
    "validation_message",
]

_CLASS_NAME = "ChatCloudflareAIGateway"
# Fields whose default comes from an environment variable (api_key: see env_var_for).
_FIELD_ENV = {
    "account_id": "CF_ACCOUNT_ID",
    "gateway_id": "CF_AIG_GATEWAY_ID",
    "cf_aig_token": "CF_AIG_TOKEN",
    "base_url": "CF_AIG_BASE_URL",
    "max_connections": "CF_AIG_MAX_CONNECTIONS",
    "max_keepalive": "CF_AIG_MAX_KEEPALIVE",
}


def provider_key_env(provider: Any) -> str:
    """The environment variable that holds ``provider``'s key."""
    if not isinstance(provider, str):
        return GENERIC_KEY_ENV
    return PROVIDER_KEY_ENV.get(provider, GENERIC_KEY_ENV)


def env_var_for(field: str, provider: Any) -> str | None:
    """The environment variable a field defaults to, if any."""
    if field == "api_key":
        return provider_key_env(provider)
    return _FIELD_ENV.get(field)


def validation_message(exc: ValidationError, provider: Any, class_name: str = _CLASS_NAME) -> str:
    """A pydantic ``ValidationError`` as a message naming the fields, without their values."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = [str(part) for part in error.get("loc", ())]
        where = ".".join(loc) or "argument"
        env = env_var_for(loc[0], provider) if len(loc) == 1 else None
        if env is not None:
            where += f" (environment variable {env})"
        problems.append(f"{where}: {error.get('msg', 'invalid value')}")
    return f"invalid argument(s) for {class_name}: " + "; ".join(problems)


def check_arguments(kwargs: dict[str, Any]) -> None:
    """Check (and normalise in place) the arguments pydantic cannot report well."""
    if "gateway_options" in kwargs:
        kwargs["gateway_options"] = options_dict(kwargs["gateway_options"])
    if kwargs.get("n") not in (None, 1):
        raise ConfigurationError(f"n must be 1 (one message per call); got n={kwargs['n']!r}")
    model_kwargs = kwargs.get("model_kwargs")
    if model_kwargs is not None and not isinstance(model_kwargs, Mapping):
        raise ConfigurationError(
            f"model_kwargs must be a dict of request fields; got {type(model_kwargs).__name__}"
        )
    if "reasoning" in kwargs:
        check_reasoning(kwargs["reasoning"])


def check_http_settings(
    timeout: Any, max_retries: Any, http_client: Any, http_async_client: Any
) -> None:
    """Check the HTTP settings now, although the client that uses them is made on first call."""
    check_timeout(timeout, "timeout")
    if max_retries is not None:
        check_max_retries(max_retries)
    if http_client is not None and not isinstance(http_client, httpx.Client):
        raise ConfigurationError(
            f"http_client must be an httpx.Client; got {type(http_client).__name__}"
        )
    if http_async_client is not None and not isinstance(http_async_client, httpx.AsyncClient):
        raise ConfigurationError(
            "http_async_client must be an httpx.AsyncClient; got "
            f"{type(http_async_client).__name__}"
        )
