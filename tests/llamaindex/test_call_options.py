"""Per-call keyword arguments of ``CloudflareAIGatewayLLM`` calls, checked on the wire.

Bad per-call values must raise ``ConfigurationError`` naming the argument before anything is
sent, without echoing the value, on every call method and both endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.emulator import Emulator
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

from .conftest import API_KEY, model_requests

QUESTION = [ChatMessage(role="user", content="Check my call options.")]
PROMPT = "Check my call options."


async def errors_of_every_call(llm: CloudflareAIGatewayLLM, **kwargs: Any) -> list[str]:
    """Each call method once with ``kwargs``; each must raise ``ConfigurationError``."""
    calls: list[Callable[[], Any]] = [
        lambda: llm.chat(QUESTION, **kwargs),
        lambda: list(llm.stream_chat(QUESTION, **kwargs)),
        lambda: llm.complete(PROMPT, **kwargs),
        lambda: list(llm.stream_complete(PROMPT, **kwargs)),
    ]
    messages = []
    for call in calls:
        with pytest.raises(ConfigurationError) as info:
            call()
        messages.append(str(info.value))
    with pytest.raises(ConfigurationError) as info:
        await llm.achat(QUESTION, **kwargs)
    messages.append(str(info.value))
    with pytest.raises(ConfigurationError) as info:
        [c async for c in await llm.astream_chat(QUESTION, **kwargs)]
    messages.append(str(info.value))
    return messages


@pytest.mark.parametrize(
    ("kwargs", "name", "hidden"),
    [
        ({"timeout": "soon"}, "timeout", "soon"),
        ({"timeout": -3}, "timeout", "-3"),
        ({"stop": 5}, "stop", "5"),
        ({"stop": ["END", 7]}, "stop", "END"),
    ],
)
async def test_bad_per_call_values_raise_and_send_nothing(
    llm: CloudflareAIGatewayLLM,
    emulator: Emulator,
    kwargs: dict[str, Any],
    name: str,
    hidden: str,
) -> None:
    messages = await errors_of_every_call(llm, **kwargs)
    assert len(messages) == 6
    for message in messages:
        assert name in message
        assert hidden not in message
        assert API_KEY not in message
    assert model_requests(emulator) == []


def test_good_per_call_timeout_and_stop_are_used(
    llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator
) -> None:
    import httpx

    assert llm.chat(QUESTION, timeout=30, stop="END").message.content
    assert llm.chat(QUESTION, timeout=httpx.Timeout(30.0), stop=("A", "B")).message.content
    first, second = model_requests(emulator)
    if api == "chat":
        assert first.json["stop"] == ["END"] and second.json["stop"] == ["A", "B"]
