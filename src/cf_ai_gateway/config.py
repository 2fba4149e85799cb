"""The one resolver of settings and environment, and ``GatewayConfig``: where requests go.

:meth:`GatewayConfig.resolve` fills the account id, gateway id, provider slug, base URL and
secrets from arguments and environment variables, infers the auth mode, and checks every id so
that no input can change the path, the query or the host of the request URL;
:func:`resolve_options` adds the ``CF_AIG_<OPTION>`` gateway options. ``Gateway``, both adapters,
``load_adapter`` and the CLI all resolve through these two, so a variable means the same thing
everywhere and a bad value gives the same message. :data:`ENVIRONMENT` lists every variable read.
The config builds URLs for the three surfaces: the provider-native routes
(``{base_url}/{account}/{gateway}/{provider}/{endpoint}``), the compat route
(``provider="compat"``) and the REST API on ``api.cloudflare.com`` (``surface="rest"``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from .checks import (
    ID_RULE,
    PROVIDER_RULE,
    check_endpoint,
    check_extra_headers,
    check_id,
    check_url_usable,
    is_loopback_host,
)
from .credentials import (
    AUTH_MODES,
    AuthMode,
    Secret,
    getenv,
    mask,
    resolve_auth_mode,
    secret,
)
from .errors import ConfigurationError, MissingCredentialsError, register_secrets
from .records import record

if TYPE_CHECKING:
    from .options import GatewayOptions

__all__ = [
    "AUTH_MODES",
    "DEFAULT_BASE_URL",
    "ENVIRONMENT",
    "INSECURE_HTTP_ENV",
    "GatewayConfig",
    "Secret",
    "check_endpoint",
    "check_extra_headers",
    "resolve_options",
    "resolve_pool_limits",
    "resolve_transport",
]

DEFAULT_BASE_URL = "https://gateway.ai.cloudflare.com/v1"
DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4"
DEFAULT_GATEWAY_ID = "default"
DEFAULT_PROVIDER = "openai"

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

INSECURE_HTTP_ENV = "CF_AIG_ALLOW_INSECURE_HTTP"
MODEL_ENV = "CF_AIG_MODEL"
MAX_CONNECTIONS_ENV = "CF_AIG_MAX_CONNECTIONS"
MAX_KEEPALIVE_ENV = "CF_AIG_MAX_KEEPALIVE"
# Connections per client pool (per event loop for async): calls beyond it wait in a FIFO gate
# (see pool_gate). Idle connections kept for reuse default to the same number: httpcore closes
# an idle connection whenever its pool holds more than max_keepalive connections in all, so a
# smaller number reopens a connection for nearly every call under fan-out.
DEFAULT_MAX_CONNECTIONS = 100
# Seconds an idle connection is kept: under fan-out a CPU-bound event loop can take longer than
# httpx's default of 5 s to hand a freed connection to the next call. A connection the server
# closed meanwhile is noticed by the pool before reuse.
KEEPALIVE_EXPIRY = 30.0
TRANSPORT_ENV = "CF_AIG_TRANSPORT"
# The wire: "aiohttp" (the ``fast`` extra's wires: aiohttp's C HTTP parser for async calls, the
# core's sockets for sync ones), "httpx", or "auto" (the fast wires when the extra, aiohttp and
# orjson, is installed).
TRANSPORTS = ("auto", "httpx", "aiohttp")

# Every environment variable the library reads, with what it sets (the README's table).
ENVIRONMENT: dict[str, str] = {
    "CF_ACCOUNT_ID": "account_id",
    "CLOUDFLARE_ACCOUNT_ID": "account_id (when CF_ACCOUNT_ID is unset)",
    "CF_AIG_GATEWAY_ID": "gateway_id",
    "CF_AIG_BASE_URL": "base_url",
    "CF_AIG_TOKEN": "cf_aig_token",
    "CF_API_TOKEN": "cf_api_token (and the workers-ai provider key)",
    "CF_API_BASE_URL": "api_base_url",
    GENERIC_KEY_ENV: "api_key for providers without a variable of their own",
    INSECURE_HTTP_ENV: "allow_insecure_http",
    MODEL_ENV: "the CLI's default model",
    MAX_CONNECTIONS_ENV: "max_connections",
    MAX_KEEPALIVE_ENV: "max_keepalive",
    TRANSPORT_ENV: "transport",
    **{env: f"api_key for provider {slug}" for slug, env in PROVIDER_KEY_ENV.items()},
}


def _insecure_http_allowed(value: Any, environ: Mapping[str, str] | None) -> bool:
    if value is not None:
        if not isinstance(value, bool):
            raise ConfigurationError(
                f"allow_insecure_http must be a bool, not {type(value).__name__}"
            )
        return value
    text = (getenv(environ, INSECURE_HTTP_ENV) or "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise ConfigurationError(
        f"allow_insecure_http (environment variable {INSECURE_HTTP_ENV}) must be true or false; "
        f"got {text[:20]!r}"
    )


def _check_https(base: str, arg: str, env_name: str, allowed: bool) -> None:
    parts = urlsplit(base)
    if parts.scheme == "http" and not allowed and not is_loopback_host(parts.hostname or ""):
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) is a plain http:// URL to "
            f"{parts.hostname!r}, which is not this machine: keys and tokens would cross the "
            "network unencrypted. Use https://, or opt in with allow_insecure_http=True (or "
            f"{INSECURE_HTTP_ENV}=1) if the network is trusted"
        )


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
    normalised = f"{parts.scheme}://{parts.netloc}{path}"
    check_url_usable(normalised, arg, env_name)
    return normalised


@record(frozen=True)
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
    # Whether the caller named the gateway (argument or CF_AIG_GATEWAY_ID), "default" included.
    gateway_named: bool = field(default=False, repr=False, compare=False)
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
        register_secrets(self, self.secrets())

    def __setstate__(self, state: dict[str, Any]) -> None:
        # An unpickled or copied config registers its secrets too (no __post_init__ runs).
        self.__dict__.update(state)
        register_secrets(self, self.secrets())

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
        allow_insecure_http: bool | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> GatewayConfig:
        """Fill unset fields from the environment, check everything, infer the auth mode.

        Secrets may be ``str``, :class:`Secret` or any ``SecretStr``; they stay wrapped from
        here on. ``environ`` replaces ``os.environ`` (for tests and tools).
        """
        provider = provider or DEFAULT_PROVIDER
        check_id(provider, "provider", None, PROVIDER_RULE)
        key_env = PROVIDER_KEY_ENV.get(provider, GENERIC_KEY_ENV)

        account = account_id or getenv(environ, "CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID")
        if not account:
            raise MissingCredentialsError(
                "account_id is required: pass account_id=... or set the CF_ACCOUNT_ID "
                "(or CLOUDFLARE_ACCOUNT_ID) environment variable"
            )
        check_id(account, "account_id", "CF_ACCOUNT_ID", ID_RULE)
        named_gateway = gateway_id or getenv(environ, "CF_AIG_GATEWAY_ID")
        gateway = named_gateway or DEFAULT_GATEWAY_ID
        check_id(gateway, "gateway_id", "CF_AIG_GATEWAY_ID", ID_RULE)
        if len(gateway) > MAX_GATEWAY_ID_LENGTH:
            raise ConfigurationError(
                f"gateway_id (environment variable CF_AIG_GATEWAY_ID) has {len(gateway)} "
                f"characters; gateway ids have at most {MAX_GATEWAY_ID_LENGTH}"
            )

        insecure_ok = _insecure_http_allowed(allow_insecure_http, environ)
        api_base = _normalise_base_url(
            api_base_url or getenv(environ, "CF_API_BASE_URL") or DEFAULT_API_BASE_URL,
            "api_base_url",
            "CF_API_BASE_URL",
        )
        _check_https(api_base, "api_base_url", "CF_API_BASE_URL", insecure_ok)
        given_base = base_url or getenv(environ, "CF_AIG_BASE_URL")
        base = _normalise_base_url(given_base or DEFAULT_BASE_URL, "base_url", "CF_AIG_BASE_URL")
        _check_https(base, "base_url", "CF_AIG_BASE_URL", insecure_ok)
        chosen_surface = surface or _infer_surface(base)
        if chosen_surface not in ("gateway", "rest"):
            raise ConfigurationError(f"surface must be 'gateway' or 'rest'; got {surface!r}")
        if chosen_surface == "rest" and given_base:
            api_base = base
        elif chosen_surface == "gateway":
            base = _default_v1(base)

        key = secret(api_key, "api_key", environ, key_env)
        token = secret(cf_aig_token, "cf_aig_token", environ, "CF_AIG_TOKEN")
        api_token = secret(cf_api_token, "cf_api_token", environ, "CF_API_TOKEN")
        headers = check_extra_headers(default_headers, "default_headers")

        if chosen_surface == "rest":
            rest_token = api_token or token
            if rest_token is None:
                raise MissingCredentialsError(
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
                gateway_named=bool(named_gateway),
            )

        mode = resolve_auth_mode(auth_mode, key, token, key_env)
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
            gateway_named=bool(named_gateway),
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
            url += "/" + check_id(log_id, "log_id", None, ID_RULE)
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
            "api_key": mask(self.api_key),
            "cf_aig_token": mask(self.cf_aig_token),
            "cf_api_token": mask(self.cf_api_token),
        }


def _path_prefix(provider: str) -> str:
    if provider.startswith("custom-"):
        return CUSTOM_PROVIDER_PATH_PREFIX
    return PROVIDER_PATH_PREFIX.get(provider, "")


def _infer_surface(base_url: str) -> Surface:
    path = urlsplit(base_url).path.rstrip("/")
    return "rest" if path.endswith("/client/v4") else "gateway"


def _default_v1(base: str) -> str:
    parts = urlsplit(base)
    if parts.hostname == "gateway.ai.cloudflare.com" and parts.path in ("", "/"):
        return base.rstrip("/") + "/v1"
    return base


def resolve_options(
    gateway_options: GatewayOptions | Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> GatewayOptions:
    """The client's gateway options: ``CF_AIG_<OPTION>`` variables, with ``gateway_options``
    merged over them field by field (the argument wins)."""
    from .options import GatewayOptions

    return GatewayOptions.from_env(environ).merge(gateway_options)


def resolve_pool_limits(
    max_connections: Any = None,
    max_keepalive: Any = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """``(max_connections, max_keepalive)`` of the pools the library creates.

    Unset values come from ``CF_AIG_MAX_CONNECTIONS`` and ``CF_AIG_MAX_KEEPALIVE``, else
    :data:`DEFAULT_MAX_CONNECTIONS` and, for ``max_keepalive``, ``max_connections``. Both are
    positive integers and ``max_keepalive`` is at most ``max_connections``.
    """
    connections = _pool_size(max_connections, "max_connections", MAX_CONNECTIONS_ENV, environ)
    keepalive = _pool_size(max_keepalive, "max_keepalive", MAX_KEEPALIVE_ENV, environ)
    if connections is None:
        connections = DEFAULT_MAX_CONNECTIONS
    if keepalive is None:
        keepalive = connections
    elif keepalive > connections:
        raise ConfigurationError(
            f"max_keepalive (environment variable {MAX_KEEPALIVE_ENV}) must be at most "
            f"max_connections ({connections}); got {keepalive}"
        )
    return connections, keepalive


def _pool_size(
    value: Any, arg: str, env_name: str, environ: Mapping[str, str] | None
) -> int | None:
    if value is None:
        text = (getenv(environ, env_name) or "").strip()
        if not text:
            return None
        if not (text.isascii() and text.isdigit() and len(text) <= 9) or int(text) < 1:
            raise ConfigurationError(
                f"{arg} (environment variable {env_name}) must be a positive integer; "
                f"got {text[:20]!r}"
            )
        return int(text)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigurationError(
            f"{arg} (environment variable {env_name}) must be a positive integer; got {value!r:.80}"
        )
    return value


def resolve_transport(value: Any = None, environ: Mapping[str, str] | None = None) -> str:
    """The wire, one of :data:`TRANSPORTS`: ``value``, else ``CF_AIG_TRANSPORT``, else
    ``"auto"``, which is ``"aiohttp"`` when the ``fast`` extra (aiohttp and orjson) is installed
    and ``"httpx"`` otherwise. ``"aiohttp"`` needs aiohttp (``pip install 'cf-ai-gateway[fast]'``)."""
    source = "transport"
    if value is None:
        value = (getenv(environ, TRANSPORT_ENV) or "").strip().lower() or "auto"
        source = f"transport (environment variable {TRANSPORT_ENV})"
    if value not in TRANSPORTS:
        raise ConfigurationError(
            f"{source} must be one of {', '.join(map(repr, TRANSPORTS))}; got {str(value)[:40]!r}"
        )
    if value == "auto":
        return "aiohttp" if _fast_extra_installed() else "httpx"
    if value == "aiohttp" and not _installed("aiohttp"):
        raise ConfigurationError(
            f"{source} is 'aiohttp', which is not installed: "
            "pip install 'cf-ai-gateway[fast]', or use 'httpx'"
        )
    return str(value)


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


@functools.cache
def _fast_extra_installed() -> bool:
    """Whether aiohttp and orjson, the ``fast`` extra, are both importable (looked up once)."""
    return _installed("aiohttp") and _installed("orjson")
