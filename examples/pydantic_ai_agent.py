"""A pydantic-ai ``Agent`` with a tool and structured output, routed through Cloudflare AI Gateway.

pydantic-ai's ``OpenAIProvider`` takes any ``openai.AsyncOpenAI``; giving it
``Gateway.async_openai_client()`` sends every model call through the gateway with its auth and
options. ``OpenAIChatModel`` speaks ``chat/completions``; ``OpenAIResponsesModel`` (same provider)
speaks ``responses``. Per-run gateway options go in ``model_settings={"extra_headers": ...}``.

With ``CF_ACCOUNT_ID`` and ``OPENAI_API_KEY`` (or ``CF_AIG_TOKEN``) set it uses your gateway;
without them it runs against the local emulator, whose deterministic model calls the tool the
question names: ``python examples/pydantic_ai_agent.py``.

Extras: ``emulator`` and ``pydantic-ai`` (from a clone: ``pip install -e '.[emulator,pydantic-ai]'``).
"""

from __future__ import annotations

import asyncio
import os
from contextlib import AsyncExitStack

from pydantic import BaseModel
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from cf_ai_gateway import Gateway
from cf_ai_gateway.emulator import real_or_emulated
from cf_ai_gateway.openai_client import gateway_headers


class City(BaseModel):
    name: str
    country: str


async def main() -> None:
    async with AsyncExitStack() as stack:
        gateway = Gateway.from_env(
            gateway_options={"metadata": {"example": "pydantic_ai"}},
            **stack.enter_context(real_or_emulated(byok=True)),
        )
        client = gateway.async_openai_client()
        stack.push_async_callback(client.close)
        model = OpenAIChatModel(
            os.environ.get("CF_AIG_MODEL", "gpt-4o-mini"),
            provider=OpenAIProvider(openai_client=client),
        )

        agent = Agent(model, instructions="Use the tools to answer. Reply briefly.")

        @agent.tool_plain
        def get_weather(city: str) -> str:
            """Get the current weather in a city."""
            return f"21 degrees Celsius and sunny in {city}"

        result = await agent.run(
            "Use get_weather: what is the weather in Lisbon?",
            model_settings={"extra_headers": gateway_headers(event_id="pydantic-ai-demo")},
        )
        print("tool answer:", result.output)

        async with agent.run_stream("Use get_weather: what is the weather in Oslo?") as run:
            print("streamed:", end=" ")
            async for piece in run.stream_text(delta=True):
                print(piece, end="", flush=True)
            print()

        city_agent = Agent(model, output_type=City)
        city = await city_agent.run("Name a city in Portugal.")
        print("structured:", city.output)


if __name__ == "__main__":
    asyncio.run(main())
