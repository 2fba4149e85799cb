"""The gateway's log id in LangChain run metadata, as tracers (LangSmith's included) record runs.

A ``BaseTracer`` (the base of LangSmith's ``LangChainTracer``) collects the finished runs; the
chat model's run carries ``cf_aig_log_id`` in its metadata, equal to the reply's gateway log id,
for ``invoke`` and ``ainvoke``; with ``stream()`` it is in the run's outputs.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.tracers.base import BaseTracer
from langchain_core.tracers.schemas import Run

from langchain_cf_ai_gateway import ChatCloudflareAIGateway


class Collector(BaseTracer):
    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []

    def _persist_run(self, run: Run) -> None:
        pass

    def _end_trace(self, run: Run) -> None:
        self.runs.append(run)
        super()._end_trace(run)


@pytest.fixture
def model(_clean_env: None, emulator: Any) -> ChatCloudflareAIGateway:
    env = emulator.env()
    return ChatCloudflareAIGateway(model="gpt-4o-mini", account_id=env["CF_ACCOUNT_ID"],
                                   base_url=env["CF_AIG_BASE_URL"], api_key=env.get("OPENAI_API_KEY"), cf_aig_token=env.get("CF_AIG_TOKEN"),
                                   gateway_options={"event_id": "ev-lc"})


def llm_run(collector: Collector) -> Run:
    (run,) = [r for r in collector.runs if r.run_type == "llm"]
    return run


def test_invoke_puts_the_log_id_in_the_run_metadata(model: ChatCloudflareAIGateway) -> None:
    collector = Collector()
    message = model.invoke("What is Cloudflare?", config={"callbacks": [collector], "metadata": {"user": "u-1"}})
    metadata = llm_run(collector).extra["metadata"]
    assert metadata["cf_aig_log_id"] == message.response_metadata["gateway"]["log_id"]
    assert metadata["cf_aig_cache_status"] == "MISS" and metadata["cf_aig_event_id"] == "ev-lc"
    assert metadata["user"] == "u-1"


def test_stream_puts_the_log_id_in_the_run_outputs(model: ChatCloudflareAIGateway) -> None:
    # LangChain's .stream() does not hand the run to the model: the id reaches the run's outputs.
    collector = Collector()
    chunks = list(model.stream("What is Cloudflare?", config={"callbacks": [collector]}))
    log_id = next(c.response_metadata["gateway"]["log_id"] for c in chunks if "gateway" in c.response_metadata)
    assert log_id in json.dumps(llm_run(collector).outputs, default=str)


async def test_async_calls_put_the_log_id_in_the_run_metadata(model: ChatCloudflareAIGateway) -> None:
    collector = Collector()
    message = await model.ainvoke("What is Cloudflare?", config={"callbacks": [collector]})
    assert llm_run(collector).extra["metadata"]["cf_aig_log_id"] == message.response_metadata["gateway"]["log_id"]
    collector = Collector()
    chunks = [c async for c in model.astream("What is Cloudflare?", config={"callbacks": [collector]})]
    log_id = next(c.response_metadata["gateway"]["log_id"] for c in chunks if "gateway" in c.response_metadata)
    assert log_id in json.dumps(llm_run(collector).outputs, default=str)
