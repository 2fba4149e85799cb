"""An openai-agents ``Agent`` with a function tool, routed through Cloudflare AI Gateway.

The agent runs on ``OpenAIChatCompletionsModel`` and on ``OpenAIResponsesModel``, both built on
``Gateway.async_openai_client()``, so every model call carries the gateway's auth and options.
Per-run gateway options go in ``ModelSettings(extra_headers=...)``. Tracing export is turned off
(it would send traces to OpenAI, not through the gateway).

With ``CF_ACCOUNT_ID`` and ``OPENAI_API_KEY`` (or ``CF_AIG_TOKEN``) set it uses your gateway;
without them it runs against the local emulator, whose deterministic model calls the tool the
question names: ``python examples/agents_openai_agents.py``.

Extras: ``emulator`` and ``openai-agents`` (from a clone: ``pip install -e '.[emulator,openai-agents]'``).
"""

from __future__ import annotations

import asyncio
import os
from contextlib import AsyncExitStack

from agents import (
    Agent,
    ModelSettings,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    Runner,
    function_tool,
    set_tracing_disabled,
)

from cf_ai_gateway import Gateway
from cf_ai_gateway.emulator import real_or_emulated
from cf_ai_gateway.openai_client import gateway_headers

set_tracing_disabled(True)


@function_tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"21 degrees Celsius and sunny in {city}"


async def main() -> None:
    model_name = os.environ.get("CF_AIG_MODEL", "gpt-4o-mini")
    async with AsyncExitStack() as stack:
        gateway = Gateway.from_env(
            gateway_options={"metadata": {"example": "openai_agents"}},
            **stack.enter_context(real_or_emulated(byok=True)),
        )
        client = gateway.async_openai_client()
        stack.push_async_callback(client.close)

        for model in (
            OpenAIChatCompletionsModel(model=model_name, openai_client=client),
            OpenAIResponsesModel(model=model_name, openai_client=client),
        ):
            agent = Agent(
                name="weather",
                instructions="Use get_weather to answer. Reply briefly.",
                tools=[get_weather],
                model=model,
                model_settings=ModelSettings(extra_headers=gateway_headers(event_id="weather-demo")),
            )
            result = await Runner.run(agent, "Use get_weather: what is the weather in Lisbon?")
            print(f"{type(model).__name__}: {result.final_output}")

        # Streaming: text deltas as they arrive.
        agent = Agent(name="streamer", instructions="Reply briefly.", tools=[get_weather],
                      model=OpenAIChatCompletionsModel(model=model_name, openai_client=client))
        run = Runner.run_streamed(agent, "Use get_weather: what is the weather in Oslo?")
        print("streamed:", end=" ")
        async for event in run.stream_events():
            if event.type == "raw_response_event" and getattr(event.data, "type", "") == "response.output_text.delta":
                print(event.data.delta, end="", flush=True)
        print()


if __name__ == "__main__":
    asyncio.run(main())
