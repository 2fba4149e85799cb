"""The inbound readers of ``wire``: OpenAI-shaped inputs to neutral request fields.

Each reader accepts every spelling users bring from the OpenAI SDK and frameworks, and refuses
anything else with a ``ConfigurationError`` naming the argument (never a TypeError or KeyError,
whatever the input: checked with hypothesis). The ``RequestBuilder`` sorts per-call keyword
arguments once, for both adapters; a request it builds goes over a real socket unchanged.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.wire import chat, responses
from cf_ai_gateway.wire.inbound import (
    read_reasoning,
    read_response_format,
    read_tool_calls,
    read_tool_choice,
    read_tools,
)
from cf_ai_gateway.wire.inbound_kwargs import RequestBuilder
from cf_ai_gateway.wire.types import (
    BuiltInToolChoice,
    FunctionTool,
    Message,
    ResponseFormat,
    ToolCall,
)

from .testserver import Reply, TestServer

FUNCTION = {"name": "f", "description": "d", "parameters": {"type": "object"}, "strict": True}
NEUTRAL_F = FunctionTool(name="f", description="d", parameters={"type": "object"}, strict=True)
SCHEMA = {"type": "object", "properties": {}}


@pytest.mark.parametrize(
    "tool",
    [{"type": "function", "function": FUNCTION}, {"type": "function", **FUNCTION}, FUNCTION, NEUTRAL_F],
    ids=["chat", "responses", "bare", "neutral"],
)
def test_function_tool_shapes_read_the_same(tool: Any) -> None:
    assert read_tools([tool]) == [NEUTRAL_F]


def test_built_in_tools_pass_through_as_copies() -> None:
    tool = {"type": "file_search", "vector_store_ids": ["vs_1"]}
    (read,) = read_tools([tool])
    assert read == tool and read is not tool


@pytest.mark.parametrize(
    ("tools", "named"),
    [
        ("f", "tools"),
        ([42], r"tools\[0\]"),
        ([{"type": "function", "function": {"parameters": {}}}], "name"),
        ([{"type": "function", "function": {"name": "f", "parameters": "x"}}], "parameters"),
        ([{"type": "function", "function": {"name": "f", "strict": "yes"}}], "strict"),
        ([{"parameters": {}}], "type"),
    ],
)
def test_bad_tools_name_the_argument(tools: Any, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        read_tools(tools)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (None, None),
        (False, None),
        (True, "required"),
        ("any", "required"),
        ("required", "required"),
        ("auto", "auto"),
        ("none", "none"),
        ({"type": "auto"}, "auto"),
        ("f", "f"),
        ({"type": "function", "function": {"name": "f"}}, "f"),
        ({"type": "function", "name": "f"}, "f"),
        ("web_search", BuiltInToolChoice("web_search")),
        ({"type": "web_search"}, BuiltInToolChoice("web_search")),
        ({"type": "mcp", "server_label": "s"}, BuiltInToolChoice("mcp", {"server_label": "s"})),
        (
            {"type": "allowed_tools", "mode": "auto", "tools": []},
            BuiltInToolChoice("allowed_tools", {"mode": "auto", "tools": []}),
        ),
    ],
)
def test_tool_choice_spellings(choice: Any, expected: Any) -> None:
    assert read_tool_choice(choice, [NEUTRAL_F, {"type": "web_search"}]) == expected


def test_tool_choice_checks_names_against_the_tools() -> None:
    with pytest.raises(ConfigurationError, match=r"'g'.*f"):
        read_tool_choice("g", [NEUTRAL_F])
    assert read_tool_choice("g") == "g"  # without tools nothing to check against
    with pytest.raises(ConfigurationError, match="tool_choice"):
        read_tool_choice(3)
    with pytest.raises(ConfigurationError, match="name"):
        read_tool_choice({"type": "function"})


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_built_in_tool_choice_is_sent_as_its_dict(api: str) -> None:
    builder = RequestBuilder("m").update(
        {"tools": [{"type": "mcp", "server_label": "s"}], "tool_choice": {"type": "mcp", "server_label": "s"}}
    )
    request, _ = builder.build([Message(role="user", content="hi")])
    body = (chat if api == "chat" else responses).build_body(request, stream=False)
    assert body["tool_choice"] == {"type": "mcp", "server_label": "s"}


@pytest.mark.parametrize(
    "value",
    [
        {"type": "json_schema", "json_schema": {"name": "A", "schema": SCHEMA, "strict": True}},
        {"type": "json_schema", "name": "A", "schema": SCHEMA, "strict": True},
        {"format": {"type": "json_schema", "name": "A", "schema": SCHEMA, "strict": True}},
    ],
    ids=["chat", "responses text.format", "responses text"],
)
def test_json_schema_shapes_read_the_same(value: Any) -> None:
    assert read_response_format(value) == ResponseFormat("json_schema", "A", SCHEMA, True)


@pytest.mark.parametrize(
    "value",
    ["json", {"type": "xml"}, {"type": "json_schema"}, {"type": "json_schema", "json_schema": {"schema": 1}}],
)
def test_bad_response_format(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="response_format"):
        read_response_format(value)


def test_legacy_tool_calls_from_dicts_and_sdk_objects() -> None:
    openai_types = pytest.importorskip("openai.types.chat")
    sdk = openai_types.ChatCompletionMessageToolCall(
        id="c2", type="function", function={"name": "g", "arguments": '{"b": 2}'}
    )
    calls = read_tool_calls(
        [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": None}},
            sdk,
            {"type": "function_call", "call_id": "c3", "id": "fc_3", "name": "h", "arguments": {"x": "é"}},
        ]
    )
    assert calls == [
        ToolCall("c1", "f", "{}"),
        ToolCall("c2", "g", '{"b": 2}'),
        ToolCall("c3", "h", '{"x": "é"}', item_id="fc_3"),
    ]
    with pytest.raises(ConfigurationError, match=r"tool_calls\[0\]"):
        read_tool_calls([{"id": "c1", "function": {"arguments": "{}"}}])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("high", ("high", None)),
        ({"effort": "low", "summary": "auto"}, ("low", "auto")),
        ({"generate_summary": "concise"}, (None, "concise")),
        (None, (None, None)),
    ],
)
def test_reasoning_forms(value: Any, expected: Any) -> None:
    assert read_reasoning(value) == expected


@pytest.mark.parametrize("value", [3, {"effort": 1}, {"effort": "low", "budget": 5}])
def test_bad_reasoning(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="reasoning"):
        read_reasoning(value)


def test_builder_sorts_kwargs_once() -> None:
    builder = RequestBuilder("m", ignored={"callbacks"})
    builder.update({"temperature": 0.1, "max_output_tokens": 5, "stop": "END", "extra_headers": {"X-A": "1"}})
    builder.update(
        {
            "max_completion_tokens": 7,
            "reasoning": "high",
            "extra_body": {"temperature": 0.9},
            "store_id": "s",
            "callbacks": object(),
            "stream": True,
            "extra_headers": {"x-a": "2"},
            "timeout": 9,
            "gateway_options": {"cache_ttl": 5},
            "temperature": None,  # None leaves the field as it was
        }
    )
    request, call = builder.build([Message(role="user", content="hi")])
    assert (request.model, request.temperature, request.max_tokens, request.stop) == ("m", 0.1, 7, ["END"])
    assert request.reasoning_effort == "high"
    assert request.extra_body == {"store_id": "s", "temperature": 0.9}
    assert call.kwargs() == {"options": {"cache_ttl": 5}, "timeout": 9, "extra_headers": {"x-a": "2"}}


def test_builder_without_tools_drops_only_what_the_endpoints_refuse() -> None:
    request, _ = RequestBuilder("m").update({"tool_choice": "auto", "parallel_tool_calls": True}).build([])
    assert (request.tool_choice, request.parallel_tool_calls) == (None, None)
    request, _ = RequestBuilder("m").update({"tool_choice": {"type": "web_search"}}).build([])
    assert request.tool_choice == BuiltInToolChoice("web_search")


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"extra_query": {"a": "1"}}, "extra_query"),
        ({"timeout": "soon"}, "timeout"),
        ({"request_timeout": -1}, "request_timeout"),
        ({"extra_headers": {"Authorization": "x"}}, "extra_headers"),
        ({"extra_body": [1]}, "extra_body"),
        ({"stop": 5}, "stop"),
        ({"tool_choice": 2.5}, "tool_choice"),
    ],
)
def test_builder_refuses_bad_kwargs(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        RequestBuilder("m").update(kwargs)


def test_built_request_reaches_the_server_unchanged(make_gateway: Any, server: TestServer) -> None:
    server.replies.put(Reply(body={"choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                                "finish_reason": "stop"}]}))
    request, call = (
        RequestBuilder("gpt-4o-mini")
        .update({"tools": [{"type": "function", **FUNCTION}], "tool_choice": True, "max_output_tokens": 3})
        .update({"extra_headers": {"x-trace": "t"}, "response_format": {"type": "json_object"}})
        .build([Message(role="user", content="json please")])
    )
    make_gateway().chat(request, **call.kwargs())
    (sent,) = server.requests
    body = sent.json()
    assert body["tool_choice"] == "required" and body["max_completion_tokens"] == 3
    assert body["tools"] == [{"type": "function", "function": FUNCTION}]
    assert body["response_format"] == {"type": "json_object"}
    assert sent.headers["x-trace"] == "t"


# --- any input ends in a value or a ConfigurationError ------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(
    ["type", "function", "name", "arguments", "parameters", "id", "call_id", "schema", "json_schema",
     "format", "effort", "summary", "strict", "description"]
)
SHAPED = st.recursive(
    JSON, lambda inner: st.dictionaries(KEYS, inner, max_size=5) | st.lists(inner, max_size=3), max_leaves=10
)


@settings(max_examples=300, deadline=None)
@given(value=SHAPED)
def test_readers_end_in_a_value_or_configuration_error(value: Any) -> None:
    for reader in (read_tools, read_tool_choice, read_response_format, read_tool_calls, read_reasoning):
        with contextlib.suppress(ConfigurationError):
            reader(value)


@settings(max_examples=200, deadline=None)
@given(kwargs=st.dictionaries(
    st.sampled_from(["tools", "tool_choice", "response_format", "reasoning", "stop", "extra_body",
                     "extra_headers", "extra_query", "timeout", "max_tokens", "temperature", "other"]),
    SHAPED, max_size=5,
))
def test_builder_ends_in_a_request_or_configuration_error(kwargs: dict[str, Any]) -> None:
    try:
        request, _ = RequestBuilder("m").update(kwargs).build([Message(role="user", content="hi")])
    except ConfigurationError:
        return
    for build in (chat.build_body, responses.build_body):
        try:
            json.dumps(build(request, stream=False))
        except (ConfigurationError, TypeError, ValueError) as error:
            # Only values the builder copies verbatim (temperature, other) may be odd JSON.
            assert not isinstance(error, TypeError) or "not JSON serializable" in str(error)


def test_httpx_timeout_is_accepted() -> None:
    _, call = RequestBuilder("m").set("timeout", httpx.Timeout(3.0)).build([])
    assert isinstance(call.timeout, httpx.Timeout)


# --- running tool calls of a stream --------------------------------------------------------------


def test_chat_handler_reports_running_tool_calls() -> None:
    handler = chat.StreamHandler()

    def piece(**call: Any) -> dict[str, Any]:
        return {"id": "x", "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [call]}}]}

    assert handler.tool_calls() == []
    handler.on_event(piece(index=0, id="c1", function={"name": "f", "arguments": '{"a"'}))
    assert handler.tool_calls() == [ToolCall("c1", "f", '{"a"')]
    handler.on_event(piece(index=0, function={"arguments": ": 1}"}))
    handler.on_event(piece(index=1, function={"name": "g"}))  # no id yet
    assert handler.tool_calls() == [ToolCall("c1", "f", '{"a": 1}'), ToolCall("call_1", "g", "")]
    assert handler.result().tool_calls == handler.tool_calls()


def test_responses_handler_reports_running_tool_calls() -> None:
    handler = responses.StreamHandler()
    item = {"type": "function_call", "id": "fc_1", "call_id": "c1", "name": "f", "arguments": ""}
    handler.on_event({"type": "response.output_item.added", "output_index": 0, "item": item})
    handler.on_event({"type": "response.function_call_arguments.delta", "output_index": 0,
                      "item_id": "fc_1", "delta": '{"a":'})
    assert handler.tool_calls() == [ToolCall("c1", "f", '{"a":', item_id="fc_1")]
    handler.on_event({"type": "response.function_call_arguments.delta", "output_index": 0,
                      "item_id": "fc_1", "delta": " 1}"})
    assert handler.tool_calls() == [ToolCall("c1", "f", '{"a": 1}', item_id="fc_1")]


# --- tool results holding images -----------------------------------------------------------------


def test_tool_result_images_follow_the_tool_messages_on_chat() -> None:
    from cf_ai_gateway.wire.types import ChatRequest, ImagePart, TextPart

    image = ImagePart(url="https://example.com/a.png")
    request = ChatRequest(
        model="m",
        messages=[
            Message(role="user", content="charts?"),
            Message(role="assistant", tool_calls=[ToolCall("c1", "f", "{}"), ToolCall("c2", "f", "{}")]),
            Message(role="tool", tool_call_id="c1", content=[TextPart("first"), image]),
            Message(role="tool", tool_call_id="c2", content=[ImagePart(url="data:image/png;base64,AA==")]),
            Message(role="user", content="thanks"),
        ],
    )
    messages = chat.build_body(request, stream=False)["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "tool", "user", "user"]
    assert messages[2]["content"] == [{"type": "text", "text": "first"}]
    assert messages[3]["content"] == ""
    assert messages[4]["content"] == [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
    ]
    # The Responses endpoint takes images in the tool output itself.
    items = responses.build_body(request, stream=False)["input"]
    outputs = [item for item in items if item.get("type") == "function_call_output"]
    assert outputs[0]["output"][1] == {"type": "input_image", "image_url": "https://example.com/a.png",
                                       "detail": "auto"}


def test_tool_result_image_round_trip_through_the_emulator(emulator: Any) -> None:
    from cf_ai_gateway import Gateway
    from cf_ai_gateway.wire.types import ChatRequest, ImagePart, TextPart

    request = ChatRequest(
        model="gpt-4o-mini",
        messages=[
            Message(role="user", content="chart?"),
            Message(role="assistant", tool_calls=[ToolCall("c1", "f", "{}")]),
            Message(role="tool", tool_call_id="c1", content=[TextPart("see"), ImagePart(url="https://example.com/a.png")]),
        ],
    )
    with Gateway.from_env() as gw:  # the environment points at the emulator
        result = gw.chat(request)
    assert result.text
    body = emulator.requests[-1].json
    assert body["messages"][-1]["role"] == "user"
