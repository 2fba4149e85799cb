"""ChatCloudflareAIGateway with fallbacks: field and per call, sync and async, streams."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from cf_ai_gateway import StreamError
from cf_ai_gateway.emulator import Emulator
from langchain_cf_ai_gateway import ChatCloudflareAIGateway

API_KEY = "sk-test-provider-key-0123456789"


def model(emulator: Emulator, **kwargs: Any) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(
        model="gpt-4o",
        account_id=emulator.account_id,
        base_url=emulator.base_url,
        api_key=API_KEY,
        cf_aig_token=emulator.token,
        max_retries=0,
        **kwargs,
    )


def _models(metadata: dict[str, Any]) -> list[str]:
    return [attempt["model"] for attempt in metadata["gateway"]["attempts"]]


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_field_fallbacks_fail_over_and_show_attempts(emulator: Emulator, api: str) -> None:
    emulator.fault(503, model="gpt-4o")
    message = model(emulator, api=api, fallbacks=["gpt-4o-mini"]).invoke("Say hello")
    assert message.content
    assert _models(message.response_metadata) == ["gpt-4o", "gpt-4o-mini"]


def test_per_call_fallbacks_and_streams(emulator: Emulator) -> None:
    chat = model(emulator)
    emulator.fault(429, model="gpt-4o")
    message = chat.invoke("Say hello", fallbacks=["gpt-4o-mini"])
    assert _models(message.response_metadata) == ["gpt-4o", "gpt-4o-mini"]
    emulator.fault(cut_after=0, model="gpt-4o")
    chunks = list(chat.stream("Say hello", fallbacks=["gpt-4o-mini"]))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert merged.content
    assert _models(merged.response_metadata) == ["gpt-4o", "gpt-4o-mini"]


def test_stream_cut_after_content_raises_with_partial_text(emulator: Emulator) -> None:
    emulator.script(text="one two three four five six seven eight", times=None)
    emulator.fault(cut_after=6, model="gpt-4o")
    seen = []
    with pytest.raises(StreamError) as caught:
        for chunk in model(emulator, fallbacks=["gpt-4o-mini"]).stream("Say hello"):
            seen.append(chunk.content)
    assert caught.value.partial_text and caught.value.partial_text == "".join(map(str, seen))


def test_async_fallbacks(emulator: Emulator) -> None:
    async def main() -> tuple[Any, Any]:
        chat = model(emulator, fallbacks=["gpt-4o-mini"])
        emulator.fault(500, model="gpt-4o")
        message = await chat.ainvoke("Say hello")
        emulator.fault(cut_after=0, model="gpt-4o")
        merged = None
        async for chunk in chat.astream("Say hello"):
            merged = chunk if merged is None else merged + chunk
        await chat.aclose() if hasattr(chat, "aclose") else None
        return message, merged

    message, merged = asyncio.run(main())
    assert _models(message.response_metadata) == ["gpt-4o", "gpt-4o-mini"]
    assert _models(merged.response_metadata) == ["gpt-4o", "gpt-4o-mini"]


def test_route_keys_never_serialise(emulator: Emulator) -> None:
    from langchain_core.load import dumps

    chat = model(
        emulator, fallbacks=[{"provider": "groq", "model": "m", "api_key": "gsk-hidden-42"}]
    )
    assert "gsk-hidden-42" not in repr(chat)
    assert "gsk-hidden-42" not in dumps(chat)
