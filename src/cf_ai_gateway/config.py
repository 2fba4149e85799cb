"""``GatewayConfig``: where requests go and who they say they are.

It resolves the account id, gateway id, provider slug, base URL and secrets from arguments and
environment variables, infers the auth mode, and checks every id so that no input can change the
path, the query or the host of the request URL. It builds URLs for the three surfaces: the
provider-native routes (``{base_url}/{account}/{gateway}/{provider}/{endpoint}``), the compat
route (``provider="compat"``) and the REST API on ``api.cloudflare.com`` (``surface="rest"``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import ConfigurationError

__all__ = ["AUTH_MODES", "DEFAULT_BASE_URL", "GatewayConfig", "Secret"]

DEFAULT_BASE_URL = "https://gateway.ai.cloudflare.com/v1"
DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_GATEWAY_ID = "default"
DEFAULT_PROVIDER = "openai"

AuthMode = Literal["authenticated", "unauthenticated", "byok", "rest"]
AUTH_MODES = ("authenticated", "unauthenticated", "byok", "unified_billing")
Surface = Literal["gateway", "rest"]

# Provider slug -> the provider's API-key environment variable.
PROVIDER_KEY_ENV: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "groq": "GROQ_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
    "grok": "XAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "perplexity-ai": "PERPLEXITY_API_KEY",
    "cerebras": "CEREBRAS_API_KEY",
    "baseten": "BASETEN_API_KEY",
    "fireworks": "FIREWORKS_API_KEY",
    "workers-ai": "CF_API_TOKEN",
}
GENERIC_KEY_ENV = "CF_AIG_PROVIDER_API_KEY"

# Provider slug -> path prefix before the OpenAI endpoint, per the "URL structure" of Cloudflare's
# provider pages. The grok route replaces https://api.x.ai/v1 and the openrouter route replaces
# https://openrouter.ai/api/v1, so neither takes a "v1/" (their SDK examples use .../grok and
# .../openrouter as base URL); groq, deepseek, perplexity-ai, cerebras and compat take
# none either.
PROVIDER_PATH_PREFIX: dict[str, str] = {
    "workers-ai": "v1/",
    "mistral": "v1/",
    "baseten": "v1/",
}
# A custom provider's route appends the path after ``custom-{slug}/`` to the registered base URL,
# which the custom-providers page says holds the domain only; an OpenAI-compatible provider's path
# then starts with ``v1/`` (https://developers.cloudflare.com/ai-gateway/configuration/custom-providers/).
CUSTOM_PROVIDER_PATH_PREFIX = "v1/"
# Workers AI's native route takes the model id as its path: ``workers-ai/@cf/{author}/{model}``.
WORKERS_AI_MODEL_PREFIXES = ("@cf/", "@hf/")
MAX_GATEWAY_ID_LENGTH = 64  # the API's gateway_id maxLength

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_PROVIDER_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_ENDPOINT_SEGMENT_RE = re.compile(r"^[A-Za-z0-9@._:-]+$")


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


def _env(environ: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = environ.get(name)
        if value:
            return value
    return None


def _secret_text(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    if not isinstance(value, str):
        raise ConfigurationError(
            f"secrets (api_key, cf_aig_token, cf_api_token) must be strings, not "
            f"{type(value).__name__}"
        )
    return value or None


def _check_secret(value: str | None, arg: str, env_name: str) -> Secret | None:
    if value is None:
        return None
    if value[:7].lower() == "bearer ":
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) starts with 'Bearer ': pass the bare "
            "key or token; the library adds the 'Bearer ' prefix itself"
        )
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) contains whitespace or control characters "
            "(CR/LF would change the request headers); check how it was copied"
        )
    if not value.isascii():
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) contains non-ASCII characters"
        )
    return Secret(value)


def _check_id(value: Any, arg: str, env_name: str | None, pattern: re.Pattern[str]) -> str:
    where = f" (environment variable {env_name})" if env_name else ""
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{arg}{where} must be a non-empty string")
    if not pattern.match(value):
        raise ConfigurationError(
            f"{arg}{where} is not a valid id: {value[:80]!r}. Ids may hold letters, digits, "
            "'-' and '_' only; slashes, '..', '?', '#', whitespace and control characters "
            "would change the request URL"
        )
    return value


def _normalise_base_url(value: Any, arg: str, env_name: str) -> str:
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) must be a URL string, not "
            f"{type(value).__name__}"
        )
    if any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in value):
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) must not contain whitespace or control "
            "characters"
        )
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) is not a valid URL"
        ) from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) must be an http(s) URL such as "
            f"{DEFAULT_BASE_URL}; got {value!r}"
        )
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) must not carry a query, a fragment or "
            "credentials"
        )
    path = parts.path.rstrip("/")
    for suffix in ("/chat/completions", "/responses"):
        if path.endswith(suffix):
            raise ConfigurationError(
                f"{arg} (environment variable {env_name}) must be the API root, without the "
                f"endpoint path {suffix!r}; the library appends it"
            )
    while path.endswith("/v1/v1"):
        path = path[:-3]
    last = path.rsplit("/", 1)[-1]
    if last in PROVIDER_KEY_ENV or last == "compat" or last.startswith("custom-"):
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) looks like a provider route (it ends in "
            f"'/{last}'); pass the gateway API root such as {DEFAULT_BASE_URL}, and the account, "
            "gateway and provider as account_id, gateway_id and provider"
        )
    if any(seg in ("..", ".") for seg in path.split("/")):
        raise ConfigurationError(f"{arg} (environment variable {env_name}) must not contain '..'")
    return f"{parts.scheme}://{parts.netloc}{path}"


@dataclass(frozen=True)
class GatewayConfig:
    """Resolved, checked connection settings. Build it with :meth:`resolve`.

    ``auth_mode`` is ``"authenticated"`` (gateway token and provider key), ``"unauthenticated"``
    (provider key only), ``"byok"`` (gateway token only: stored keys or Unified Billing) or,
    on the REST surface, ``"rest"`` (a Cloudflare API token as ``Authorization``).
    """

    account_id: str
    gateway_id: str = DEFAULT_GATEWAY_ID
    provider: str = DEFAULT_PROVIDER
    base_url: str = DEFAULT_BASE_URL
    auth_mode: AuthMode = "unauthenticated"
    api_key: Secret | None = field(default=None, repr=False)
    cf_aig_token: Secret | None = field(default=None, repr=False)
    cf_api_token: Secret | None = field(default=None, repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL
    surface: Surface = "gateway"
    default_headers: Mapping[str, str] = field(default_factory=dict)
    _prefix: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.surface == "rest":
            prefix = f"{self.api_base_url}/accounts/{self.account_id}/ai/v1/"
        else:
            prefix = (
                f"{self.base_url}/{self.account_id}/{self.gateway_id}/{self.provider}/"
                f"{_path_prefix(self.provider)}"
            )
        object.__setattr__(self, "_prefix", prefix)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def resolve(
        cls,
        *,
        account_id: str | None = None,
        gateway_id: str | None = None,
        provider: str | None = None,
        api_key: Any = None,
        cf_aig_token: Any = None,
        auth_mode: str | None = None,
        base_url: str | None = None,
        cf_api_token: Any = None,
        api_base_url: str | None = None,
        surface: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> GatewayConfig:
        """Fill unset fields from the environment, check everything, infer the auth mode."""
        env = os.environ if environ is None else environ
        provider = provider or DEFAULT_PROVIDER
        _check_id(provider, "provider", None, _PROVIDER_RE)
        key_env = PROVIDER_KEY_ENV.get(provider, GENERIC_KEY_ENV)

        account = account_id or _env(env, "CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID")
        if not account:
            raise ConfigurationError(
                "account_id is required: pass account_id=... or set the CF_ACCOUNT_ID "
                "(or CLOUDFLARE_ACCOUNT_ID) environment variable"
            )
        _check_id(account, "account_id", "CF_ACCOUNT_ID", _ID_RE)
        gateway = gateway_id or _env(env, "CF_AIG_GATEWAY_ID") or DEFAULT_GATEWAY_ID
        _check_id(gateway, "gateway_id", "CF_AIG_GATEWAY_ID", _ID_RE)
        if len(gateway) > MAX_GATEWAY_ID_LENGTH:
            raise ConfigurationError(
                f"gateway_id (environment variable CF_AIG_GATEWAY_ID) has {len(gateway)} characters; "
                f"gateway ids have at most {MAX_GATEWAY_ID_LENGTH}"
            )

        api_base = _normalise_base_url(
            api_base_url or _env(env, "CF_API_BASE_URL") or DEFAULT_API_BASE_URL,
            "api_base_url",
            "CF_API_BASE_URL",
        )
        raw_base = base_url or _env(env, "CF_AIG_BASE_URL") or DEFAULT_BASE_URL
        base = _normalise_base_url(raw_base, "base_url", "CF_AIG_BASE_URL")
        chosen_surface = surface or _infer_surface(base)
        if chosen_surface not in ("gateway", "rest"):
            raise ConfigurationError(f"surface must be 'gateway' or 'rest'; got {surface!r}")
        if chosen_surface == "rest" and (base_url or _env(env, "CF_AIG_BASE_URL")):
            api_base = base
        elif chosen_surface == "gateway":
            base = _default_v1(base)

        key = _check_secret(
            _secret_text(api_key) or _env(env, key_env), "api_key", key_env
        )
        token = _check_secret(
            _secret_text(cf_aig_token) or _env(env, "CF_AIG_TOKEN"), "cf_aig_token", "CF_AIG_TOKEN"
        )
        api_token = _check_secret(
            _secret_text(cf_api_token) or _env(env, "CF_API_TOKEN"), "cf_api_token", "CF_API_TOKEN"
        )
        headers = check_extra_headers(default_headers, "default_headers")

        if chosen_surface == "rest":
            rest_token = api_token or token
            if rest_token is None:
                raise ConfigurationError(
                    "the REST surface needs a Cloudflare API token: pass cf_api_token=... or set "
                    "the CF_API_TOKEN environment variable"
                )
            return cls(
                account_id=account,
                gateway_id=gateway,
                provider=provider,
                base_url=base,
                auth_mode="rest",
                api_key=None,
                cf_aig_token=None,
                cf_api_token=rest_token,
                api_base_url=api_base,
                surface="rest",
                default_headers=headers,
            )

        mode = _resolve_auth_mode(auth_mode, key, token, key_env)
        return cls(
            account_id=account,
            gateway_id=gateway,
            provider=provider,
            base_url=base,
            auth_mode=mode,
            api_key=key if mode != "byok" else None,
            cf_aig_token=token if mode != "unauthenticated" else None,
            cf_api_token=api_token,
            api_base_url=api_base,
            surface="gateway",
            default_headers=headers,
        )

    # -- URLs ---------------------------------------------------------------------------------
    def url(self, endpoint: str) -> str:
        """The full URL of ``endpoint`` (e.g. ``"chat/completions"``) on this gateway."""
        if endpoint == "chat/completions" or endpoint == "responses":
            return self._prefix + endpoint
        if isinstance(endpoint, str) and endpoint.startswith(WORKERS_AI_MODEL_PREFIXES):
            return self._workers_ai_model_url(endpoint)
        return self._prefix + check_endpoint(endpoint)

    def _workers_ai_model_url(self, model: str) -> str:
        """Workers AI's native route, ``…/{gateway}/workers-ai/@cf/{author}/{model}``."""
        if self.surface == "rest" or self.provider != "workers-ai":
            raise ConfigurationError(
                f"endpoint {model[:80]!r} is a Workers AI model: its native route needs "
                "provider='workers-ai' on the gateway surface (…/{gateway}/workers-ai/@cf/…); on "
                "other providers and the REST surface, send the model in the body of "
                "'chat/completions' instead"
            )
        return (
            f"{self.base_url}/{self.account_id}/{self.gateway_id}/workers-ai/"
            f"{check_endpoint(model)}"
        )

    @property
    def provider_base_url(self) -> str:
        """The base URL an OpenAI SDK takes (``.../{gateway}/{provider}``, no trailing slash)."""
        return self._prefix.rstrip("/")

    def logs_url(self, log_id: str | None = None) -> str:
        """The Cloudflare API URL of this gateway's logs, or of one log entry."""
        url = f"{self.api_base_url}/accounts/{self.account_id}/ai-gateway/gateways/{self.gateway_id}/logs"
        if log_id is not None:
            url += "/" + _check_id(log_id, "log_id", None, _ID_RE)
        return url

    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for scrubbing text before it is shown."""
        return tuple(
            s.get_secret_value() for s in (self.api_key, self.cf_aig_token, self.cf_api_token) if s
        )

    def describe(self, endpoint: str = "chat/completions") -> dict[str, Any]:
        """The settings with secrets masked, for diagnostics; ``url`` is that of ``endpoint``."""
        return {
            "url": self.url(endpoint),
            "account_id": self.account_id,
            "gateway_id": self.gateway_id,
            "provider": self.provider,
            "surface": self.surface,
            "auth_mode": self.auth_mode,
            "api_key": _mask(self.api_key),
            "cf_aig_token": _mask(self.cf_aig_token),
            "cf_api_token": _mask(self.cf_api_token),
        }


def _path_prefix(provider: str) -> str:
    if provider.startswith("custom-"):
        return CUSTOM_PROVIDER_PATH_PREFIX
    return PROVIDER_PATH_PREFIX.get(provider, "")


def _mask(secret: Secret | None) -> str | None:
    if secret is None:
        return None
    value = secret.get_secret_value()
    # Long keys keep their last 4 characters, so users can tell which key is in use.
    return f"***{value[-4:]}" if len(value) >= 24 else "***"


def _infer_surface(base_url: str) -> Surface:
    path = urlsplit(base_url).path.rstrip("/")
    return "rest" if path.endswith("/client/v4") else "gateway"


def _default_v1(base: str) -> str:
    parts = urlsplit(base)
    if parts.hostname == "gateway.ai.cloudflare.com" and parts.path in ("", "/"):
        return base.rstrip("/") + "/v1"
    return base


def _resolve_auth_mode(
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
        raise ConfigurationError(
            f"no credentials: {key_hint} (provider key), and/or {token_hint} (gateway token "
            "for an authenticated gateway, stored keys or Unified Billing)"
        )
    if requested == "authenticated":
        if not key or not token:
            missing = [h for h, s in ((key_hint, key), (token_hint, token)) if not s]
            raise ConfigurationError(
                "auth_mode='authenticated' needs a provider key and a gateway token: "
                + "; ".join(missing)
            )
        return "authenticated"
    if requested == "unauthenticated":
        if not key:
            raise ConfigurationError(f"auth_mode='unauthenticated' needs a provider key: {key_hint}")
        return "unauthenticated"
    if not token:
        raise ConfigurationError(
            f"auth_mode={requested!r} (stored keys / Unified Billing) needs a gateway token: "
            f"{token_hint}"
        )
    return "byok"


_FORBIDDEN_HEADERS = frozenset(
    {"authorization", "cf-aig-authorization", "host", "content-length", "transfer-encoding"}
)


def check_extra_headers(headers: Any, arg: str = "extra_headers") -> dict[str, str]:
    """Check user-supplied headers: valid names, ASCII values without CR/LF, and none that
    would replace the auth headers or the request framing."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ConfigurationError(f"{arg} must be a dict of header names to values")
    out: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9-]+$", name):
            raise ConfigurationError(f"{arg} has an invalid header name {name!r}")
        if name.lower() in _FORBIDDEN_HEADERS:
            raise ConfigurationError(
                f"{arg} must not set {name}; pass api_key / cf_aig_token for authentication"
            )
        if (
            not isinstance(value, str)
            or any(ch in value for ch in "\r\n\x00")
            or not value.isascii()
        ):
            raise ConfigurationError(
                f"{arg}[{name!r}] must be an ASCII string without CR, LF or NUL"
            )
        out[name] = value
    return out


def check_endpoint(endpoint: str) -> str:
    """Check a provider path such as ``"embeddings"`` or ``"models"``; return it unchanged."""
    if not isinstance(endpoint, str) or not endpoint or endpoint.startswith("/"):
        raise ConfigurationError(
            f"endpoint must be a relative provider path such as 'chat/completions'; got {endpoint!r}"
        )
    for segment in endpoint.split("/"):
        if segment in ("", ".", "..") or not _ENDPOINT_SEGMENT_RE.match(segment):
            raise ConfigurationError(
                f"endpoint {endpoint[:80]!r} has an invalid path segment; '..', '?', '#', "
                "whitespace and control characters are not allowed"
            )
    return endpoint
