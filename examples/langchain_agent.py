"""A LangChain tool-calling agent (``langchain.agents.create_agent``) through Cloudflare AI Gateway.

The agent calls the tools with native tool calls, reads their results and answers; each model
call is logged by the gateway (the log ids are printed). Without ``CF_ACCOUNT_ID`` and a provider
key or gateway token in the environment it runs against the local emulator, whose deterministic
model calls the tools the question names: ``python examples/langchain_agent.py``.

Extras: ``emulator`` and ``langchain-agents`` (from a clone: ``pip install -e '.[emulator,langchain-agents]'``).
"""

from __future__ import annotations

from contextlib import ExitStack

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.tools import tool

from cf_ai_gateway.emulator import real_or_emulated
from langchain_cf_ai_gateway import ChatCloudflareAIGateway


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return f"It is 21 degrees Celsius and sunny in {city}."


@tool
def celsius_to_fahrenheit(celsius: float) -> float:
    """Convert a temperature from degrees Celsius to degrees Fahrenheit."""
    return celsius * 9 / 5 + 32


def main() -> None:
    with ExitStack() as stack:
        settings = stack.enter_context(real_or_emulated())
        model = ChatCloudflareAIGateway(model="gpt-4o-mini", api="responses", **settings)
        agent = create_agent(
            model,
            tools=[get_weather, celsius_to_fahrenheit],
            system_prompt="Use the tools to answer. Reply briefly.",
        )
        state = agent.invoke(
            {"messages": [HumanMessage("Use get_weather for Lisbon, then celsius_to_fahrenheit "
                                       "to convert 21 degrees.")]}
        )
        for message in state["messages"]:
            if isinstance(message, AIMessage):
                log_id = message.response_metadata.get("gateway", {}).get("log_id")
                for call in message.tool_calls:
                    print(f"model calls {call['name']}({call['args']})  [log {log_id}]")
                if not message.tool_calls:
                    print(f"answer: {message.text}  [log {log_id}]")
            elif isinstance(message, ToolMessage):
                print(f"  tool -> {message.text}")


if __name__ == "__main__":
    main()
