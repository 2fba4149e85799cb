"""Gateway info through LlamaIndex's instrumentation events, where agents and query engines hide it.

A ``FunctionAgent`` run and a query engine's response do not carry the LLM's
``additional_kwargs``; ``collect_gateway_info()`` gathers the gateway info of every LLM call
from the instrumentation events. These tests are the worked example of docs/frameworks.md.
"""

from __future__ import annotations

from collections.abc import Callable

from cf_ai_gateway.emulator import Emulator
from llama_index.llms.cf_ai_gateway import (
    CloudflareAIGatewayLLM,
    GatewayInfoCollector,
    collect_gateway_info,
)


async def test_a_function_agent_run_reports_its_gateway_log_ids(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    from llama_index.core.agent.workflow import FunctionAgent

    def multiply(a: int, b: int) -> int:
        """Multiply two integers."""
        return a * b

    agent = FunctionAgent(tools=[multiply], llm=make_llm(), system_prompt="Use the tools.")
    with collect_gateway_info() as calls:
        answer = await agent.run("What is 6 multiplied by 7? Use multiply.")
    assert "42" in str(answer)
    assert len(set(calls.log_ids)) >= 2
    assert set(calls.log_ids) <= {entry.id for entry in emulator.logs}
    assert all(call["span_id"] for call in calls.calls)


def test_a_query_engine_response_reports_its_gateway_log_id(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    from llama_index.core import Document, SummaryIndex

    index = SummaryIndex.from_documents([Document(text="Cloudflare AI Gateway logs every call.")])
    with collect_gateway_info() as calls:
        response = index.as_query_engine(llm=make_llm()).query("What does the gateway log?")
    assert str(response)
    assert calls.log_ids == [emulator.logs[-1].id]
    assert calls.calls[0]["cache_status"] == "MISS"


def test_the_collector_stops_at_the_end_of_the_block(make_llm: Callable[..., CloudflareAIGatewayLLM]) -> None:
    from llama_index.core.llms import ChatMessage

    llm = make_llm()
    with collect_gateway_info() as calls:
        llm.chat([ChatMessage(role="user", content="one")])
    llm.chat([ChatMessage(role="user", content="two")])
    assert len(calls.log_ids) == 1
    calls.clear()
    assert calls.calls == [] and isinstance(calls, GatewayInfoCollector)
