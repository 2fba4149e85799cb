"""The official OpenAI SDK through `Gateway.openai_client()`, end to end against the emulator.

A tool-call round trip on both endpoints, streaming, the gateway's cache seen through
`GatewayInfo`, the gateway's own 401 told apart from a provider error, the SDK's retries, the
other OpenAI-wire providers, the compat endpoint and the REST surface, and feedback on the log
of an SDK call.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cf_ai_gateway import Gateway, GatewayAuthenticationError

from .conftest import API_TOKEN, GATEWAY_TOKEN, assert_byok_wire, model_requests

openai = pytest.importorskip("openai")

from cf_ai_gateway.openai_client import gateway_error, gateway_headers, gateway_info  # noqa: E402

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_chat_tool_round_trip(emulator: Any, gateway_on: Callable[..., Gateway]) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Use get_weather: what is the weather in Paris?"}
    ]
    with gateway_on().openai_client() as client:
        first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL])
        (call,) = first.choices[0].message.tool_calls
        assert call.function.name == "get_weather"
        assert isinstance(json.loads(call.function.arguments)["city"], str)
        messages += [
            first.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21C"},
        ]
        second = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER_TOOL])
    assert "Sunny, 21C" in second.choices[0].message.content
    assert_byok_wire(model_requests(emulator, "chat/completions"))


def test_responses_stream_and_cache(emulator: Any, gateway_on: Callable[..., Gateway]) -> None:
    with gateway_on(gateway_options={"cache_ttl": 600}).openai_client() as client:
        with client.responses.with_streaming_response.create(
            model="gpt-4o-mini", input="stream a short answer", stream=True
        ) as raw:
            info = gateway_info(raw)
            events = list(raw.parse())
        text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
        assert events[-1].type == "response.completed"
        assert "stream a short answer" in text
        assert info.log_id and emulator.log(info.log_id) is not None

        cached = [
            gateway_info(client.chat.completions.with_raw_response.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "cache me"}],
                extra_headers=gateway_headers(cache_key="cache-me"),  # opts in: a TTL alone does not
            ))
            for _ in range(2)
        ]
        skipped = gateway_info(client.chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "cache me"}],
            extra_headers=gateway_headers(skip_cache=True),
        ))
    assert [i.cache_status for i in cached] == ["MISS", "HIT"]
    assert skipped.cache_status != "HIT"
    requests = model_requests(emulator, "chat/completions")
    assert all(r.header("cf-aig-cache-ttl") == "600" for r in requests)
    assert requests[-1].header("cf-aig-skip-cache") == "true"


def test_gateway_401_and_sdk_retries(emulator: Any, gateway_on: Callable[..., Gateway]) -> None:
    bad_gateway = gateway_on(cf_aig_token="not-the-gateway-token-00")
    with bad_gateway.openai_client() as client, pytest.raises(openai.AuthenticationError) as caught:
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    error = gateway_error(caught.value)
    assert isinstance(error, GatewayAuthenticationError) and error.code == 2009
    assert "not-the-gateway-token-00" not in str(error)

    emulator.fault(503, headers={"retry-after-ms": "1"}, times=1)
    with gateway_on(max_retries=1).openai_client() as client:
        out = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "retry"}])
    assert "retry" in out.choices[0].message.content
    retried = model_requests(emulator, "chat/completions")[-2:]
    assert [r.header("x-stainless-retry-count") for r in retried] == ["0", "1"]


@pytest.mark.parametrize(
    ("provider", "model", "path"),
    [
        ("groq", "llama-3.3-70b-versatile", "groq/chat/completions"),
        ("mistral", "mistral-large-latest", "mistral/v1/chat/completions"),
        ("deepseek", "deepseek-chat", "deepseek/chat/completions"),
        ("grok", "grok-4", "grok/chat/completions"),
        ("workers-ai", "@cf/meta/llama-3.1-8b-instruct", "workers-ai/v1/chat/completions"),
        ("openrouter", "openai/gpt-4o-mini", "openrouter/chat/completions"),
        ("custom-acme", "acme-1", "custom-acme/v1/chat/completions"),
        ("compat", "openai/gpt-4o-mini", "compat/chat/completions"),
    ],
)
def test_other_providers_through_the_sdk(
    provider: str, model: str, path: str, emulator: Any, gateway_on: Callable[..., Gateway]
) -> None:
    with gateway_on(provider=provider).openai_client() as client:
        out = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi there"}])
    assert "hi there" in out.choices[0].message.content
    (request,) = model_requests(emulator, "chat/completions")
    assert request.path == f"/v1/{emulator.account_id}/default/{path}"
    assert_byok_wire([request])


def test_rest_surface_through_the_sdk(emulator: Any, gateway_on: Callable[..., Gateway]) -> None:
    gateway = gateway_on(base_url=emulator.api_base_url, cf_aig_token=None, gateway_id="default")
    assert gateway.config.auth_mode == "rest"
    with gateway.openai_client() as client:
        out = client.chat.completions.create(
            model="openai/gpt-4.1", messages=[{"role": "user", "content": "rest call"}]
        )
    assert "rest call" in out.choices[0].message.content
    (request,) = model_requests(emulator, "chat/completions")
    assert request.path == f"/client/v4/accounts/{emulator.account_id}/ai/v1/chat/completions"
    assert request.header("authorization") == f"Bearer {API_TOKEN}"
    assert request.header("cf-aig-gateway-id") == "default"
    assert request.header("cf-aig-authorization") is None


async def test_feedback_on_an_async_sdk_call(emulator: Any, gateway_on: Callable[..., Gateway]) -> None:
    gateway = gateway_on()
    async with gateway.async_openai_client() as client:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "rate me"}], stream=True
        )
        log_id = gateway_info(stream).log_id
        async for _ in stream:
            pass
    assert log_id
    entry = await gateway.afeedback(log_id, feedback=1, score=80)
    logged = await gateway.logs.aget(log_id)
    await gateway.aclose()
    assert entry == {}  # the documented answer: {"result": {}, "success": true}
    assert (logged.feedback, logged.score) == (1, 80)
    assert emulator.log(log_id).feedback == 1
    patch = emulator.requests[-2]
    assert patch.method == "PATCH" and patch.header("authorization") == f"Bearer {API_TOKEN}"
    assert GATEWAY_TOKEN not in str(patch.headers)


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_streams_of_a_gateway_with_guardrails_arrive_whole(
    emulator: Any, gateway_on: Callable[..., Gateway], api: str
) -> None:
    # With Guardrails on, the gateway answers a stream request with one JSON reply.
    gw = gateway_on()
    emulator.configure(
        token=GATEWAY_TOKEN, api_token=API_TOKEN, guardrails={"response": {"never-said": "block"}}
    )
    emulator.script(text="a guarded answer")
    emulator.script(text="a guarded answer")
    with gw.openai_client() as client:
        if api == "chat":
            stream = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        else:
            events = list(client.responses.create(model="gpt-4o-mini", input="hi", stream=True))
            text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
            assert events[-1].type == "response.completed"
    assert text == "a guarded answer"
    async with gw.async_openai_client() as aclient:
        if api == "chat":
            astream = await aclient.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            chunks = [c async for c in astream]
            atext = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        else:
            aevents = [
                e
                async for e in await aclient.responses.create(
                    model="gpt-4o-mini", input="hi", stream=True
                )
            ]
            atext = "".join(e.delta for e in aevents if e.type == "response.output_text.delta")
    assert atext == "a guarded answer"
