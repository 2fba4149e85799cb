"""LangChain integration for Cloudflare AI Gateway: :class:`ChatCloudflareAIGateway` and
:class:`CloudflareAIGatewayEmbeddings`.

A ``BaseChatModel`` that sends every call through the ``cf_ai_gateway`` core client, with
both OpenAI-wire endpoints, tools, structured output, usage, gateway metadata and per-call
gateway options, and an ``Embeddings`` with batching, content-addressed caching and per-batch
gateway info. Install it with ``pip install 'cf-ai-gateway[langchain]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_cf_ai_gateway.chat_models import ChatCloudflareAIGateway

if TYPE_CHECKING:
    from langchain_cf_ai_gateway.embeddings import CloudflareAIGatewayEmbeddings

__all__ = ["ChatCloudflareAIGateway", "CloudflareAIGatewayEmbeddings"]


def __getattr__(name: str) -> Any:
    # The embeddings class loads on first access: importing the chat model does not pay for it.
    if name == "CloudflareAIGatewayEmbeddings":
        from langchain_cf_ai_gateway.embeddings import CloudflareAIGatewayEmbeddings

        return CloudflareAIGatewayEmbeddings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
