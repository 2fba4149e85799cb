"""The adapter inside LangChain compositions, against the emulator: LCEL chains, structured
output in every method and schema form, and a tool-calling agent from ``create_agent``."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.tools import tool
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from langchain_cf_ai_gateway import ChatCloudflareAIGateway

APIS = pytest.mark.parametrize("api", ["chat", "responses"])


@pytest.fixture(autouse=True)
def _emulator(_clean_env: None, emulator: Any) -> Any:
    return emulator


def make(emulator: Any, **kwargs: Any) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(
        model="gpt-4o-mini", account_id=emulator.account_id, base_url=emulator.base_url,
        api_key="sk-chain", **kwargs,
    )


@APIS
def test_prompt_model_parser_chain(emulator: Any, api: str) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [("system", "You are terse."), ("human", "Say something about {topic}.")]
    )
    chain = prompt | make(emulator, api=api) | StrOutputParser()
    text = chain.invoke({"topic": "lighthouses"})
    assert isinstance(text, str) and "lighthouses" in text.lower()
    streamed = "".join(chain.stream({"topic": "harbours"}))
    assert "harbours" in streamed.lower()
    batch = chain.batch([{"topic": "owls"}, {"topic": "otters"}])
    assert "owls" in batch[0].lower() and "otters" in batch[1].lower()
    sent = emulator.requests[0].json
    messages = sent["messages"] if api == "chat" else sent["input"]
    assert messages[0]["role"] in ("system", "developer")


@APIS
async def test_async_chain(emulator: Any, api: str) -> None:
    chain = ChatPromptTemplate.from_template("Tell me about {x}") | make(emulator, api=api)
    reply = await chain.ainvoke({"x": "tides"})
    assert "tides" in reply.text.lower()
    results = await chain.abatch([{"x": "moons"}, {"x": "suns"}])
    assert all(isinstance(r, AIMessage) for r in results)


class Person(BaseModel):
    """A person mentioned in the text."""

    name: str = Field(description="The person's name")
    age: int = Field(description="Age in years")
    nickname: str | None = Field(default=None, description="Optional nickname")


class PersonDict(TypedDict):
    """A person mentioned in the text."""

    name: str
    age: int


class Pet(BaseModel):
    """A pet (json_mode: the emulator's schema-less JSON has string values only)."""

    name: str
    species: str


@APIS
@pytest.mark.parametrize("method", ["json_schema", "function_calling", "json_mode"])
def test_structured_output_methods(emulator: Any, api: str, method: str) -> None:
    model = make(emulator, api=api)
    if method == "json_mode":
        prompt = "Rex is a dog. Return a JSON object with 'name' and 'species' keys."
        schemas: tuple[Any, ...] = (Pet, Pet.model_json_schema())
        keys = {"name", "species"}
    else:
        prompt = "Ann is 31."
        schemas = (Person, PersonDict, Person.model_json_schema())
        keys = {"name", "age"}
    for schema in schemas:
        structured = model.with_structured_output(schema, method=method)  # type: ignore[arg-type]
        result = structured.invoke(prompt)
        streamed = list(structured.stream(prompt))
        assert streamed
        for value in (result, streamed[-1]):
            if isinstance(schema, type) and issubclass(schema, BaseModel):
                assert isinstance(value, schema)
            else:
                assert isinstance(value, dict) and keys <= set(value)
    body = emulator.requests[-1].json
    if method == "json_schema":
        fmt = body["response_format"] if api == "chat" else body["text"]["format"]
        assert fmt["type"] == "json_schema"
        schema_sent = fmt["json_schema"]["schema"] if api == "chat" else fmt["schema"]
        strict = fmt["json_schema"]["strict"] if api == "chat" else fmt["strict"]
        assert strict is True and schema_sent["additionalProperties"] is False
        assert set(schema_sent["required"]) == {"name", "age", "nickname"}
    elif method == "function_calling":
        assert body["tool_choice"] in (
            {"type": "function", "function": {"name": "Person"}},
            {"type": "function", "name": "Person"},
        )
        assert body["parallel_tool_calls"] is False
    else:
        fmt = body["response_format"] if api == "chat" else body["text"]["format"]
        assert fmt == {"type": "json_object"}


@APIS
def test_structured_output_include_raw(emulator: Any, api: str) -> None:
    structured = make(emulator, api=api).with_structured_output(Person, include_raw=True)
    out = structured.invoke("Bob is 40.")
    assert isinstance(out["raw"], AIMessage)
    assert isinstance(out["parsed"], Person) and out["parsing_error"] is None
    emulator.script(text="this is not json")
    broken = structured.invoke("Bob is 40.")
    assert broken["parsed"] is None and broken["parsing_error"] is not None


def test_structured_output_refusal_raises(emulator: Any) -> None:
    from langchain_core.exceptions import ModelRefusalError

    reply = {
        "id": "chatcmpl-r", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {
            "role": "assistant", "content": None, "refusal": "I can't help with that."}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    emulator.script(json=reply)
    with pytest.raises(ModelRefusalError, match="can't help"):
        make(emulator).with_structured_output(Person).invoke("x")


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is sunny and 21 C in {city}."


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@APIS
def test_create_agent_tool_loop(emulator: Any, api: str) -> None:
    from langchain.agents import create_agent

    agent = create_agent(make(emulator, api=api), tools=[get_weather, add])
    state = agent.invoke({"messages": [HumanMessage("What is the weather in Paris?")]})
    messages = state["messages"]
    calls = [m for m in messages if isinstance(m, AIMessage) and m.tool_calls]
    results = [m for m in messages if isinstance(m, ToolMessage)]
    assert calls and calls[0].tool_calls[0]["name"] == "get_weather"
    assert results and "sunny" in results[0].text
    assert results[0].tool_call_id == calls[0].tool_calls[0]["id"]
    final = messages[-1]
    assert isinstance(final, AIMessage) and not final.tool_calls
    assert "sunny" in final.text.lower()
    assert final.response_metadata["gateway"]["log_id"]


async def test_create_agent_streams_async(emulator: Any) -> None:
    from langchain.agents import create_agent

    agent = create_agent(make(emulator, api="responses"), tools=[add])
    seen = []
    async for step in agent.astream(
        {"messages": [HumanMessage("Use the add tool: what is 2 + 3?")]}, stream_mode="updates"
    ):
        seen.extend(step)
    assert "tools" in seen and seen[-1] == "model"


class Forecast(BaseModel):
    """The weather forecast for a city."""

    city: str
    summary: str


@APIS
def test_create_agent_with_structured_response(emulator: Any, api: str) -> None:
    from langchain.agents import create_agent

    agent = create_agent(make(emulator, api=api), tools=[get_weather], response_format=Forecast)
    state = agent.invoke({"messages": [HumanMessage("What is the weather in Rome?")]})
    assert isinstance(state["structured_response"], Forecast)
    assert any(isinstance(m, ToolMessage) for m in state["messages"])
