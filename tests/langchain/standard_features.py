"""The feature flags both of langchain-tests' standard suites read, declared once for the model.

They say truthfully what ``ChatCloudflareAIGateway`` supports on each endpoint (``self.api``).
"""

from __future__ import annotations

from typing import Any

from langchain_cf_ai_gateway import ChatCloudflareAIGateway


class ModelFeatures:
    """Mixed in before the standard test class; subclasses set ``api``."""

    api = "chat"

    @property
    def chat_model_class(self) -> type[ChatCloudflareAIGateway]:
        return ChatCloudflareAIGateway

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
        # Chat-completions tool messages carry text only.
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
