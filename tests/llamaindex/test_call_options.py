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


async def test_extra_headers_are_sent_as_headers_on_every_call_method(
    llm: CloudflareAIGatewayLLM, emulator: Emulator
) -> None:
    headers = {"X-Trace-Id": "trace-1"}
    llm.chat(QUESTION, extra_headers=headers)
    list(llm.stream_chat(QUESTION, extra_headers=headers))
    llm.complete(PROMPT, extra_headers=headers)
    list(llm.stream_complete(PROMPT, extra_headers=headers))
    await llm.achat(QUESTION, extra_headers=headers)
    [c async for c in await llm.astream_chat(QUESTION, extra_headers=headers)]
    requests = model_requests(emulator)
    assert len(requests) == 6
    for request in requests:
        assert request.header("x-trace-id") == "trace-1"
        assert request.header("authorization") == f"Bearer {API_KEY}"
        assert "extra_headers" not in request.json


def test_extra_body_is_merged_into_the_body(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    llm = make_llm(
        api=api, additional_kwargs={"metadata": {"run": "model"}, "service_tier": "auto"}
    )
    llm.chat(QUESTION, extra_body={"service_tier": "flex", "prompt_cache_key": "k1"})
    list(llm.stream_chat(QUESTION, extra_body={"metadata": {"run": "call"}}))
    first, second = model_requests(emulator)
    assert "extra_body" not in first.json and "extra_body" not in second.json
    assert first.json["service_tier"] == "flex" and first.json["prompt_cache_key"] == "k1"
    assert first.json["metadata"] == {"run": "model"}
    assert second.json["metadata"] == {"run": "call"} and second.json["service_tier"] == "auto"
    assert second.json["stream"] is True


def test_model_level_extra_headers_and_body_apply_to_every_call(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    llm = make_llm(
        api=api,
        additional_kwargs={
            "extra_headers": {"X-Team": "search", "X-Run": "model"},
            "extra_body": {"service_tier": "flex"},
        },
    )
    llm.chat(QUESTION)
    llm.chat(QUESTION, extra_headers={"x-run": "call"}, extra_body={"service_tier": "auto"})
    first, second = model_requests(emulator)
    assert first.header("x-team") == "search" and first.header("x-run") == "model"
    assert second.header("x-team") == "search" and second.header("x-run") == "call"
    assert first.json["service_tier"] == "flex" and second.json["service_tier"] == "auto"
    for request in (first, second):
        assert "extra_headers" not in request.json and "extra_body" not in request.json


@pytest.mark.parametrize(
    ("kwargs", "name", "hidden"),
    [
        ({"extra_query": {"api-version": "2024"}}, "extra_query", "2024"),
        ({"extra_headers": {"Authorization": "Bearer sk-stolen-000"}}, "Authorization", "stolen"),
        (
            {"extra_headers": {"cf-aig-authorization": "Bearer x-777"}},
            "cf-aig-authorization",
            "777",
        ),
        ({"extra_headers": 5}, "extra_headers", "5"),
        ({"extra_headers": {"x-bad": "a\r\nb"}}, "extra_headers", "a\r\nb"),
        ({"extra_body": ["service_tier"]}, "extra_body", "service_tier"),
    ],
)
async def test_bad_http_options_raise_and_send_nothing(
    llm: CloudflareAIGatewayLLM,
    emulator: Emulator,
    kwargs: dict[str, Any],
    name: str,
    hidden: str,
) -> None:
    for message in await errors_of_every_call(llm, **kwargs):
        assert name in message
        assert hidden not in message
    assert model_requests(emulator) == []


@pytest.mark.parametrize(
    ("extra", "name"),
    [
        ({"extra_query": {"a": "b"}}, "extra_query"),
        ({"extra_headers": {"Authorization": "Bearer x"}}, "Authorization"),
        ({"extra_body": "service_tier=flex"}, "extra_body"),
    ],
)
def test_bad_http_options_in_additional_kwargs_fail_at_construction(
    make_llm: Callable[..., CloudflareAIGatewayLLM], extra: dict[str, Any], name: str
) -> None:
    with pytest.raises(ConfigurationError, match=name):
        make_llm(additional_kwargs=extra)
