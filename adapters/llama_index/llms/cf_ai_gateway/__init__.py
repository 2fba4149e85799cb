"""LlamaIndex integration for Cloudflare AI Gateway: ``CloudflareAIGatewayLLM``.

``from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM`` gives a LlamaIndex
``FunctionCallingLLM`` that routes every call through Cloudflare AI Gateway with the
``cf-ai-gateway`` core client; ``collect_gateway_info()`` gathers the gateway log ids of the
LLM calls an agent run or a query makes. The names are loaded on first access, so importing this package
alone stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import CloudflareAIGatewayLLM
    from .events import GatewayInfoCollector, collect_gateway_info

__all__ = ["CloudflareAIGatewayLLM", "GatewayInfoCollector", "collect_gateway_info"]
_HOMES = {
    "CloudflareAIGatewayLLM": ".base",
    "GatewayInfoCollector": ".events",
    "collect_gateway_info": ".events",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(home, __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
