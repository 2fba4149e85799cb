"""Standard ``content_blocks`` of the adapter's messages, fetched from the emulator.

LangChain derives standard blocks from the message itself: text from the string content,
``tool_call`` blocks from the parsed tool calls and a leading ``reasoning`` block from
``additional_kwargs["reasoning_content"]``. The messages carry no ``model_provider`` in their
``response_metadata`` on purpose: langchain-core's ``"openai"`` translator reads string content
as Chat Completions output and would drop the reasoning block.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from pydantic import BaseModel

from langchain_cf_ai_gateway import ChatCloudflareAIGateway

APIS = pytest.mark.parametrize("api", ["chat", "responses"])


class GetWeather(BaseModel):
    """Get the weather for a city."""

    city: str


@pytest.fixture(autouse=True)
def _emulator(_clean_env: None, emulator: Any) -> Any:
    return emulator


def make(emulator: Any, **kwargs: Any) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(
        account_id=emulator.account_id, base_url=emulator.base_url, api_key="sk-blocks", **kwargs
    )


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


def replies(model: Any, prompt: str) -> list[AIMessage]:
    """The invoked reply and the merged streamed reply."""
    return [model.invoke(prompt), merged(list(model.stream(prompt)))]


@APIS
def test_text_and_tool_calls(emulator: Any, api: str) -> None:
    model = make(emulator, model="gpt-4o-mini", api=api)
    for message in replies(model, "hi"):
        assert "model_provider" not in message.response_metadata
        assert message.content_blocks == [{"type": "text", "text": message.text}]
    tools = model.bind_tools([GetWeather], tool_choice="GetWeather")
    for message in replies(tools, "weather in Paris?"):
        blocks = message.content_blocks
        assert [b["type"] for b in blocks] == ["tool_call"]
        call = message.tool_calls[0]
        assert (blocks[0]["name"], blocks[0]["args"], blocks[0]["id"]) == (
            "GetWeather", {"city": "Paris"}, call["id"]
        )


def test_reasoning_leads_the_blocks(emulator: Any) -> None:
    model = make(
        emulator, model="o4-mini", api="responses", reasoning={"effort": "low", "summary": "auto"}
    )
    for message in replies(model, "hi"):
        blocks = message.content_blocks
        assert [b["type"] for b in blocks] == ["reasoning", "text"]
        assert blocks[0]["reasoning"] == message.additional_kwargs["reasoning_content"]
        assert blocks[0]["reasoning"]
        assert blocks[1]["text"] == message.text
    tools = model.bind_tools([GetWeather], tool_choice="GetWeather")
    for message in replies(tools, "weather in Paris?"):
        assert [b["type"] for b in message.content_blocks] == ["reasoning", "tool_call"]
