"""``CloudflareAIGatewayEmbedding``: a LlamaIndex ``BaseEmbedding`` routed through Cloudflare AI Gateway.

Every call goes through :meth:`cf_ai_gateway.Gateway.embed`: texts are sent as raw strings with
any model name the gateway routes (``@cf/…`` on Workers AI, ``{provider}/{model}`` on compat),
each LlamaIndex batch is one request of up to the provider's largest batch, and
``cache="content"`` makes re-embedding unchanged text a gateway cache hit. After each request
a :class:`GatewayInfoEvent` carrying the batch's ``cf-aig-*`` response headers goes to
LlamaIndex's instrumentation dispatcher; ``last_gateway_info`` holds the last call's.
Connection fields, their environment defaults and their checks are the LLM adapter's
(:class:`~llama_index.llms.cf_ai_gateway.connection.GatewayConnectionFields`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llama_index.core.base.embeddings.base import BaseEmbedding, Embedding
from llama_index.core.bridge.pydantic import Field, PrivateAttr, SecretStr
from llama_index.core.callbacks import CallbackManager
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events import BaseEvent

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.checks import check_max_retries
from cf_ai_gateway.wire import embeddings as wire
from llama_index.llms.cf_ai_gateway.connection import GatewayConnectionFields
from llama_index.llms.cf_ai_gateway.settings import check_timeout, coerce_update

if TYPE_CHECKING:
    from collections.abc import Mapping

    from cf_ai_gateway import EmbeddingResult, GatewayInfo

__all__ = ["CloudflareAIGatewayEmbedding", "GatewayInfoEvent"]

DEFAULT_MODEL = "text-embedding-3-small"
_CLASS_NAME = "CloudflareAIGatewayEmbedding"
# Embedding settings checked when set; setting one drops the client, as a connection field does.
_CHECKED_FIELDS = frozenset({"model_name", "dimensions", "cache", "max_concurrency"})

dispatcher = get_dispatcher(__name__)


class GatewayInfoEvent(BaseEvent):
    """The gateway's response headers for one embeddings call (one entry per request)."""

    model_name: str
    gateway: list[dict[str, Any]]

    @classmethod
    def class_name(cls) -> str:
        return "GatewayInfoEvent"


class CloudflareAIGatewayEmbedding(GatewayConnectionFields, BaseEmbedding):
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

    # Declared again only for its description: the LLM's names Groq, which serves no embeddings.
    provider: str = Field(default="openai", description="Provider slug, e.g. 'openai'.")
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
        model = wire.check_model(kwargs.pop("model_name", model))
        self._check_arguments(base_url, kwargs)
        _check_embedding_settings(dimensions, cache, max_concurrency, timeout, max_retries)
        wire.check_encoding(encoding_format)
        if batch_size is not None and embed_batch_size not in (None, batch_size):
            raise ConfigurationError("pass batch_size or embed_batch_size, not both")
        requested = embed_batch_size if embed_batch_size is not None else batch_size
        gateway, connection = self._connect(
            {
                "account_id": account_id,
                "gateway_id": gateway_id,
                "provider": provider,
                "api_key": api_key,
                "cf_aig_token": cf_aig_token,
                "auth_mode": auth_mode,
                "base_url": base_url,
                "gateway_options": gateway_options,
                "timeout": timeout,
                "max_retries": max_retries,
                **kwargs,
            }
        )
        batch = wire.check_batch_size(requested, wire.batch_limit(connection["provider"], model))
        values: dict[str, Any] = {
            "model_name": model,
            "embed_batch_size": batch,
            "dimensions": dimensions,
            "cache": cache,
            "max_concurrency": max_concurrency,
            "encoding_format": encoding_format,
            **connection,
        }
        if callback_manager is not None:
            values["callback_manager"] = callback_manager
        super().__init__(**values)
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
        if name in _CHECKED_FIELDS:
            self._gateway = None

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
    check_max_retries(max_retries)
