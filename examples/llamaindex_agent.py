"""A LlamaIndex ``FunctionAgent`` with two tools, routed through Cloudflare AI Gateway.

The agent plans with native tool calls (on ``chat/completions`` or ``responses``), calls the
tools, and answers. Without ``CF_ACCOUNT_ID`` and a key/token in the environment it runs against
the local emulator, whose deterministic model calls the tools the question names:
``python examples/llamaindex_agent.py``.

Extras: ``emulator`` and ``llamaindex`` (from a clone: ``pip install -e '.[emulator,llamaindex]'``).
"""

from __future__ import annotations

import asyncio
import os
from contextlib import ExitStack

from llama_index.core.agent.workflow import FunctionAgent, ToolCallResult

from cf_ai_gateway.emulator import real_or_emulated
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM


def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is 21 degrees Celsius and sunny in {city}."


def celsius_to_fahrenheit(celsius: float) -> float:
    """Convert a temperature from degrees Celsius to degrees Fahrenheit."""
    return celsius * 9 / 5 + 32



async def run(llm: CloudflareAIGatewayLLM) -> None:
    agent = FunctionAgent(
        tools=[get_weather, celsius_to_fahrenheit],
        llm=llm,
        system_prompt="Use the tools to answer. Reply briefly.",
    )
    handler = agent.run(
        "Use get_weather for Lisbon, then celsius_to_fahrenheit to convert 21 degrees."
    )
    async for event in handler.stream_events():
        if isinstance(event, ToolCallResult):
            print(f"tool {event.tool_name}({event.tool_kwargs}) -> {event.tool_output.content}")
    result = await handler
    print("answer:", result.response.content)
    await llm.aclose()


def main() -> None:
    with ExitStack() as stack:
        llm = CloudflareAIGatewayLLM(
            model=os.environ.get("CF_AIG_MODEL", "gpt-4o-mini"),
            api=os.environ.get("CF_AIG_API", "responses"),
            **stack.enter_context(real_or_emulated()),
        )
        asyncio.run(run(llm))


if __name__ == "__main__":
    main()
