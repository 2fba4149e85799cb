"""Client fallbacks against the emulator: which failures move on, streams, attempts, event ids."""

from __future__ import annotations

import asyncio
import pickle
from typing import Any

import pytest

from cf_ai_gateway import (
    ConfigurationError,
    Gateway,
    GatewayAuthenticationError,
    GatewayContentBlockedError,
    ProviderError,
    StreamError,
)
from cf_ai_gateway.emulator import Emulator
from cf_ai_gateway.wire.types import ChatRequest, Message

REQUEST = ChatRequest(model="gpt-4o", messages=[Message(role="user", content="Say hello")])
APIS = ["chat", "responses"]


def gateway(**kwargs: Any) -> Gateway:
    kwargs.setdefault("max_retries", 0)
    return Gateway(**kwargs)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    "fault",
    [
        {"status": 429},
        {"status": 500},
        {"status": 503},
        {"status": 529},
        {"cut_after": 0, "garbage": True},
    ],
    ids=["rate-limit", "500", "503", "529", "garbage"],
)
def test_transient_failure_moves_to_the_next_model(
    emulator: Emulator, api: str, fault: dict[str, Any]
) -> None:
    emulator.fault(model="gpt-4o", **fault)
    gw = gateway(fallbacks=["gpt-4o-mini"])
    result = gw.chat(REQUEST, api=api)  # type: ignore[arg-type]
    assert result.text
    assert result.info is not None
    attempts = result.info.attempts
    assert [a.model for a in attempts] == ["gpt-4o", "gpt-4o-mini"]
    assert attempts[0].error is not None and attempts[1].error is None
    assert attempts[1].status == 200


def test_timeout_moves_to_the_next_model(emulator: Emulator) -> None:
    emulator.fault(delay=5, model="gpt-4o")
    gw = gateway(fallbacks=["gpt-4o-mini"])
    result = gw.chat(REQUEST, options={"request_timeout_ms": 100})
    assert [a.model for a in result.info.attempts] == ["gpt-4o", "gpt-4o-mini"]  # type: ignore[union-attr]
    assert result.info.attempts[0].status == 504  # type: ignore[union-attr]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize(
    "fault",
    [{"status": 400}, {"status": 401}, {"status": 401, "code": 2009}],
    ids=["400", "401", "2009"],
)
def test_client_errors_do_not_fail_over(
    emulator: Emulator, api: str, fault: dict[str, Any]
) -> None:
    emulator.fault(model="gpt-4o", **fault)
    gw = gateway(fallbacks=["gpt-4o-mini"])
    with pytest.raises((ProviderError, GatewayAuthenticationError)) as caught:
        gw.chat(REQUEST, api=api)  # type: ignore[arg-type]
    assert [a.model for a in caught.value.info.attempts] == ["gpt-4o"]
    assert len(emulator.requests) == 1


def test_content_blocked_fails_over_only_when_asked(emulator: Emulator) -> None:
    emulator.fault(status=446, code=2016, model="gpt-4o")
    with pytest.raises(GatewayContentBlockedError):
        gateway(fallbacks=["gpt-4o-mini"]).chat(REQUEST)
    emulator.fault(status=446, code=2016, model="gpt-4o")
    gw = gateway(fallbacks=["gpt-4o-mini"], fallback_on=[GatewayContentBlockedError])
    result = gw.chat(REQUEST)
    assert [a.error for a in result.info.attempts] == ["GatewayContentBlockedError", None]  # type: ignore[union-attr]


def test_last_error_lists_every_attempt_and_shares_one_event_id(emulator: Emulator) -> None:
    emulator.fault(500, times=None)
    gw = gateway()
    with pytest.raises(ProviderError) as caught:
        gw.chat(REQUEST, fallbacks=["gpt-4o-mini", {"provider": "openai", "model": "gpt-4.1"}])
    attempts = caught.value.info.attempts
    assert [a.model for a in attempts] == ["gpt-4o", "gpt-4o-mini", "gpt-4.1"]
    assert all(a.status == 500 and a.log_id for a in attempts)
    assert len({a.log_id for a in attempts}) == 3
    events = [r.header("cf-aig-event-id") for r in emulator.requests]
    assert len(events) == 3 and len(set(events)) == 1 and events[0]
    assert caught.value.info.event_id == events[0]


def test_a_callers_event_id_is_kept(emulator: Emulator) -> None:
    emulator.fault(500, model="gpt-4o")
    gateway(fallbacks=["gpt-4o-mini"]).chat(REQUEST, options={"event_id": "order-17"})
    assert [r.header("cf-aig-event-id") for r in emulator.requests] == ["order-17", "order-17"]


def test_another_provider_route_with_its_own_key(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk-test-key-123")
    emulator.fault(503, model="gpt-4o")
    gw = gateway(fallbacks=[{"provider": "groq", "model": "llama-3.3-70b-versatile"}])
    result = gw.chat(REQUEST)
    assert [(a.provider, a.model) for a in result.info.attempts] == [  # type: ignore[union-attr]
        ("openai", "gpt-4o"),
        ("groq", "llama-3.3-70b-versatile"),
    ]
    gw.close()


@pytest.mark.parametrize(
    "fallbacks",
    ["gpt-4o-mini", [3], [{"model": ""}], [{"model": "x", "tier": 1}], [{"provider": "groq"}]],
)
def test_bad_entries_are_refused_before_sending(emulator: Emulator, fallbacks: Any) -> None:
    with pytest.raises(ConfigurationError, match="fallbacks"):
        gateway().chat(REQUEST, fallbacks=fallbacks)
    with pytest.raises(ConfigurationError, match="fallbacks"):
        gateway(fallbacks=fallbacks)
    assert emulator.requests == []


def test_missing_provider_key_is_refused_before_sending(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    emulator.configure(authenticated=False)
    emulator.fault(500, times=None)
    with pytest.raises(ConfigurationError, match="MISTRAL_API_KEY"):
        gateway(api_key="sk-x").chat(REQUEST, fallbacks=[{"provider": "mistral", "model": "m"}])


@pytest.mark.parametrize("api", APIS)
def test_stream_fails_over_before_its_first_delta(emulator: Emulator, api: str) -> None:
    emulator.fault(cut_after=0, model="gpt-4o", abort=True)
    gw = gateway(fallbacks=["gpt-4o-mini"])
    with gw.chat_stream(REQUEST, api=api) as stream:  # type: ignore[arg-type]
        text = "".join(d.text for d in stream)
    assert text
    assert [a.model for a in stream.info.attempts] == ["gpt-4o", "gpt-4o-mini"]
    assert stream.result().info.attempts == stream.info.attempts  # type: ignore[union-attr]


@pytest.mark.parametrize("api", APIS)
def test_stream_failure_after_content_is_a_stream_error_with_the_partial_text(
    emulator: Emulator, api: str
) -> None:
    emulator.script(text="one two three four five six seven eight", times=None)
    emulator.fault(cut_after=6, model="gpt-4o")
    gw = gateway(fallbacks=["gpt-4o-mini"])
    seen = []
    with pytest.raises(StreamError) as caught, gw.chat_stream(REQUEST, api=api) as stream:  # type: ignore[arg-type]
        for delta in stream:
            seen.append(delta.text)
    assert caught.value.partial_text == "".join(seen)
    assert caught.value.partial_text
    assert [a.model for a in caught.value.info.attempts] == ["gpt-4o"]
    assert pickle.loads(pickle.dumps(caught.value)).partial_text == caught.value.partial_text


@pytest.mark.parametrize("api", APIS)
def test_async_calls_fail_over(emulator: Emulator, api: str) -> None:
    async def main() -> tuple[Any, str, Any]:
        gw = gateway(fallbacks=["gpt-4o-mini"])
        emulator.fault(502, model="gpt-4o")
        result = await gw.achat(REQUEST, api=api)  # type: ignore[arg-type]
        emulator.fault(cut_after=0, model="gpt-4o")
        async with gw.achat_stream(REQUEST, api=api) as stream:  # type: ignore[arg-type]
            text = "".join([d.text async for d in stream])
        emulator.script(text="one two three four five six seven eight", times=None)
        emulator.fault(cut_after=6, model="gpt-4o")
        with pytest.raises(StreamError) as caught:
            async with gw.achat_stream(REQUEST, api=api) as cut:  # type: ignore[arg-type]
                async for _ in cut:
                    pass
        await gw.aclose()
        return result, text, (stream.info, caught.value)

    result, text, (info, error) = asyncio.run(main())
    assert [a.model for a in result.info.attempts] == ["gpt-4o", "gpt-4o-mini"]
    assert text and [a.model for a in info.attempts] == ["gpt-4o", "gpt-4o-mini"]
    assert error.partial_text


def test_per_call_empty_list_turns_fallbacks_off(emulator: Emulator) -> None:
    emulator.fault(500, model="gpt-4o")
    with pytest.raises(ProviderError):
        gateway(fallbacks=["gpt-4o-mini"]).chat(REQUEST, fallbacks=[])


CHAIN = {"model": "openai/gpt-4o-mini", "fallback": {"model": "groq/llama-3.3-70b"}}


def test_dynamic_route_reports_the_model_it_chose(emulator: Emulator) -> None:
    emulator.configure(routes={"support": CHAIN})
    emulator.fault(503, model="gpt-4o-mini")
    gw = gateway(provider="compat", api_key=None, auth_mode="byok")
    result = gw.chat(ChatRequest(model="dynamic/support", messages=REQUEST.messages))
    assert (result.info.model, result.info.provider) == ("llama-3.3-70b", "groq")  # type: ignore[union-attr]


def test_dynamic_route_on_the_responses_api_is_refused_before_sending(emulator: Emulator) -> None:
    gw = gateway(provider="compat", api_key=None, auth_mode="byok")
    request = ChatRequest(model="dynamic/support", messages=REQUEST.messages)
    with pytest.raises(ConfigurationError, match="Responses"):
        gw.chat(request, api="responses")
    with pytest.raises(ConfigurationError, match="Responses"):
        gw.create("responses", {"model": "dynamic/support", "input": "hi"})
    with pytest.raises(ConfigurationError, match="Responses"):
        gateway(provider="compat", api_key=None, auth_mode="byok").chat(
            ChatRequest(model="openai/gpt-4o", messages=REQUEST.messages),
            api="responses",
            fallbacks=["dynamic/support"],
        )
    assert emulator.requests == []


def test_dynamic_route_on_the_rest_surface_needs_a_gateway_id(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CF_AIG_GATEWAY_ID", raising=False)
    monkeypatch.delenv("CF_AIG_BASE_URL", raising=False)
    emulator.configure(routes={"support": {**CHAIN, "gateway": "prod"}})
    request = ChatRequest(model="dynamic/support", messages=REQUEST.messages)
    rest = {"surface": "rest", "base_url": None, "api_key": None, "cf_aig_token": None}
    with pytest.raises(ConfigurationError, match="gateway_id"):
        gateway(**rest).chat(request)
    assert emulator.requests == []
    result = gateway(gateway_id="prod", **rest).chat(request)
    assert result.info.model == "gpt-4o-mini"  # type: ignore[union-attr]


@pytest.mark.parametrize("named", ["argument", "environment"])
def test_dynamic_route_on_the_default_gateway_named_explicitly_is_sent(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, named: str
) -> None:
    # "default" is a real gateway (created on first use) and routes can live on it; the docs
    # ask only that the REST request name the gateway that owns the route.
    monkeypatch.delenv("CF_AIG_BASE_URL", raising=False)
    monkeypatch.delenv("CF_AIG_GATEWAY_ID", raising=False)
    emulator.configure(routes={"support": {**CHAIN, "gateway": "default"}})
    rest: dict[str, Any] = {"surface": "rest", "base_url": None, "api_key": None, "cf_aig_token": None}
    if named == "argument":
        rest["gateway_id"] = "default"
    else:
        monkeypatch.setenv("CF_AIG_GATEWAY_ID", "default")
    request = ChatRequest(model="dynamic/support", messages=REQUEST.messages)
    result = gateway(**rest).chat(request)
    assert result.info.model == "gpt-4o-mini"  # type: ignore[union-attr]
    (sent,) = emulator.requests
    assert sent.header("cf-aig-gateway-id") == "default"


def test_dynamic_route_refusal_says_why_and_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CF_AIG_GATEWAY_ID", raising=False)
    monkeypatch.delenv("CF_AIG_BASE_URL", raising=False)
    gw = gateway(surface="rest", account_id="acct", cf_api_token="cf-api-token-0123456789",
                 base_url=None, api_key=None, cf_aig_token=None)
    with pytest.raises(ConfigurationError) as caught:
        gw.chat(ChatRequest(model="dynamic/support", messages=REQUEST.messages))
    message = str(caught.value)
    for part in ("gateway_id", "CF_AIG_GATEWAY_ID", "404", "gateway_id='default'"):
        assert part in message
