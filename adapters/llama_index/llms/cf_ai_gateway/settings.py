"""Checks of the LlamaIndex adapter's constructor arguments, before anything is built or sent.

Every bad value raises :class:`cf_ai_gateway.ConfigurationError` naming the argument; messages
never echo a secret. Connection settings (ids, URLs, auth mode, secrets, gateway options and
their environment variables) are resolved and checked by the core's one resolver when the client
is built; this module checks the model parameters, the type of ``base_url`` and the updates
given to ``model_copy``, and keeps secrets wrapped as ``SecretStr``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from llama_index.core.bridge.pydantic import SecretStr

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.checks import check_extra_headers, check_max_retries, check_timeout_value

__all__ = [
    "CONNECTION_FIELDS",
    "SECRET_FIELDS",
    "check_base_url",
    "check_settings",
    "check_stop",
    "check_timeout",
    "coerce_update",
    "secret_or_none",
    "secret_value",
    "stored_secret",
    "unknown_arguments_message",
    "validation_message",
]

_APIS = ("chat", "responses")
# Fields whose change needs a new Gateway client, each named as Gateway's argument.
CONNECTION_FIELDS = frozenset(
    {
        "account_id",
        "gateway_id",
        "provider",
        "api_key",
        "cf_aig_token",
        "auth_mode",
        "base_url",
        "allow_insecure_http",
        "gateway_options",
        "timeout",
        "max_retries",
        "max_connections",
        "max_keepalive",
        "default_headers",
        "tracing",
        "fallbacks",
        "fallback_on",
    }
)
SECRET_FIELDS = frozenset({"api_key", "cf_aig_token"})


def secret_value(value: Any, arg: str) -> str | None:
    """The text of a secret given as ``str`` or ``SecretStr``; anything else is refused."""
    if value is None:
        return None
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, str):
        return value
    if hasattr(value, "get_secret_value"):
        text = value.get_secret_value()
        if isinstance(text, str):
            return text
    raise ConfigurationError(f"{arg} must be a string, not {type(value).__name__}")


def secret_or_none(value: Any, arg: str) -> SecretStr | None:
    """A secret argument as ``SecretStr`` (None when unset or empty); never unwrapped here."""
    if value is None:
        return None
    if isinstance(value, str):
        value = SecretStr(value)
    elif not isinstance(value, SecretStr):
        value = SecretStr(secret_value(value, arg) or "")
    return value if value.get_secret_value() else None


def stored_secret(secret: Any) -> SecretStr | None:
    """A resolved core ``Secret`` as the ``SecretStr`` the LLM's fields hold."""
    return SecretStr(secret.get_secret_value()) if secret else None


def check_base_url(value: Any) -> None:
    """Refuse a ``base_url`` that is not a string (the core would fail on it obscurely)."""
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(
            "base_url (environment variable CF_AIG_BASE_URL) must be a string URL, "
            f"not {type(value).__name__}"
        )


def coerce_update(
    update: Mapping[str, Any],
    field_names: Collection[str],
    class_name: str = "CloudflareAIGatewayLLM",
) -> dict[str, Any]:
    """``model_copy`` updates in stored form: secrets as ``SecretStr``, gateway options as a dict.

    Unknown names are refused, as the constructor refuses them.
    """
    from cf_ai_gateway import GatewayOptions

    unknown = sorted(set(update) - set(field_names))
    if unknown:
        raise ConfigurationError(unknown_arguments_message(unknown, class_name))
    values = dict(update)
    for name in SECRET_FIELDS:
        if name in values:
            text = secret_value(values[name], name)
            values[name] = SecretStr(text) if text else None
    if "gateway_options" in values:
        values["gateway_options"] = (
            GatewayOptions.coerce(values["gateway_options"]).to_dict() or None
        )
    if isinstance(values.get("stop"), str):
        values["stop"] = [values["stop"]]
    if "additional_kwargs" in values and values["additional_kwargs"] is None:
        values["additional_kwargs"] = {}
    check_base_url(values.get("base_url"))
    return values


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_http_options(additional_kwargs: Mapping[str, Any]) -> None:
    """The OpenAI SDK's request options in ``additional_kwargs``: headers, body, no query."""
    if additional_kwargs.get("extra_query") is not None:
        raise ConfigurationError(
            "additional_kwargs['extra_query'] is not supported: gateway calls carry no query "
            "parameters; send extra fields with extra_body"
        )
    check_extra_headers(
        additional_kwargs.get("extra_headers"), "additional_kwargs['extra_headers']"
    )
    extra_body = additional_kwargs.get("extra_body")
    if extra_body is not None and not isinstance(extra_body, Mapping):
        raise ConfigurationError("additional_kwargs['extra_body'] must be a dict of body fields")


def check_timeout(value: Any) -> None:
    """Refuse a timeout that is not a positive number of seconds (None means the default)."""
    check_timeout_value(value, "timeout")


def check_stop(value: Any) -> None:
    """Refuse stop sequences that are not a string or a list of strings."""
    if value is None or isinstance(value, str):
        return
    if not (isinstance(value, (list, tuple)) and all(isinstance(s, str) for s in value)):
        raise ConfigurationError(
            f"stop must be a string or a list of strings, not {_describe(value)}"
        )


def _describe(value: Any) -> str:
    """A bad value's type, or its sign for numbers; the value itself is never echoed."""
    if _is_number(value):
        return "a number <= 0"
    return type(value).__name__


def _check_range(name: str, value: Any, low: float, high: float) -> None:
    if value is None:
        return
    if not _is_number(value) or not low <= value <= high:
        raise ConfigurationError(f"{name} must be a number from {low:g} to {high:g}; got {value!r}")


def _check_positive_int(name: str, value: Any, *, allow_zero: bool = False) -> None:
    if value is None:
        return
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ConfigurationError(
            f"{name} must be an integer {'>= 0' if allow_zero else '> 0'}; got {value!r}"
        )


def check_settings(
    *,
    model: Any,
    api: Any,
    timeout: Any,
    max_retries: Any,
    additional_kwargs: Any,
    extra: Mapping[str, Any],
) -> None:
    """Raise ``ConfigurationError`` for the first bad model parameter."""
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError("model must be a non-empty string, e.g. 'gpt-4o-mini'")
    if api not in _APIS:
        raise ConfigurationError(f"api must be 'chat' or 'responses'; got {api!r}")
    check_timeout(timeout)
    check_max_retries(max_retries)
    if additional_kwargs is not None and not isinstance(additional_kwargs, Mapping):
        raise ConfigurationError("additional_kwargs must be a dict of extra request-body fields")
    if additional_kwargs:
        _check_http_options(additional_kwargs)
    _check_range("temperature", extra.get("temperature"), 0.0, 2.0)
    _check_range("top_p", extra.get("top_p"), 0.0, 1.0)
    _check_positive_int("max_tokens", extra.get("max_tokens"))
    _check_positive_int("context_window", extra.get("context_window"))
    _check_positive_int("top_logprobs", extra.get("top_logprobs"), allow_zero=True)
    check_stop(extra.get("stop"))
    built_in = extra.get("built_in_tools")
    if built_in is not None and not (
        isinstance(built_in, list) and all(isinstance(t, Mapping) for t in built_in)
    ):
        raise ConfigurationError("built_in_tools must be a list of tool dicts")


def validation_message(exc: Any, class_name: str = "CloudflareAIGatewayLLM") -> str:
    """A pydantic ``ValidationError`` as a message naming the fields, without their values."""
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in error.get("loc", ())) or "argument"
        problems.append(f"{where}: {error.get('msg', 'invalid value')}")
    return f"invalid argument(s) for {class_name}: " + "; ".join(problems)


# Arguments of LlamaIndex's OpenAI classes that mean something else here.
_RENAMED = {
    "api_base": "base_url (the gateway API root; the provider path is built from provider=...)",
    "max_new_tokens": "max_tokens",
    "max_output_tokens": "max_tokens",
    "reasoning_options": "reasoning_effort / reasoning_summary",
}


def unknown_arguments_message(names: list[str], class_name: str = "CloudflareAIGatewayLLM") -> str:
    """A message naming unknown constructor arguments, with the right name where one exists."""
    hints = [f"{name} (use {_RENAMED[name]})" for name in names if name in _RENAMED]
    others = [name for name in names if name not in _RENAMED]
    parts = hints + others
    return f"unknown argument(s) for {class_name}: " + ", ".join(parts)
