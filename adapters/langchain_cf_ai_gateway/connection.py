"""``GatewayConnection``: the connection fields of a LangChain class that calls the gateway.

It holds the fields every such class shares (account, gateway, provider, secrets, auth mode,
base URL, gateway options, headers, HTTP settings), reads their environment defaults (the
provider's own key variable for ``api_key``), resolves and checks them with
:meth:`cf_ai_gateway.GatewayConfig.resolve` when the object is built, and creates the core
:class:`cf_ai_gateway.Gateway` lazily on first use. Copies and pickles never share or carry an
HTTP client. Argument checks come from :mod:`langchain_cf_ai_gateway.settings`.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from langchain_core.utils import from_env, secret_from_env
from pydantic import BaseModel, Field, PrivateAttr, SecretStr

from cf_ai_gateway.client import Gateway
from cf_ai_gateway.config import GatewayConfig, resolve_options, resolve_pool_limits

from .request import options_dict
from .settings import check_http_settings, provider_key_env

__all__ = ["GatewayConnection"]

_GATEWAY_LOCK = threading.Lock()


class GatewayConnection(BaseModel):
    """Connection fields and the lazily built core client (a pydantic mixin)."""

    account_id: str | None = Field(
        default_factory=from_env(("CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID"), default=None)
    )
    """Cloudflare account id; ``CF_ACCOUNT_ID`` (or ``CLOUDFLARE_ACCOUNT_ID``) by default."""
    gateway_id: str = Field(default_factory=from_env("CF_AIG_GATEWAY_ID", default="default"))
    """Gateway id; ``CF_AIG_GATEWAY_ID``, else ``"default"``."""
    api_key: SecretStr | None = Field(
        default_factory=secret_from_env("OPENAI_API_KEY", default=None)
    )
    """Provider key; ``OPENAI_API_KEY`` for provider ``openai`` (other providers: their own
    key variable, e.g. ``GROQ_API_KEY``)."""
    cf_aig_token: SecretStr | None = Field(
        default_factory=secret_from_env("CF_AIG_TOKEN", default=None)
    )
    """Gateway token (``cf-aig-authorization``); ``CF_AIG_TOKEN`` by default."""
    auth_mode: Literal["authenticated", "unauthenticated", "byok", "unified_billing"] | None = None
    """``authenticated``, ``unauthenticated``, ``byok`` (alias ``unified_billing``), or None
    to infer it from the secrets that are set."""
    provider: str = "openai"
    """Provider slug (``openai``, ``workers-ai``, ``compat``, ``custom-…``, …)."""
    base_url: str | None = Field(default_factory=from_env("CF_AIG_BASE_URL", default=None))
    """Gateway API root; ``CF_AIG_BASE_URL``, else ``https://gateway.ai.cloudflare.com/v1``."""
    allow_insecure_http: bool | None = None
    """Allow a plain ``http://`` ``base_url`` to another machine (None:
    ``CF_AIG_ALLOW_INSECURE_HTTP``, else refused)."""
    gateway_options: dict[str, Any] | None = None
    """Gateway options (``GatewayOptions`` or a dict of its fields) for every call; options
    passed per call merge over them field by field."""
    default_headers: dict[str, str] | None = None
    """Extra HTTP headers for every request (never auth headers)."""
    timeout: float | None = Field(default=None, alias="request_timeout")
    """HTTP timeout in seconds (None: the core's default of 60 s)."""
    max_retries: int | None = None
    """Retries after the first attempt on connection errors, 429 and 5xx (None: 2)."""
    max_connections: int | None = Field(default=None, strict=True)
    """Connections per HTTP client pool (one async pool per event loop); more concurrent calls
    wait their turn within their timeout (None: ``CF_AIG_MAX_CONNECTIONS``, else 100)."""
    max_keepalive: int | None = Field(default=None, strict=True)
    """Idle connections kept for reuse (None: ``CF_AIG_MAX_KEEPALIVE``, else
    ``max_connections``)."""
    http_client: Any | None = Field(default=None, exclude=True)
    """Optional ``httpx.Client`` to send sync requests with (proxies, custom TLS)."""
    http_async_client: Any | None = Field(default=None, exclude=True)
    """Optional ``httpx.AsyncClient`` to send async requests with."""

    _config: GatewayConfig | None = PrivateAttr(default=None)
    _gateway: Gateway | None = PrivateAttr(default=None)

    @staticmethod
    def _provider_key_default(values: dict[str, Any]) -> None:
        """Never send an OpenAI key to another provider: read that provider's variable."""
        provider = values.get("provider") or "openai"
        if provider != "openai" and values.get("api_key") is None:
            values["api_key"] = secret_from_env(provider_key_env(provider), default=None)()

    @staticmethod
    def _normalise_options(values: dict[str, Any]) -> None:
        if "gateway_options" in values:
            values["gateway_options"] = options_dict(values["gateway_options"])

    def _check_connection(self) -> None:
        check_http_settings(
            self.timeout, self.max_retries, self.http_client, self.http_async_client
        )
        self._config = GatewayConfig.resolve(
            account_id=self.account_id,
            gateway_id=self.gateway_id,
            provider=self.provider,
            api_key=self.api_key,
            cf_aig_token=self.cf_aig_token,
            auth_mode=self.auth_mode,
            base_url=self.base_url,
            default_headers=self.default_headers,
            allow_insecure_http=self.allow_insecure_http,
        )
        resolve_options(self.gateway_options)  # CF_AIG_<OPTION> variables are checked now too
        resolve_pool_limits(self.max_connections, self.max_keepalive)  # and the pool limits
        self._gateway = None

    @property
    def gateway(self) -> Gateway:
        """The core client used for every call, created on first use."""
        gateway = self._gateway
        if gateway is None:
            with _GATEWAY_LOCK:
                gateway = self._gateway
                if gateway is None:
                    gateway = self._gateway = self._new_gateway()
        return gateway

    def _gateway_arguments(self) -> dict[str, Any]:
        """``Gateway`` arguments of a subclass's own fields (fallbacks, tracing)."""
        return {}

    def _new_gateway(self) -> Gateway:
        if self._config is None:
            self._check_connection()
        extra = self._gateway_arguments()
        if self.timeout is not None:
            extra["timeout"] = self.timeout
        if self.max_retries is not None:
            extra["max_retries"] = self.max_retries
        return Gateway(
            max_connections=self.max_connections,
            max_keepalive=self.max_keepalive,
            config=self._config,
            gateway_options=self.gateway_options,
            http_client=self.http_client,
            async_http_client=self.http_async_client,
            **extra,
        )

    def __getstate__(self) -> dict[Any, Any]:
        # HTTP clients are not picklable; a copy makes its own on first use.
        state = super().__getstate__()
        private = state.get("__pydantic_private__")
        if private:
            state["__pydantic_private__"] = {**private, "_gateway": None}
        return state

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Any:
        memo = {} if memo is None else memo
        if self._gateway is not None:
            memo[id(self._gateway)] = None  # a deep copy gets its own clients, lazily
        return super().__deepcopy__(memo)

    def close(self) -> None:
        """Close the sync HTTP client (it reopens on the next call)."""
        if self._gateway is not None:
            self._gateway.close()

    async def aclose(self) -> None:
        """Close the HTTP clients (they reopen on the next call)."""
        if self._gateway is not None:
            await self._gateway.aclose()
