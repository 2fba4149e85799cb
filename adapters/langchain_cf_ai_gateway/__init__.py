"""LangChain integration for Cloudflare AI Gateway: :class:`ChatCloudflareAIGateway`.

A ``BaseChatModel`` that sends every call through the ``cf_ai_gateway`` core client, with
both OpenAI-wire endpoints, tools, structured output, usage, gateway metadata and per-call
gateway options. Install it with ``pip install 'cf-ai-gateway[langchain]'``.
"""

from __future__ import annotations

from langchain_cf_ai_gateway.chat_models import ChatCloudflareAIGateway

__all__ = ["ChatCloudflareAIGateway"]
