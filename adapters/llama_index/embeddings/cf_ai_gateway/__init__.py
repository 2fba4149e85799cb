"""LlamaIndex embeddings through Cloudflare AI Gateway: ``CloudflareAIGatewayEmbedding``.

``from llama_index.embeddings.cf_ai_gateway import CloudflareAIGatewayEmbedding`` gives a
LlamaIndex ``BaseEmbedding`` that routes every call through Cloudflare AI Gateway with the
``cf-ai-gateway`` core client; ``GatewayInfoEvent`` is the instrumentation event that carries
each call's gateway response headers. Classes load on first access, so importing this package
alone stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import CloudflareAIGatewayEmbedding, GatewayInfoEvent

__all__ = ["CloudflareAIGatewayEmbedding", "GatewayInfoEvent"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
