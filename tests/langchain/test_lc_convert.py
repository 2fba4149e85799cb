"""Pure conversion tests: LangChain messages and tools into the core's neutral types.

No network: these check that every content shape LangChain users send (strings, OpenAI blocks,
LangChain standard v0/v1 blocks, Anthropic blocks) and every tool/tool-choice spelling lands in
the neutral request exactly, and that what cannot be sent raises ``ConfigurationError``.
"""

from __future__ import annotations

import json

import pytest
from langchain_core.messages import (
    AIMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel, Field

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.wire.inbound import read_tools, tool_names
from cf_ai_gateway.wire.types import FilePart, FunctionTool, ImagePart, TextPart, ToolCall
from langchain_cf_ai_gateway.messages import convert_content, convert_message, convert_messages
from langchain_cf_ai_gateway.tools import validate_tool_choice

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="


def test_roles_and_names() -> None:
    out = convert_messages(
        [
            SystemMessage("be brief"),
            SystemMessage("dev", additional_kwargs={"__openai_role__": "developer"}),
            HumanMessage("hi", name="ann"),
            AIMessage("hello"),
            ChatMessage(role="user", content="raw"),
        ]
    )
    assert [(m.role, m.content, m.name) for m in out] == [
        ("system", "be brief", None),
        ("developer", "dev", None),
        ("user", "hi", "ann"),
        ("assistant", "hello", None),
        ("user", "raw", None),
    ]


def test_text_only_lists_become_one_string() -> None:
    content = [{"type": "text", "text": "a"}, "b", {"type": "text", "text": "c", "cache_control": {}}]
    assert convert_content(content) == "abc"


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}},
        {"type": "image_url", "image_url": f"data:image/png;base64,{PNG_B64}"},
        {"type": "image", "base64": PNG_B64, "mime_type": "image/png"},
        {"type": "image", "source_type": "base64", "data": PNG_B64, "mime_type": "image/png"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
        {"type": "input_image", "image_url": f"data:image/png;base64,{PNG_B64}"},
    ],
)
def test_base64_images_in_every_spelling(block: dict[str, object]) -> None:
    parts = convert_content([{"type": "text", "text": "what is this?"}, block])
    assert parts == [
        TextPart("what is this?"),
        ImagePart(url=f"data:image/png;base64,{PNG_B64}"),
    ]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "image", "url": "https://example.com/cat.png"},
        {"type": "image", "source_type": "url", "url": "https://example.com/cat.png"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ],
)
def test_image_urls(block: dict[str, object]) -> None:
    assert convert_content([block]) == [ImagePart(url="https://example.com/cat.png")]


def test_image_detail_is_kept() -> None:
    block = {"type": "image_url", "image_url": {"url": "https://x.test/a.png", "detail": "low"}}
    assert convert_content([block]) == [ImagePart(url="https://x.test/a.png", detail="low")]


def test_files() -> None:
    parts = convert_content(
        [
            {"type": "file", "base64": "JVBERi0=", "mime_type": "application/pdf",
             "extras": {"filename": "a.pdf"}},
            {"type": "file", "file": {"filename": "b.pdf", "file_data": "data:application/pdf;base64,JVBERi0="}},
            {"type": "file", "file_id": "file-123"},
            {"type": "input_file", "file_id": "file-456"},
        ]
    )
    assert parts == [
        FilePart(data="data:application/pdf;base64,JVBERi0=", filename="a.pdf"),
        FilePart(data="data:application/pdf;base64,JVBERi0=", filename="b.pdf"),
        FilePart(file_id="file-123"),
        FilePart(file_id="file-456"),
    ]


@pytest.mark.parametrize(
    "block",
    [
        {"type": "audio", "url": "https://example.com/a.wav"},  # OpenAI takes base64 audio only
        {"type": "video", "base64": "AAAA", "mime_type": "video/mp4"},
        {"type": "image", "base64": PNG_B64},  # no mime type
        {"type": "mystery"},
        42,
    ],
)
def test_unsendable_content_raises(block: object) -> None:
    with pytest.raises(ConfigurationError, match=r"messages\[3\]"):
        convert_content([block], 3)


def test_ai_tool_calls_round_trip_with_ids() -> None:
    message = AIMessage(
        "",
        tool_calls=[{"name": "add", "args": {"a": 1, "名": "值"}, "id": "call_1", "type": "tool_call"}],
        invalid_tool_calls=[
            {"name": "broken", "args": "{not json", "id": "call_2", "error": None,
             "type": "invalid_tool_call"}
        ],
        additional_kwargs={"function_call_item_ids": {"call_1": "fc_1"}},
    )
    out = convert_message(message)
    assert out.role == "assistant"
    assert out.content is None
    assert out.tool_calls == [
        ToolCall(id="call_1", name="add", arguments='{"a": 1, "名": "值"}', item_id="fc_1"),
        ToolCall(id="call_2", name="broken", arguments="{not json"),
    ]


def test_anthropic_style_ai_content_keeps_text_and_drops_tool_use() -> None:
    message = AIMessage(
        [
            {"type": "thinking", "thinking": "hmm", "signature": "sig"},
            {"type": "text", "text": "some text"},
            {"type": "tool_use", "id": "abc", "name": "add", "input": {"a": 1}},
        ],
        tool_calls=[{"name": "add", "args": {"a": 1}, "id": "abc", "type": "tool_call"}],
    )
    out = convert_message(message)
    assert out.content == "some text"
    assert [c.id for c in out.tool_calls] == ["abc"]


def test_reasoning_items_are_carried_back() -> None:
    item = {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "xyz"}
    from_kwargs = convert_message(AIMessage("ok", additional_kwargs={"reasoning_items": [item]}))
    assert from_kwargs.reasoning_items == [item]
    # langchain-openai keeps them as content blocks (with a stream index): accepted too
    from_blocks = convert_message(AIMessage([{**item, "index": 0}, {"type": "text", "text": "ok"}]))
    assert from_blocks.reasoning_items == [item]
    assert from_blocks.content == "ok"


def test_openai_raw_tool_calls_in_additional_kwargs() -> None:
    raw = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]
    out = convert_message(AIMessage("", additional_kwargs={"tool_calls": raw}))
    assert out.tool_calls == [ToolCall(id="c1", name="f", arguments="{}")]


def test_tool_messages() -> None:
    text = convert_message(ToolMessage('{"result": 3}', tool_call_id="call_1", status="error"))
    assert (text.role, text.content, text.tool_call_id) == ("tool", '{"result": 3}', "call_1")
    image = convert_message(
        ToolMessage([{"type": "image", "base64": PNG_B64, "mime_type": "image/png"}],
                    tool_call_id="1")
    )
    assert image.content == [ImagePart(url=f"data:image/png;base64,{PNG_B64}")]


def test_unsupported_message_types() -> None:
    with pytest.raises(ConfigurationError, match="FunctionMessage"):
        convert_message(FunctionMessage(name="f", content="x"))
    with pytest.raises(ConfigurationError, match="role 'wizard'"):
        convert_message(ChatMessage(role="wizard", content="x"))


class Add(BaseModel):
    """Add two integers."""

    a: int = Field(description="first")
    b: int


def test_tools_from_every_source() -> None:
    def multiply(x: int, y: int) -> int:
        """Multiply two integers."""
        return x * y

    formatted = [convert_to_openai_tool(t) for t in (Add, multiply)]
    formatted.append({"type": "web_search"})
    tools = read_tools(formatted)
    assert isinstance(tools[0], FunctionTool) and tools[0].name == "Add"
    assert tools[0].parameters["required"] == ["a", "b"]
    assert isinstance(tools[1], FunctionTool) and tools[1].description == "Multiply two integers."
    assert tools[2] == {"type": "web_search"}
    assert tool_names(tools) == ["Add", "multiply"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, None),
        (False, None),
        (True, "required"),
        ("any", "required"),
        ("required", "required"),
        ("auto", "auto"),
        ("none", "none"),
        ("Add", "Add"),
        ({"type": "function", "function": {"name": "Add"}}, "Add"),
        ({"type": "function", "name": "Add"}, "Add"),
        ("web_search", {"type": "web_search"}),
    ],
)
def test_tool_choice_spellings(given: object, expected: object) -> None:
    assert validate_tool_choice(given, [convert_to_openai_tool(Add)]) == expected


def test_unknown_tool_choice_names_the_tools() -> None:
    with pytest.raises(ConfigurationError, match="Add"):
        validate_tool_choice("Subtract", [convert_to_openai_tool(Add)])


def test_arguments_json_is_valid() -> None:
    out = convert_message(
        AIMessage("", tool_calls=[{"name": "f", "args": {"q": "你好"}, "id": "1", "type": "tool_call"}])
    )
    assert json.loads(out.tool_calls[0].arguments) == {"q": "你好"}
