"""``CloudflareAIGatewayEmbedding``: a LlamaIndex ``BaseEmbedding`` routed through Cloudflare AI Gateway.

Every call goes through :meth:`cf_ai_gateway.Gateway.embed`: texts are sent as raw strings with
any model name the gateway routes (``@cf/…`` on Workers AI, ``{provider}/{model}`` on compat),
each LlamaIndex batch is one request of up to the provider's largest batch, and
``cache="content"`` makes re-embedding unchanged text a gateway cache hit. After each request
a :class:`GatewayInfoEvent` carrying the batch's ``cf-aig-*`` response headers goes to
LlamaIndex's instrumentation dispatcher; ``last_gateway_info`` holds the last call's.
Connection fields, their environment defaults and their checks are the LLM adapter's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import Field, PrivateAttr, SecretStr, ValidationError
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events import BaseEvent

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.config import DEFAULT_BASE_URL
from cf_ai_gateway.wire import embeddings as wire
from llama_index.llms.cf_ai_gateway.settings import (
    CONNECTION_FIELDS,
    SECRET_FIELDS,
    check_base_url,
    check_timeout,
    coerce_update,
    connection_gateway,
    secret_or_none,
    secret_value,
    stored_secret,
    unknown_arguments_message,
    validation_message,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cf_ai_gateway import EmbeddingResult, Gateway, GatewayInfo

__all__ = ["CloudflareAIGatewayEmbedding", "GatewayInfoEvent"]

DEFAULT_MODEL = "text-embedding-3-small"
_CLASS_NAME = "CloudflareAIGatewayEmbedding"
# Fields whose change needs a new Gateway client, and the embedding settings checked on change.
_REBUILD_FIELDS = CONNECTION_FIELDS | {"model_name", "dimensions", "cache", "max_concurrency"}

dispatcher = get_dispatcher(__name__)


class GatewayInfoEvent(BaseEvent):
    """The gateway's response headers for one embeddings call (one entry per request)."""

    model_name: str
    gateway: list[dict[str, Any]]

    @classmethod
    def class_name(cls) -> str:
        return "GatewayInfoEvent"


class CloudflareAIGatewayEmbedding(BaseEmbedding):
    """LlamaIndex embedding model for any OpenAI-wire provider behind Cloudflare AI Gateway.

    Connection fields default from the environment as the LLM's do: ``account_id``
    (``CF_ACCOUNT_ID``), ``gateway_id`` (``CF_AIG_GATEWAY_ID``), ``api_key`` (the provider's key
    variable, ``OPENAI_API_KEY`` for ``openai``), ``cf_aig_token`` (``CF_AIG_TOKEN``) and
    ``base_url`` (``CF_AIG_BASE_URL``). ``embed_batch_size`` (or ``batch_size``) defaults to the
    provider's largest batch (2048 on OpenAI, 100 on Workers AI).

    Example:
        ```python
        from llama_index.core import Settings
        from llama_index.embeddings.cf_ai_gateway import CloudflareAIGatewayEmbedding

        Settings.embed_model = CloudflareAIGatewayEmbedding(cache="content")
        ```
    """

    account_id: str = Field(description="Cloudflare account id.")
    gateway_id: str = Field(default="default", description="AI Gateway id.")
    provider: str = Field(default="openai", description="Provider slug, e.g. 'openai'.")
    api_key: SecretStr | None = Field(
        default=None, exclude=True, repr=False, description="Provider API key."
    )
    cf_aig_token: SecretStr | None = Field(
        default=None, exclude=True, repr=False, description="AI Gateway token."
    )
    auth_mode: str | None = Field(
        default=None, description="'authenticated', 'unauthenticated' or 'byok'; inferred if unset."
    )
    base_url: str = Field(default=DEFAULT_BASE_URL, description="AI Gateway API root.")
    allow_insecure_http: bool | None = Field(
        default=None,
        description="Allow a plain http:// base_url to another machine "
        "(None: CF_AIG_ALLOW_INSECURE_HTTP).",
    )
    gateway_options: dict[str, Any] | None = Field(
        default=None, description="Gateway options (cf-aig-* headers) for every call."
    )
    default_headers: dict[str, str] | None = Field(
        default=None, description="Extra HTTP headers for every request."
    )
    dimensions: int | None = Field(
        default=None, description="Vector length, when the model can shorten it."
    )
    cache: str | None = Field(
        default=None, description="'content': a cache key from each batch's content."
    )
    max_concurrency: int | None = Field(
        default=None, description="Requests in flight at once within one call (default 4)."
    )
    encoding_format: str = Field(
        default="float", description="'float' (every provider) or 'base64' (OpenAI; faster)."
    )
    timeout: float | None = Field(default=60.0, description="Request timeout in seconds.")
    max_retries: int = Field(
        default=2, description="Retries after the first attempt (in the core)."
    )
    max_connections: int | None = Field(
        default=None,
        description="Connections per HTTP client pool; more concurrent calls wait their turn "
        "(None: CF_AIG_MAX_CONNECTIONS, else 100).",
    )
    max_keepalive: int | None = Field(
        default=None,
        description="Idle connections kept for reuse (None: CF_AIG_MAX_KEEPALIVE, else "
        "max_connections).",
    )

    _gateway: Gateway | None = PrivateAttr(default=None)
    _last_gateway_info: list[GatewayInfo] = PrivateAttr(default_factory=list)

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        account_id: str | None = None,
        gateway_id: str | None = None,
        provider: str | None = None,
        api_key: str | SecretStr | None = None,
        cf_aig_token: str | SecretStr | None = None,
        auth_mode: str | None = None,
        base_url: str | None = None,
        gateway_options: Any = None,
        dimensions: int | None = None,
        cache: str | None = None,
        max_concurrency: int | None = None,
        encoding_format: str = "float",
        embed_batch_size: int | None = None,
        batch_size: int | None = None,
        timeout: float | None = 60.0,
        max_retries: int = 2,
        callback_manager: CallbackManager | None = None,
        **kwargs: Any,
    ) -> None:
        from cf_ai_gateway import GatewayOptions

        model = wire.check_model(kwargs.pop("model_name", model))
        check_base_url(base_url)
        unknown = sorted(set(kwargs) - set(type(self).model_fields))
        if unknown:
            raise ConfigurationError(unknown_arguments_message(unknown, _CLASS_NAME))
        _check_embedding_settings(dimensions, cache, max_concurrency, timeout, max_retries)
        wire.check_encoding(encoding_format)
        if batch_size is not None and embed_batch_size not in (None, batch_size):
            raise ConfigurationError("pass batch_size or embed_batch_size, not both")
        requested = embed_batch_size if embed_batch_size is not None else batch_size
        options = GatewayOptions.coerce(gateway_options).to_dict() or None
        # The core resolves the connection and the environment, as for every other client;
        # secrets stay wrapped (SecretStr) until the auth header is built. It loads here, not
        # at import, so that importing the class costs no HTTP stack.
        from cf_ai_gateway import Gateway

        gateway = Gateway(
            account_id=account_id,
            gateway_id=gateway_id,
            provider=provider,
            api_key=secret_or_none(api_key, "api_key"),
            cf_aig_token=secret_or_none(cf_aig_token, "cf_aig_token"),
            auth_mode=auth_mode,
            base_url=base_url,
            gateway_options=options,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=kwargs.get("default_headers"),
            allow_insecure_http=kwargs.get("allow_insecure_http"),
            max_connections=kwargs.get("max_connections"),
            max_keepalive=kwargs.get("max_keepalive"),
        )
        config = gateway.config
        batch = wire.check_batch_size(requested, wire.batch_limit(config.provider, model))
        values: dict[str, Any] = {
            "model_name": model,
            "embed_batch_size": batch,
            "account_id": config.account_id,
            "gateway_id": config.gateway_id,
            "provider": config.provider,
            "api_key": secret_or_none(api_key, "api_key") or stored_secret(config.api_key),
            "cf_aig_token": secret_or_none(cf_aig_token, "cf_aig_token")
            or stored_secret(config.cf_aig_token),
            "auth_mode": auth_mode,
            "base_url": config.base_url,
            "gateway_options": options,
            "dimensions": dimensions,
            "cache": cache,
            "max_concurrency": max_concurrency,
            "encoding_format": encoding_format,
            "timeout": timeout,
            "max_retries": max_retries,
            **kwargs,
        }
        if callback_manager is not None:
            values["callback_manager"] = callback_manager
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise ConfigurationError(validation_message(exc, _CLASS_NAME)) from None
        self._gateway = gateway

    # -- configuration ----------------------------------------------------------------------

    @classmethod
    def class_name(cls) -> str:
        return _CLASS_NAME

    @property
    def model(self) -> str:
        """The model name (``model_name``)."""
        return self.model_name

    def __setattr__(self, name: str, value: Any) -> None:
        if name in SECRET_FIELDS and value is not None and not isinstance(value, SecretStr):
            value = SecretStr(secret_value(value, name) or "")
        if name == "model_name":
            wire.check_model(value)
        elif name == "dimensions":
            wire.check_dimensions(value)
        elif name == "cache":
            wire.check_cache(value)
        elif name == "encoding_format":
            wire.check_encoding(value)
        elif name == "max_concurrency" and value is not None:
            wire.check_max_concurrency(value)
        elif name == "gateway_options":
            from cf_ai_gateway import GatewayOptions

            value = GatewayOptions.coerce(value).to_dict() or None
        super().__setattr__(name, value)
        if name in _REBUILD_FIELDS:
            self._gateway = None

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        private = state.get("__pydantic_private__")
        if isinstance(private, dict):
            state["__pydantic_private__"] = {**private, "_gateway": None}
        return state

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> CloudflareAIGatewayEmbedding:
        memo = {} if memo is None else memo
        if self._gateway is not None:
            memo[id(self._gateway)] = None  # the copy builds its own client
        return super().__deepcopy__(memo)

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> CloudflareAIGatewayEmbedding:
        """A copy; with ``update``, each new setting is checked as an assignment is, and a copy
        whose connection changed gets its own client. Bad values raise ``ConfigurationError``."""
        copied = super().model_copy(deep=deep)
        if update:
            for name, value in coerce_update(update, type(self).model_fields, _CLASS_NAME).items():
                setattr(copied, name, value)
            if copied._gateway is None:
                copied._gateway = copied._new_gateway()
        return copied

    def _new_gateway(self) -> Gateway:
        return connection_gateway(self)

    @property
    def gateway(self) -> Gateway:
        """The core client, created from the connection fields (again after they change)."""
        gateway = self._gateway
        if gateway is None:
            gateway = self._gateway = self._new_gateway()
        return gateway

    @property
    def batch_size(self) -> int:
        """Texts per request (``embed_batch_size``, the name LlamaIndex uses)."""
        return self.embed_batch_size

    @property
    def last_gateway_info(self) -> list[GatewayInfo]:
        """The :class:`~cf_ai_gateway.GatewayInfo` of each request of the last call."""
        return list(self._last_gateway_info)

    def to_payload(self) -> dict[str, Any]:
        """The non-secret description LlamaIndex's instrumentation sends with every call."""
        payload = super().to_payload()
        payload.update(provider=self.provider, gateway_id=self.gateway_id)
        if self.dimensions is not None:
            payload["dimensions"] = self.dimensions
        return payload

    def close(self) -> None:
        """Close the pooled HTTP connections (they reopen on the next call)."""
        if self._gateway is not None:
            self._gateway.close()

    async def aclose(self) -> None:
        """Close the pooled HTTP connections (they reopen on the next call)."""
        if self._gateway is not None:
            await self._gateway.aclose()

    # -- calls ------------------------------------------------------------------------------

    def _call(self) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "dimensions": self.dimensions,
            "batch_size": self.embed_batch_size,
            "max_concurrency": self.max_concurrency,
            "cache": self.cache,
            "encoding_format": self.encoding_format,
        }

    def _done(self, result: EmbeddingResult) -> list[Embedding]:
        self._last_gateway_info = result.infos
        dispatcher.event(
            GatewayInfoEvent(
                model_name=self.model_name, gateway=[info.to_dict() for info in result.infos]
            )
        )
        return result.vectors

    def _embed(self, texts: list[str]) -> list[Embedding]:
        return self._done(self.gateway.embed(texts, **self._call()))

    async def _aembed(self, texts: list[str]) -> list[Embedding]:
        return self._done(await self.gateway.aembed(texts, **self._call()))

    def _get_query_embedding(self, query: str) -> Embedding:
        return self._embed([query])[0]

    async def _aget_query_embedding(self, query: str) -> Embedding:
        return (await self._aembed([query]))[0]

    def _get_text_embedding(self, text: str) -> Embedding:
        return self._embed([text])[0]

    async def _aget_text_embedding(self, text: str) -> Embedding:
        return (await self._aembed([text]))[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return self._embed(texts)

    async def _aget_text_embeddings(self, texts: list[str]) -> list[Embedding]:
        return await self._aembed(texts)


def _check_embedding_settings(
    dimensions: Any, cache: Any, max_concurrency: Any, timeout: Any, max_retries: Any
) -> None:
    wire.check_dimensions(dimensions)
    wire.check_cache(cache)
    if max_concurrency is not None:
        wire.check_max_concurrency(max_concurrency)
    check_timeout(timeout)
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigurationError(f"max_retries must be an integer >= 0; got {max_retries!r}")
