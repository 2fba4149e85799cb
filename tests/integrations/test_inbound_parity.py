"""The same OpenAI-shaped inputs give the same request from both adapters, on both endpoints.

Each row of the table is fed to ``ChatCloudflareAIGateway.invoke`` and to
``CloudflareAIGatewayLLM.chat``; the emulator records what each sent, and the two bodies must be
equal (and hold what the row expects). Rows cover every spelling of ``tools``, ``tool_choice``
(built-in tools included), ``response_format``, ``reasoning``, the token-limit aliases, the HTTP
options, a tool result holding text and an image, and earlier tool calls given the legacy way
(``additional_kwargs["tool_calls"]``), with ``arguments: null`` among them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from llama_index.core.base.llms.types import ImageBlock, TextBlock, ToolCallBlock
from llama_index.core.llms import ChatMessage

from cf_ai_gateway import GatewayError
from cf_ai_gateway.emulator import Emulator
from langchain_cf_ai_gateway import ChatCloudflareAIGateway
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

API_KEY = "sk-parity-test-key-0123456789"
WEATHER_CHAT = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
WEATHER_FLAT = {"type": "function", **WEATHER_CHAT["function"]}  # type: ignore[dict-item]
WEATHER_BARE = dict(WEATHER_CHAT["function"])  # type: ignore[call-overload]
SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
IMAGE_URL = "https://example.com/chart.png"
CALL = {"id": "call_1", "type": "function", "function": {"name": "get_weather"}}


@dataclass
class Row:
    """One input: keyword arguments for both calls, or a conversation built per framework."""

    kwargs: dict[str, Any] = field(default_factory=dict)
    conversation: str | None = None
    expect: Callable[[dict[str, Any], str], Any] | None = None


def _choice(body: dict[str, Any], api: str) -> Any:
    return body.get("tool_choice")


ROWS: dict[str, Row] = {
    "tool_choice built-in dict": Row(
        {"tools": [{"type": "web_search"}], "tool_choice": {"type": "web_search"}},
        expect=lambda b, api: b["tool_choice"] == {"type": "web_search"},
    ),
    "tool_choice built-in by name": Row(
        {"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}], "tool_choice": "file_search"},
        expect=lambda b, api: b["tool_choice"] == {"type": "file_search"},
    ),
    "tool_choice mcp": Row(
        {
            "tools": [{"type": "mcp", "server_label": "wiki", "server_url": "https://mcp.example.com"}],
            "tool_choice": {"type": "mcp", "server_label": "wiki"},
        },
        expect=lambda b, api: b["tool_choice"] == {"type": "mcp", "server_label": "wiki"},
    ),
    "tool_choice True": Row(
        {"tools": [WEATHER_CHAT], "tool_choice": True},
        expect=lambda b, api: b["tool_choice"] == "required",
    ),
    "tool_choice any": Row(
        {"tools": [WEATHER_CHAT], "tool_choice": "any"},
        expect=lambda b, api: b["tool_choice"] == "required",
    ),
    "tool_choice function dict": Row(
        {"tools": [WEATHER_CHAT], "tool_choice": {"type": "function", "function": {"name": "get_weather"}}},
        expect=lambda b, api: "get_weather" in str(b["tool_choice"]),
    ),
    "tool_choice flat function dict": Row(
        {"tools": [WEATHER_CHAT], "tool_choice": {"type": "function", "name": "get_weather"}},
        expect=lambda b, api: "get_weather" in str(b["tool_choice"]),
    ),
    "tool_choice by name": Row(
        {"tools": [WEATHER_CHAT], "tool_choice": "get_weather"},
        expect=lambda b, api: "get_weather" in str(b["tool_choice"]),
    ),
    "tools nested": Row({"tools": [WEATHER_CHAT]}, expect=lambda b, api: len(b["tools"]) == 1),
    "tools flat": Row({"tools": [WEATHER_FLAT]}, expect=lambda b, api: len(b["tools"]) == 1),
    "tools bare function spec": Row({"tools": [WEATHER_BARE]}, expect=lambda b, api: len(b["tools"]) == 1),
    "tools mixed with built-in": Row(
        {"tools": [WEATHER_FLAT, {"type": "web_search"}], "parallel_tool_calls": False},
        expect=lambda b, api: b["tools"][1] == {"type": "web_search"} and b["parallel_tool_calls"] is False,
    ),
    "reasoning string": Row(
        {"reasoning": "high"},
        expect=lambda b, api: (
            b["reasoning_effort"] == "high" if api == "chat" else b["reasoning"] == {"effort": "high"}
        )
        and ("reasoning" not in b if api == "chat" else True),
    ),
    "reasoning dict": Row(
        {"reasoning": {"effort": "low", "summary": "auto"}},
        expect=lambda b, api: (
            b["reasoning_effort"] == "low"
            if api == "chat"
            else b["reasoning"] == {"effort": "low", "summary": "auto"}
        ),
    ),
    "response_format chat json_schema": Row(
        {"response_format": {"type": "json_schema", "json_schema": {"name": "A", "schema": SCHEMA, "strict": True}}},
        expect=lambda b, api: "A" in str(b.get("response_format") or b.get("text")),
    ),
    "response_format responses text.format": Row(
        {"response_format": {"type": "json_schema", "name": "A", "schema": SCHEMA, "strict": True}},
        expect=lambda b, api: "A" in str(b.get("response_format") or b.get("text")),
    ),
    "response_format json_object": Row(
        {"response_format": {"type": "json_object"}},
        expect=lambda b, api: "json_object" in str(b.get("response_format") or b.get("text")),
    ),
    "response_format text": Row(
        {"response_format": {"type": "text"}},
        expect=lambda b, api: "text" in str(b.get("response_format") or b.get("text")),
    ),
    "max_tokens": Row({"max_tokens": 7}, expect=lambda b, api: 7 in b.values()),
    "max_completion_tokens": Row({"max_completion_tokens": 7}, expect=lambda b, api: 7 in b.values()),
    "max_output_tokens": Row({"max_output_tokens": 7}, expect=lambda b, api: 7 in b.values()),
    "stop string": Row({"stop": "END"}, expect=lambda b, api: api == "responses" or b["stop"] == ["END"]),
    "extra_body and unknown fields": Row(
        {"extra_body": {"metadata": {"k": "v"}, "temperature": 0.5}, "service_tier": "flex", "temperature": 0.1},
        expect=lambda b, api: b["metadata"] == {"k": "v"} and b["temperature"] == 0.5
        and b["service_tier"] == "flex",
    ),
    "http options": Row(
        {"extra_headers": {"x-trace": "t-1"}, "timeout": 30, "gateway_options": {"cache_ttl": 60}},
        expect=lambda b, api: "timeout" not in b and "extra_headers" not in b,
    ),
    "tool result with text and image": Row(
        conversation="tool_result_image",
        expect=lambda b, api: IMAGE_URL in str(b),
    ),
    "legacy tool call, arguments null": Row(
        conversation="legacy_null",
        expect=lambda b, api: '"{}"' in _json(b),
    ),
    "legacy tool call, arguments dict": Row(conversation="legacy_dict"),
    "legacy tool call, arguments text": Row(conversation="legacy_text"),
}


def _json(body: dict[str, Any]) -> str:
    import json

    return json.dumps(body)


def _legacy_call(arguments: Any) -> dict[str, Any]:
    return {**CALL, "function": {**CALL["function"], "arguments": arguments}}  # type: ignore[dict-item]


LEGACY_ARGUMENTS = {"legacy_null": None, "legacy_dict": {"city": "Paris"}, "legacy_text": '{"city": "Paris"}'}


def langchain_messages(conversation: str | None) -> list[BaseMessage]:
    question = HumanMessage("What is the weather in Paris?")
    if conversation is None:
        return [question]
    if conversation == "tool_result_image":
        return [
            question,
            AIMessage("", tool_calls=[{"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}]),
            ToolMessage(
                [{"type": "text", "text": "sunny, see chart"}, {"type": "image_url", "image_url": {"url": IMAGE_URL}}],
                tool_call_id="call_1",
            ),
        ]
    call = _legacy_call(LEGACY_ARGUMENTS[conversation])
    return [
        question,
        AIMessage("", additional_kwargs={"tool_calls": [call]}),
        ToolMessage("sunny", tool_call_id="call_1"),
    ]


def llama_messages(conversation: str | None) -> list[ChatMessage]:
    question = ChatMessage(role="user", content="What is the weather in Paris?")
    if conversation is None:
        return [question]
    if conversation == "tool_result_image":
        return [
            question,
            ChatMessage(
                role="assistant",
                blocks=[ToolCallBlock(tool_call_id="call_1", tool_name="get_weather", tool_kwargs={"city": "Paris"})],
            ),
            ChatMessage(
                role="tool",
                blocks=[TextBlock(text="sunny, see chart"), ImageBlock(url=IMAGE_URL)],
                additional_kwargs={"tool_call_id": "call_1"},
            ),
        ]
    call = _legacy_call(LEGACY_ARGUMENTS[conversation])
    return [
        question,
        ChatMessage(role="assistant", content="", additional_kwargs={"tool_calls": [call]}),
        ChatMessage(role="tool", content="sunny", additional_kwargs={"tool_call_id": "call_1"}),
    ]


def _sent(emulator: Emulator, call: Callable[[], Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and headers of the one model request ``call`` makes (a refusal is fine)."""
    before = len(emulator.requests)
    # The emulator may refuse what the endpoint refuses; the request is what counts.
    with contextlib.suppress(GatewayError):
        call()
    sent = [r for r in emulator.requests[before:] if r.path.endswith(("/chat/completions", "/responses"))]
    assert len(sent) == 1
    return sent[0].json, sent[0].headers


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("name", list(ROWS))
def test_both_adapters_send_the_same_request(name: str, api: str, emulator: Emulator) -> None:
    row = ROWS[name]
    settings = {"model": "gpt-4o-mini", "api": api, "account_id": emulator.account_id,
                "base_url": emulator.base_url, "api_key": API_KEY, "max_retries": 0}
    langchain = ChatCloudflareAIGateway(**settings)
    llama = CloudflareAIGatewayLLM(**settings)
    lc_body, lc_headers = _sent(
        emulator, lambda: langchain.invoke(langchain_messages(row.conversation), **dict(row.kwargs))
    )
    li_body, li_headers = _sent(emulator, lambda: llama.chat(llama_messages(row.conversation), **dict(row.kwargs)))
    assert lc_body == li_body
    for header in ("x-trace", "cf-aig-cache-ttl"):
        assert lc_headers.get(header) == li_headers.get(header)
    if row.expect is not None:
        assert row.expect(lc_body, api), lc_body
    if "extra_headers" in row.kwargs:
        assert lc_headers["x-trace"] == "t-1" and lc_headers["cf-aig-cache-ttl"] == "60"
