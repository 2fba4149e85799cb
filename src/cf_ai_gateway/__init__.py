"""cf-ai-gateway: route LLM calls through Cloudflare AI Gateway with every gateway feature.

The core is a small httpx-based client, :class:`Gateway`, that builds gateway URLs, applies one
of the three auth modes, sends checked :class:`GatewayOptions` as ``cf-aig-*`` headers, calls
the ``chat/completions`` and ``responses`` endpoints (sync and async, streaming or not), retries,
exposes the gateway's response headers as :class:`GatewayInfo`, and raises typed errors that
tell gateway errors from provider errors. The LangChain and LlamaIndex adapters build on it.
"""

from __future__ import annotations

from .client import Gateway, RawResponse
from .config import GatewayConfig, Secret
from .discovery import available_adapters, load_adapter
from .errors import (
    ConfigurationError,
    GatewayAuthenticationError,
    GatewayBadRequestError,
    GatewayConnectionError,
    GatewayContentBlockedError,
    GatewayError,
    GatewayNotFoundError,
    GatewayPaymentRequiredError,
    GatewayRateLimitError,
    GatewayTimeoutError,
    LogNotFoundError,
    LogsUnavailableError,
    MalformedResponseError,
    MissingCredentialsError,
    PolicyDeniedError,
    ProviderError,
    SpendLimitError,
    StreamError,
)
from .info import Attempt, GatewayInfo
from .logs_query import GatewayLog, LogFilter, LogPage
from .options import GatewayOptions
from .streams import AsyncChatStream, AsyncRawStream, ChatStream, RawStream
from .wire.embeddings import EmbeddingResult

__version__ = "0.1.0"

__all__ = [
    "AsyncChatStream",
    "AsyncRawStream",
    "Attempt",
    "ChatStream",
    "ConfigurationError",
    "EmbeddingResult",
    "Gateway",
    "GatewayAuthenticationError",
    "GatewayBadRequestError",
    "GatewayConfig",
    "GatewayConnectionError",
    "GatewayContentBlockedError",
    "GatewayError",
    "GatewayInfo",
    "GatewayLog",
    "GatewayNotFoundError",
    "GatewayOptions",
    "GatewayPaymentRequiredError",
    "GatewayRateLimitError",
    "GatewayTimeoutError",
    "LogFilter",
    "LogNotFoundError",
    "LogPage",
    "LogsUnavailableError",
    "MalformedResponseError",
    "MissingCredentialsError",
    "PolicyDeniedError",
    "ProviderError",
    "RawResponse",
    "RawStream",
    "Secret",
    "SpendLimitError",
    "StreamError",
    "__version__",
    "available_adapters",
    "load_adapter",
]
