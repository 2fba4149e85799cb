"""CloudflareAIGatewayLLM with fallbacks: field and per call, sync and async, streams."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from cf_ai_gateway import StreamError
from cf_ai_gateway.emulator import Emulator
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

MESSAGES = [ChatMessage(role="user", content="Say hello")]
Make = Callable[..., CloudflareAIGatewayLLM]


def _models(kwargs: dict[str, Any]) -> list[str]:
    return [attempt["model"] for attempt in kwargs["gateway"]["attempts"]]


def test_field_fallbacks_fail_over(emulator: Emulator, make_llm: Make, api: str) -> None:
    emulator.fault(502, model="gpt-4o")
    llm = make_llm(model="gpt-4o", api=api, max_retries=0, fallbacks=["gpt-4o-mini"])
    response = llm.chat(MESSAGES)
    assert response.message.content
    assert _models(response.additional_kwargs) == ["gpt-4o", "gpt-4o-mini"]


def test_per_call_fallbacks_and_streams(emulator: Emulator, make_llm: Make) -> None:
    llm = make_llm(model="gpt-4o", max_retries=0)
    emulator.fault(429, model="gpt-4o")
    response = llm.chat(MESSAGES, fallbacks=["gpt-4o-mini"])
    assert _models(response.additional_kwargs) == ["gpt-4o", "gpt-4o-mini"]
    emulator.fault(cut_after=0, model="gpt-4o")
    last = list(llm.stream_chat(MESSAGES, fallbacks=["gpt-4o-mini"]))[-1]
    assert last is not None and last.message.content
    assert _models(last.additional_kwargs) == ["gpt-4o", "gpt-4o-mini"]


def test_stream_cut_after_content(emulator: Emulator, make_llm: Make) -> None:
    emulator.script(text="one two three four five six seven eight", times=None)
    emulator.fault(cut_after=6, model="gpt-4o")
    llm = make_llm(model="gpt-4o", max_retries=0, fallbacks=["gpt-4o-mini"])
    with pytest.raises(StreamError) as caught:
        for _ in llm.stream_chat(MESSAGES):
            pass
    assert caught.value.partial_text


def test_async_fallbacks(emulator: Emulator, make_llm: Make) -> None:
    llm = make_llm(model="gpt-4o", max_retries=0, fallbacks=["gpt-4o-mini"])

    async def main() -> tuple[Any, Any]:
        emulator.fault(500, model="gpt-4o")
        response = await llm.achat(MESSAGES)
        emulator.fault(cut_after=0, model="gpt-4o")
        chunks = [chunk async for chunk in await llm.astream_chat(MESSAGES)]
        return response, chunks[-1]

    response, last = asyncio.run(main())
    assert _models(response.additional_kwargs) == ["gpt-4o", "gpt-4o-mini"]
    assert _models(last.additional_kwargs) == ["gpt-4o", "gpt-4o-mini"]


def test_route_keys_stay_out_of_to_dict(make_llm: Make) -> None:
    llm = make_llm(fallbacks=[{"provider": "groq", "model": "m", "api_key": "gsk-hidden-42"}])
    assert "gsk-hidden-42" not in repr(llm)
    assert "gsk-hidden-42" not in llm.to_json()
    assert llm.to_dict()["fallbacks"] == [{"provider": "groq", "model": "m"}]


def test_metadata_reads_the_core_catalog(make_llm: Make) -> None:
    metadata = make_llm(model="claude-sonnet-4-20250514").metadata
    assert metadata.context_window == 200000 and metadata.num_output == 64000
    assert make_llm(model="o1-mini").metadata.is_function_calling_model is False
