"""cf-ai-gateway: route LLM calls through Cloudflare AI Gateway with every gateway feature.

The core is a small httpx-based client, :class:`Gateway`, that builds gateway URLs, applies one
of the three auth modes, sends checked :class:`GatewayOptions` as ``cf-aig-*`` headers, calls
the ``chat/completions`` and ``responses`` endpoints (sync and async, streaming or not), retries,
exposes the gateway's response headers as :class:`GatewayInfo`, and raises typed errors that
tell gateway errors from provider errors. The LangChain and LlamaIndex adapters build on it.
``Gateway`` (and with it httpx) and the names a plain call does not need (streams, logs,
embeddings results, adapter discovery) load on first access, so ``import cf_ai_gateway`` loads
settings, options and errors only; every name in ``__all__`` imports as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import GatewayConfig, Secret
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
from .lazy import lazy_attributes
from .options import GatewayOptions

if TYPE_CHECKING:
    from .client import Gateway, RawResponse
    from .discovery import available_adapters, load_adapter
    from .info import Attempt, GatewayInfo
    from .logs_query import GatewayLog, LogFilter, LogPage
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

# Public name -> the module (relative to this package) that defines it, imported on first access.
_LAZY = {
    "Gateway": ".client",
    "RawResponse": ".client",
    "AsyncChatStream": ".streams",
    "AsyncRawStream": ".streams",
    "ChatStream": ".streams",
    "RawStream": ".streams",
    "Attempt": ".info",
    "GatewayInfo": ".info",
    "GatewayLog": ".logs_query",
    "LogFilter": ".logs_query",
    "LogPage": ".logs_query",
    "EmbeddingResult": ".wire.embeddings",
    "available_adapters": ".discovery",
    "load_adapter": ".discovery",
}


__getattr__ = lazy_attributes(globals(), _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
