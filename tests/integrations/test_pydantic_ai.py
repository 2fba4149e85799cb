"""pydantic-ai on `OpenAIProvider(openai_client=gateway.async_openai_client())`, against the emulator.

An `Agent` with a tool runs its loop on `OpenAIChatModel` (and `OpenAIResponsesModel` where the
installed pydantic-ai and openai versions agree), streams, returns structured output, and sends
per-run gateway options through `model_settings["extra_headers"]`; every request is checked for
the byok header set on the wire.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.frameworks

pydantic_ai = pytest.importorskip("pydantic_ai")
openai_models = pytest.importorskip("pydantic_ai.models.openai")
openai_providers = pytest.importorskip("pydantic_ai.providers.openai")

from pydantic import BaseModel  # noqa: E402

from cf_ai_gateway.openai_client import gateway_headers  # noqa: E402

from .conftest import assert_byok_wire, model_requests  # noqa: E402

TOOL_RESULT = "Sunny and 21C in Paris"
QUESTION = "Use get_weather: what is the weather in Paris?"


class City(BaseModel):
    name: str
    population: int


def weather_agent(model: Any) -> Any:
    agent = pydantic_ai.Agent(model, instructions="Answer with the tools.")

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        return f"Sunny and 21C in {city}"

    return agent


def chat_model(client: Any) -> Any:
    provider = openai_providers.OpenAIProvider(openai_client=client)
    return openai_models.OpenAIChatModel("gpt-4o-mini", provider=provider)


def responses_model(client: Any) -> Any:
    import openai

    fields = getattr(openai.types.responses.Response, "model_fields", {})
    if "prompt_cache_diagnostics" not in fields:
        pytest.skip(
            f"pydantic-ai {pydantic_ai.__version__} reads Response.prompt_cache_diagnostics, which "
            f"openai {openai.__version__} does not have (pydantic-ai needs a newer openai)"
        )
    provider = openai_providers.OpenAIProvider(openai_client=client)
    return openai_models.OpenAIResponsesModel("gpt-4o-mini", provider=provider)


async def test_chat_model_runs_the_tool_loop(emulator: Any, async_client: Any) -> None:
    result = await weather_agent(chat_model(async_client)).run(
        QUESTION, model_settings={"extra_headers": gateway_headers(event_id="pa-1")}
    )
    assert TOOL_RESULT in result.output
    first, second = model_requests(emulator, "chat/completions")
    assert [t["function"]["name"] for t in first.json["tools"]] == ["get_weather"]
    tool_turns = [m for m in second.json["messages"] if m["role"] == "tool"]
    assert tool_turns and TOOL_RESULT in tool_turns[0]["content"]
    assert_byok_wire([first, second])
    for request in (first, second):
        assert request.header("cf-aig-event-id") == "pa-1"
        assert request.header("cf-aig-metadata") == '{"suite":"frameworks"}'


async def test_chat_model_streams(emulator: Any, async_client: Any) -> None:
    agent = weather_agent(chat_model(async_client))
    async with agent.run_stream(QUESTION) as run:
        pieces = [piece async for piece in run.stream_text(delta=True)]
    assert TOOL_RESULT in "".join(pieces)
    requests = model_requests(emulator, "chat/completions")
    assert len(requests) == 2 and all(r.json["stream"] is True for r in requests)
    assert_byok_wire(requests)


async def test_structured_output(emulator: Any, async_client: Any) -> None:
    agent = pydantic_ai.Agent(chat_model(async_client), output_type=City)
    result = await agent.run("Name a city and its population.")
    assert isinstance(result.output, City)
    assert isinstance(result.output.population, int)
    assert_byok_wire(model_requests(emulator, "chat/completions"))


async def test_responses_model_runs_the_tool_loop(emulator: Any, async_client: Any) -> None:
    result = await weather_agent(responses_model(async_client)).run(QUESTION)
    assert TOOL_RESULT in result.output
    first, second = model_requests(emulator, "responses")
    outputs = [i for i in second.json["input"] if i.get("type") == "function_call_output"]
    assert outputs and TOOL_RESULT in outputs[0]["output"]
    assert_byok_wire([first, second])
