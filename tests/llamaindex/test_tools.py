"""Tool calling through ``CloudflareAIGatewayLLM`` on both endpoints, and LlamaIndex's agents.

Covers ``chat_with_tools`` and its async and streaming forms (streamed tool calls must appear as
``ToolCallBlock`` blocks and in ``message.additional_kwargs["tool_calls"]``), a full tool round
trip with the results sent back, ``tool_required`` and a forced ``tool_choice`` on the wire,
``get_tool_calls_from_response``, ``predict_and_call`` / ``apredict_and_call``, and complete
``FunctionAgent`` and ``ReActAgent`` runs against the emulator's deterministic model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.agent.workflow import (
    AgentStream,
    FunctionAgent,
    ReActAgent,
    ToolCallResult,
)
from llama_index.core.base.llms.types import ToolCallBlock
from llama_index.core.llms import ChatMessage
from llama_index.core.tools import FunctionTool

from cf_ai_gateway.emulator import Emulator
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

from .conftest import model_requests

# LlamaIndex's workflow machinery inspects agents with deprecated pydantic attributes.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect"),
    pytest.mark.filterwarnings("ignore:is_running called:DeprecationWarning"),
]


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny and 21 degrees in {city}."


def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b


WEATHER = FunctionTool.from_defaults(fn=get_weather)
MULTIPLY = FunctionTool.from_defaults(fn=multiply)
TOOLS = [WEATHER, MULTIPLY]
ASK_WEATHER = "Use get_weather to check the weather in Oslo."


def tool_blocks(message: ChatMessage) -> list[ToolCallBlock]:
    return [b for b in message.blocks if isinstance(b, ToolCallBlock)]


def test_chat_with_tools_round_trip(
    llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator
) -> None:
    response = llm.chat_with_tools(TOOLS, user_msg=ASK_WEATHER)
    (call,) = llm.get_tool_calls_from_response(response)
    assert call.tool_name == "get_weather" and isinstance(call.tool_kwargs.get("city"), str)
    assert call.tool_id
    (block,) = tool_blocks(response.message)
    assert block.tool_call_id == call.tool_id
    (legacy,) = response.message.additional_kwargs["tool_calls"]
    assert legacy["id"] == call.tool_id and legacy["function"]["name"] == "get_weather"

    body = model_requests(emulator)[0].json
    names = [t.get("name") or t.get("function", {}).get("name") for t in body["tools"]]
    assert names == ["get_weather", "multiply"]
    assert body["tool_choice"] == "auto" and body["parallel_tool_calls"] is False

    output = WEATHER(**call.tool_kwargs)
    history = [
        ChatMessage(role="user", content=ASK_WEATHER),
        response.message,
        ChatMessage(
            role="tool", content=str(output), additional_kwargs={"tool_call_id": call.tool_id}
        ),
    ]
    final = llm.chat_with_tools(TOOLS, chat_history=history)
    assert llm.get_tool_calls_from_response(final, error_on_no_tool_call=False) == []
    assert "Sunny and 21 degrees" in (final.message.content or "")
    sent = model_requests(emulator)[1].json
    if api == "chat":
        assistant = sent["messages"][1]
        assert assistant["tool_calls"][0]["id"] == call.tool_id
        assert sent["messages"][2] == {
            "role": "tool",
            "tool_call_id": call.tool_id,
            "content": str(output),
        }
    else:
        kinds = [item.get("type") for item in sent["input"]]
        assert "function_call" in kinds and "function_call_output" in kinds
        (result,) = [i for i in sent["input"] if i.get("type") == "function_call_output"]
        assert result["call_id"] == call.tool_id


def test_get_tool_calls_requires_a_call(llm: CloudflareAIGatewayLLM) -> None:
    response = llm.chat([ChatMessage(role="user", content="Just say hi.")])
    with pytest.raises(ValueError, match="tool call"):
        llm.get_tool_calls_from_response(response)
    assert llm.get_tool_calls_from_response(response, error_on_no_tool_call=False) == []


def test_tool_required_and_forced_choice(
    llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator
) -> None:
    response = llm.chat_with_tools(TOOLS, user_msg="Hello there.", tool_required=True)
    assert llm.get_tool_calls_from_response(response)
    forced = llm.chat_with_tools(TOOLS, user_msg="Hello there.", tool_choice="multiply")
    (call,) = llm.get_tool_calls_from_response(forced)
    assert call.tool_name == "multiply"
    assert set(call.tool_kwargs) == {"a", "b"}
    first, second = (r.json for r in model_requests(emulator))
    assert first["tool_choice"] == "required"
    if api == "chat":
        assert second["tool_choice"] == {"type": "function", "function": {"name": "multiply"}}
    else:
        assert second["tool_choice"] == {"type": "function", "name": "multiply"}


def test_strict_tools_on_the_wire(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    make_llm(api=api, strict=True).chat_with_tools([MULTIPLY], user_msg="multiply 3 and 4")
    (tool,) = model_requests(emulator)[0].json["tools"]
    spec = tool if api == "responses" else tool["function"]
    assert spec["strict"] is True
    assert spec["parameters"]["additionalProperties"] is False


def test_parallel_calls_are_trimmed_unless_allowed(
    llm: CloudflareAIGatewayLLM, emulator: Emulator
) -> None:
    calls = [
        {"name": "get_weather", "arguments": {"city": "Oslo"}},
        {"name": "multiply", "arguments": {"a": 2, "b": 3}},
    ]
    emulator.script(tool_calls=calls, times=2)
    single = llm.chat_with_tools(TOOLS, user_msg="both please")
    assert [c.tool_name for c in llm.get_tool_calls_from_response(single)] == ["get_weather"]
    assert len(single.message.additional_kwargs["tool_calls"]) == 1
    both = llm.chat_with_tools(TOOLS, user_msg="both please", allow_parallel_tool_calls=True)
    assert [c.tool_name for c in llm.get_tool_calls_from_response(both)] == [
        "get_weather",
        "multiply",
    ]


def test_stream_chat_with_tools(llm: CloudflareAIGatewayLLM, emulator: Emulator) -> None:
    calls = [
        {"name": "get_weather", "arguments": {"city": "Zürich"}},
        {"name": "multiply", "arguments": {"a": 6, "b": 7}},
    ]
    emulator.script(tool_calls=calls)
    chunks = list(
        llm.stream_chat_with_tools(TOOLS, user_msg="both please", allow_parallel_tool_calls=True)
    )
    last = chunks[-1]
    selections = llm.get_tool_calls_from_response(last)
    assert [(s.tool_name, s.tool_kwargs) for s in selections] == [
        ("get_weather", {"city": "Zürich"}),
        ("multiply", {"a": 6, "b": 7}),
    ]
    legacy = last.message.additional_kwargs["tool_calls"]
    assert [c.function.name for c in legacy] == ["get_weather", "multiply"]
    assert [c["id"] for c in legacy] == [s.tool_id for s in selections]
    assert [b.tool_name for b in tool_blocks(last.message)] == ["get_weather", "multiply"]
    assert last.additional_kwargs["finish_reason"] == "tool_calls"


async def test_astream_chat_with_tools(llm: CloudflareAIGatewayLLM) -> None:
    stream = await llm.astream_chat_with_tools(TOOLS, user_msg=ASK_WEATHER)
    chunks = [chunk async for chunk in stream]
    (call,) = llm.get_tool_calls_from_response(chunks[-1])
    assert call.tool_name == "get_weather"
    assert (
        chunks[-1].message.additional_kwargs["tool_calls"][0]["function"]["name"] == "get_weather"
    )


async def test_achat_with_tools(llm: CloudflareAIGatewayLLM) -> None:
    response = await llm.achat_with_tools(TOOLS, user_msg="Please multiply 6 and 7.")
    (call,) = llm.get_tool_calls_from_response(response)
    assert call.tool_name == "multiply"


def test_predict_and_call(llm: CloudflareAIGatewayLLM) -> None:
    output = llm.predict_and_call(TOOLS, user_msg="Use multiply on 6 and 7.")
    assert output.sources and output.sources[0].tool_name == "multiply"
    assert output.response == str(multiply(**output.sources[0].raw_input["kwargs"]))
    with pytest.raises(ValueError):
        llm.predict_and_call(TOOLS, user_msg="No tools needed, just say hi.", tool_choice="none")


async def test_apredict_and_call(llm: CloudflareAIGatewayLLM) -> None:
    output = await llm.apredict_and_call(TOOLS, user_msg=ASK_WEATHER)
    assert "Sunny and 21 degrees" in output.response


@pytest.mark.parametrize("streaming", [True, False])
async def test_function_agent(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator, streaming: bool
) -> None:
    agent = FunctionAgent(tools=[get_weather, multiply], llm=make_llm(api=api), streaming=streaming)
    handler = agent.run("Use get_weather for Paris, then multiply 6 and 7.")
    results: list[ToolCallResult] = []
    streamed: list[AgentStream] = []
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            results.append(event)
        elif isinstance(event, AgentStream):
            streamed.append(event)
    output = await handler
    assert [r.tool_name for r in results] == ["get_weather", "multiply"]
    assert results[0].tool_kwargs == {"city": "Paris"}
    product = str(multiply(**results[1].tool_kwargs))
    assert results[1].tool_output.content == product
    assert product in str(output.response.content)
    if streaming:
        assert streamed and any(event.tool_calls for event in streamed)
    assert len(model_requests(emulator)) >= 2


async def test_react_agent(make_llm: Callable[..., CloudflareAIGatewayLLM], api: str) -> None:
    agent = ReActAgent(tools=[get_weather, multiply], llm=make_llm(api=api))
    handler = agent.run("What is 6 multiplied by 7? Use the multiply tool.")
    results: list[Any] = []
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            results.append(event)
    output = await handler
    assert [r.tool_name for r in results] == ["multiply"]
    assert results[0].tool_kwargs == {"a": 6, "b": 7}
    assert "42" in str(output.response.content)
