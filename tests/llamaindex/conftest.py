"""Fixtures for the LlamaIndex adapter tests: an LLM on each endpoint, pointed at the emulator.

``llm`` is parametrised over ``api="chat"`` and ``api="responses"``, so every test that uses it
runs once per endpoint against the shared session emulator (reset before each test, see
``tests/conftest.py``). ``make_llm`` builds more LLMs against the same emulator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

if TYPE_CHECKING:
    from cf_ai_gateway.emulator import Emulator

API_KEY = "sk-llamaindex-test-key-0123456789"
GATEWAY_TOKEN = "cfaig-llamaindex-test-token-abcdef"
MODEL = "gpt-4o-mini"


@pytest.fixture(params=["chat", "responses"])
def api(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
def make_llm(emulator: Emulator) -> Callable[..., CloudflareAIGatewayLLM]:
    def make(**kwargs: Any) -> CloudflareAIGatewayLLM:
        settings: dict[str, Any] = {
            "model": MODEL,
            "account_id": emulator.account_id,
            "base_url": emulator.base_url,
            "api_key": API_KEY,
        }
        settings.update(kwargs)
        return CloudflareAIGatewayLLM(**settings)

    return make


@pytest.fixture
def llm(make_llm: Callable[..., CloudflareAIGatewayLLM], api: str) -> CloudflareAIGatewayLLM:
    return make_llm(api=api)


def model_requests(emulator: Emulator) -> list[Any]:
    """The emulator's recorded requests to the model endpoints."""
    return [
        r
        for r in emulator.requests
        if r.path.endswith("/chat/completions") or r.path.endswith("/responses")
    ]
