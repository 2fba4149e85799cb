"""openai-agents on `Gateway.async_openai_client()`, against the emulator.

An `Agent` with a function tool runs its tool loop on `OpenAIChatCompletionsModel` and on
`OpenAIResponsesModel`; the tool's result reaches the model in the second request and the final
answer; a streamed run yields text deltas; per-run gateway options travel as `extra_headers`.
Every request is checked on the wire for the byok header set and the client-level options.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.frameworks

agents = pytest.importorskip("agents")

from cf_ai_gateway.openai_client import gateway_headers, recent_gateway_info  # noqa: E402

from .conftest import assert_byok_wire, model_requests  # noqa: E402

agents.set_tracing_disabled(True)

TOOL_RESULT = "Sunny and 21C in Paris"
QUESTION = "Use get_weather: what is the weather in Paris?"


@agents.function_tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"Sunny and 21C in {city}"


def weather_agent(model: Any, **settings: Any) -> Any:
    return agents.Agent(
        name="weather",
        instructions="Answer with the tools.",
        tools=[get_weather],
        model=model,
        model_settings=agents.ModelSettings(**settings),
    )


async def test_chat_completions_model_runs_the_tool_loop(emulator: Any, async_client: Any) -> None:
    model = agents.OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=async_client)
    result = await agents.Runner.run(weather_agent(model), QUESTION)
    assert TOOL_RESULT in result.final_output
    first, second = model_requests(emulator, "chat/completions")
    assert [t["function"]["name"] for t in first.json["tools"]] == ["get_weather"]
    tool_turns = [m for m in second.json["messages"] if m["role"] == "tool"]
    assert tool_turns and TOOL_RESULT in tool_turns[0]["content"]
    assert_byok_wire([first, second])
    assert all(r.header("cf-aig-metadata") == '{"suite":"frameworks"}' for r in (first, second))
    # The agent hides raw responses; the client still knows each call's log id.
    assert [i.log_id for i in recent_gateway_info(async_client)] == [log.id for log in emulator.logs]


async def test_responses_model_runs_the_tool_loop(emulator: Any, async_client: Any) -> None:
    model = agents.OpenAIResponsesModel(model="gpt-4o-mini", openai_client=async_client)
    result = await agents.Runner.run(weather_agent(model), QUESTION)
    assert TOOL_RESULT in result.final_output
    first, second = model_requests(emulator, "responses")
    outputs = [i for i in second.json["input"] if i.get("type") == "function_call_output"]
    assert outputs and TOOL_RESULT in outputs[0]["output"]
    assert_byok_wire([first, second])


async def test_streamed_run_with_per_run_gateway_options(emulator: Any, async_client: Any) -> None:
    model = agents.OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=async_client)
    agent = weather_agent(model, extra_headers=gateway_headers(event_id="run-42", cache_ttl=120))
    run = agents.Runner.run_streamed(agent, QUESTION)
    deltas: list[str] = []
    async for event in run.stream_events():
        if event.type == "raw_response_event" and getattr(event.data, "type", "") == "response.output_text.delta":
            deltas.append(event.data.delta)
    assert TOOL_RESULT in run.final_output
    assert "".join(deltas) == run.final_output
    requests = model_requests(emulator, "chat/completions")
    assert len(requests) == 2 and all(r.json["stream"] is True for r in requests)
    for request in requests:
        assert request.header("cf-aig-event-id") == "run-42"
        assert request.header("cf-aig-cache-ttl") == "120"
        assert request.header("cf-aig-metadata") == '{"suite":"frameworks"}'
    assert_byok_wire(requests)
    assert all(log.event_id == "run-42" for log in emulator.logs)
