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


class _IntegrationBase(ChatModelIntegrationTests):
    api = "chat"

    @pytest.fixture(autouse=True)
    def _point_at_emulator(
        self, _clean_env: None, emulator: Any, local_fixture_downloads: None
    ) -> None:
        """Environment (account, base URL, key) pointing at the session's emulator."""

    @property
    def chat_model_class(self) -> type[ChatCloudflareAIGateway]:
        return ChatCloudflareAIGateway

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "gpt-4o-mini", "api": self.api}

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_pdf_inputs(self) -> bool:
        return True

    @property
    def supports_audio_inputs(self) -> bool:
        # Audio input is a chat/completions part; the Responses API has none.
        return self.api == "chat"

    @property
    def supports_image_tool_message(self) -> bool:
        return True

    @property
    def supports_anthropic_inputs(self) -> bool:
        return True

    @property
    def supports_pdf_tool_message(self) -> bool:
        return self.api == "responses"

    @property
    def returns_usage_metadata(self) -> bool:
        return True

    @property
    def supports_model_override(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "gpt-4.1-mini"

    @property
    def supported_usage_metadata_details(self) -> dict[str, list[Any]]:
        details: list[Any] = ["cache_read_input", "reasoning_output"]
        return {"invoke": details, "stream": details}

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
