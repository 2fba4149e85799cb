"""langchain-tests' standard integration suite, for both endpoints, against the emulator.

The emulator is a real local AI Gateway (``cf_ai_gateway.emulator``) on 127.0.0.1 with a
deterministic model, so every request below crosses a real socket, the gateway's auth and
routing, and the endpoint's real wire format.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_cf_ai_gateway import ChatCloudflareAIGateway

from .standard_features import ModelFeatures


class _IntegrationBase(ModelFeatures, ChatModelIntegrationTests):
    api = "chat"

    @pytest.fixture(autouse=True)
    def _point_at_emulator(
        self, _clean_env: None, emulator: Any, local_fixture_downloads: None
    ) -> None:
        """Environment (account, base URL, key) pointing at the session's emulator."""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "gpt-4o-mini", "api": self.api}

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> Any:
        # The second identical prompt is a prompt-cache read on the emulated provider.
        model = ChatCloudflareAIGateway(**self.chat_model_params)
        _invoke(model, "Hello, what is in the prompt cache?", stream)
        message = _invoke(model, "Hello, what is in the prompt cache?", stream)
        assert message.usage_metadata["input_token_details"]["cache_read"] > 0
        return message

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> Any:
        model = ChatCloudflareAIGateway(
            **{**self.chat_model_params, "model": "o4-mini", "reasoning_effort": "low"}
        )
        return _invoke(model, "Think step by step: what is 3 + 4?", stream)


def _invoke(model: ChatCloudflareAIGateway, prompt: str, stream: bool) -> Any:
    if not stream:
        return model.invoke(prompt)
    full = None
    for chunk in model.stream(prompt):
        full = chunk if full is None else full + chunk
    return full


class TestChatCompletionsIntegration(_IntegrationBase):
    api = "chat"


class TestResponsesIntegration(_IntegrationBase):
    api = "responses"
