"""``CloudflareAIGatewayEmbeddings``: a LangChain ``Embeddings`` that calls Cloudflare AI Gateway.

Every call goes through :meth:`cf_ai_gateway.Gateway.embed`, so texts are sent as raw strings
(never token ids, which non-OpenAI models reject), split into provider-sized batches sent
concurrently, and reassembled in order. Connection fields and their environment defaults are
those of ``ChatCloudflareAIGateway`` (:class:`~langchain_cf_ai_gateway.connection.GatewayConnection`).
``cache="content"`` makes re-embedding unchanged texts a gateway cache hit. The
:class:`~cf_ai_gateway.GatewayInfo` of each batch of the last call is in ``last_gateway_info``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from langchain_core.embeddings import Embeddings
from pydantic import ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.info import GatewayInfo
from cf_ai_gateway.wire import embeddings as wire

from .connection import GatewayConnection
from .request import options_dict
from .settings import validation_message

__all__ = ["CloudflareAIGatewayEmbeddings"]

_CLASS_NAME = "CloudflareAIGatewayEmbeddings"


class CloudflareAIGatewayEmbeddings(GatewayConnection, Embeddings):
    """Embedding model routed through Cloudflare AI Gateway (OpenAI-wire providers).

    Setup: ``pip install 'cf-ai-gateway[langchain]'`` and set ``CF_ACCOUNT_ID`` plus
    ``OPENAI_API_KEY`` (the provider key) and/or ``CF_AIG_TOKEN`` (the gateway token).

    Example:
        ```python
        from langchain_cf_ai_gateway import CloudflareAIGatewayEmbeddings

        embeddings = CloudflareAIGatewayEmbeddings(cache="content")
        vectors = embeddings.embed_documents(["first chunk", "second chunk"])
        [info.cache_status for info in embeddings.last_gateway_info]  # "MISS", then "HIT"
        ```

    ``embed_documents`` / ``embed_query`` (and their async forms) also take
    ``gateway_options=...`` for one call. Bad input (an empty list, an empty or non-string
    text, bad ``dimensions`` or ``batch_size``) raises ``ConfigurationError`` before sending.
    """

    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, extra="forbid")

    model: str = Field(default="text-embedding-3-small", alias="model_name")
    """Embedding model name as the provider knows it (``@cf/…`` on Workers AI)."""
    dimensions: int | None = None
    """Vector length for models that can shorten it (``text-embedding-3-*``)."""
    batch_size: int | None = Field(default=None, alias="chunk_size")
    """Texts per request; None: the provider's largest batch (2048 OpenAI, 100 Workers AI)."""
    max_concurrency: int | None = None
    """Batches in flight at once (None: 4)."""
    cache: Literal["content"] | None = None
    """``"content"``: send each batch with a cache key hashed from its model, dimensions and
    texts and a one-month TTL, so unchanged texts are a gateway cache hit."""

    encoding_format: Literal["float", "base64"] = "float"
    """``"float"`` works with every provider; ``"base64"`` (OpenAI) gives smaller, faster replies."""

    _last_gateway_info: list[GatewayInfo] = PrivateAttr(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _prepare_values(cls, values: Any) -> Any:
        if isinstance(values, dict):
            cls._provider_key_default(values)
        return values

    def __init__(self, **kwargs: Any) -> None:
        if "gateway_options" in kwargs:
            kwargs["gateway_options"] = options_dict(kwargs["gateway_options"])
        _check_arguments(kwargs)
        try:
            super().__init__(**kwargs)
        except ValidationError as exc:
            # Pydantic's message echoes the value given, which may be a secret.
            message = validation_message(exc, kwargs.get("provider") or "openai", _CLASS_NAME)
            raise ConfigurationError(message) from None
        self._check_settings()

    def _check_settings(self) -> None:
        wire.check_model(self.model)
        limit = wire.batch_limit(self.provider, self.model)
        wire.check_batch_size(self.batch_size, limit)
        self._check_connection()

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> CloudflareAIGatewayEmbeddings:
        """A copy; with ``update``, its settings are checked again and it gets its own client."""
        if update:
            update = dict(update)
            if "gateway_options" in update:
                update["gateway_options"] = options_dict(update["gateway_options"])
            _check_arguments(update)
        copied = super().model_copy(update=update, deep=deep)
        copied._last_gateway_info = []
        if update:
            copied._check_settings()
        return copied

    @property
    def model_name(self) -> str:
        """The model name (``model``), under the name OpenAIEmbeddings users know."""
        return self.model

    @property
    def last_gateway_info(self) -> list[GatewayInfo]:
        """The :class:`~cf_ai_gateway.GatewayInfo` of each batch of the last call, in order."""
        return list(self._last_gateway_info)

    # -- calls ---------------------------------------------------------------------------------
    def _call(self, gateway_options: Any) -> dict[str, Any]:
        return {
            "model": self.model,
            "dimensions": self.dimensions,
            "batch_size": self.batch_size,
            "max_concurrency": self.max_concurrency,
            "cache": self.cache,
            "encoding_format": self.encoding_format,
            "options": gateway_options,
        }

    def embed_documents(
        self, texts: list[str], *, gateway_options: Any = None
    ) -> list[list[float]]:
        """One vector per text, in order."""
        result = self.gateway.embed(texts, **self._call(gateway_options))
        self._last_gateway_info = result.infos
        return result.vectors

    def embed_query(self, text: str, *, gateway_options: Any = None) -> list[float]:
        """The vector of one query text."""
        return self.embed_documents([_one_text(text)], gateway_options=gateway_options)[0]

    async def aembed_documents(
        self, texts: list[str], *, gateway_options: Any = None
    ) -> list[list[float]]:
        """Async twin of :meth:`embed_documents`."""
        result = await self.gateway.aembed(texts, **self._call(gateway_options))
        self._last_gateway_info = result.infos
        return result.vectors

    async def aembed_query(self, text: str, *, gateway_options: Any = None) -> list[float]:
        """Async twin of :meth:`embed_query`."""
        vectors = await self.aembed_documents([_one_text(text)], gateway_options=gateway_options)
        return vectors[0]


def _one_text(text: Any) -> str:
    if not isinstance(text, str):
        raise ConfigurationError(f"text must be a string, not {type(text).__name__}")
    return text


def _check_arguments(values: Mapping[str, Any]) -> None:
    """Check the embedding arguments that pydantic would report badly, naming each one."""
    if "dimensions" in values:
        wire.check_dimensions(values["dimensions"])
    if "max_concurrency" in values and values["max_concurrency"] is not None:
        wire.check_max_concurrency(values["max_concurrency"])
    if "cache" in values:
        wire.check_cache(values["cache"])
    if "encoding_format" in values:
        wire.check_encoding(values["encoding_format"])
    for name in ("model", "model_name"):
        if name in values:
            wire.check_model(values[name])
    for name in ("batch_size", "chunk_size"):
        value = values.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigurationError(f"batch_size must be a positive integer; got {value!r}")
