"""LangChain integration for Cloudflare AI Gateway: :class:`ChatCloudflareAIGateway` and
:class:`CloudflareAIGatewayEmbeddings`.

A ``BaseChatModel`` that sends every call through the ``cf_ai_gateway`` core client, with
both OpenAI-wire endpoints, tools, structured output, usage, gateway metadata and per-call
gateway options, and an ``Embeddings`` with batching, content-addressed caching and per-batch
gateway info. Install it with ``pip install 'cf-ai-gateway[langchain]'``.
"""

from __future__ import annotations

from langchain_cf_ai_gateway.chat_models import ChatCloudflareAIGateway
from langchain_cf_ai_gateway.embeddings import CloudflareAIGatewayEmbeddings

__all__ = ["ChatCloudflareAIGateway", "CloudflareAIGatewayEmbeddings"]
