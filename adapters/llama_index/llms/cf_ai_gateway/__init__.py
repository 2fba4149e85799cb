"""LlamaIndex integration for Cloudflare AI Gateway: ``CloudflareAIGatewayLLM``.

``from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM`` gives a LlamaIndex
``FunctionCallingLLM`` that routes every call through Cloudflare AI Gateway with the
``cf-ai-gateway`` core client. The class is loaded on first access, so importing this package
alone stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import CloudflareAIGatewayLLM

__all__ = ["CloudflareAIGatewayLLM"]


def __getattr__(name: str) -> Any:
    if name == "CloudflareAIGatewayLLM":
        from .base import CloudflareAIGatewayLLM

        return CloudflareAIGatewayLLM
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "CloudflareAIGatewayLLM"])
