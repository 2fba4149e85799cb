"""The core client against the local gateway emulator: auth outcomes, cache, errors, streams."""

from __future__ import annotations

from typing import Any

import pytest

from cf_ai_gateway import (
    Gateway,
    GatewayAuthenticationError,
    GatewayNotFoundError,
    GatewayRateLimitError,
    ProviderError,
    StreamError,
)
from cf_ai_gateway.emulator import Emulator
from cf_ai_gateway.wire.types import ChatRequest, Message

TOKEN = "emulator-gateway-token-123"
KEY = "sk-emulator-provider-key-456"
REQUEST = ChatRequest(model="gpt-4o-mini", messages=[Message(role="user", content="What is Cloudflare?")])


@pytest.fixture(scope="module")
def authed() -> Any:
    with Emulator(token=TOKEN, gateways=["default", "prod"]) as emu:
        yield emu


def gateway(emu: Emulator, **kwargs: Any) -> Gateway:
    kwargs.setdefault("account_id", emu.account_id)
    kwargs.setdefault("base_url", emu.base_url)
    kwargs.setdefault("max_retries", 0)
    return Gateway(**kwargs)


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize(
    ("secrets", "sends_authorization"),
    [({"api_key": KEY, "cf_aig_token": TOKEN}, True), ({"cf_aig_token": TOKEN}, False)],
    ids=["authenticated", "byok"],
)
def test_authenticated_gateway_serves_both_modes(
    authed: Emulator, api: str, secrets: dict[str, str], sends_authorization: bool
) -> None:
    authed.reset()
    gw = gateway(authed, **secrets)
    result = gw.chat(REQUEST, api=api)  # type: ignore[arg-type]
    assert "Cloudflare" in result.text
    assert result.info.log_id and result.usage and result.usage.total_tokens > 0
    sent = authed.requests[-1].headers
    assert sent["cf-aig-authorization"] == f"Bearer {TOKEN}"
    assert ("authorization" in sent) is sends_authorization


def test_wrong_gateway_token_is_the_gateways_2009(authed: Emulator) -> None:
    gw = gateway(authed, api_key=KEY, cf_aig_token="not-the-token-000")
    with pytest.raises(GatewayAuthenticationError) as err:
        gw.chat(REQUEST)
    assert err.value.code == 2009 and err.value.status_code == 401 and err.value.log_id


def test_unauthenticated_request_to_authenticated_gateway(authed: Emulator) -> None:
    with pytest.raises(GatewayAuthenticationError):
        gateway(authed, api_key=KEY).chat(REQUEST)


def test_the_default_emulator_is_authenticated_and_its_env_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    with Emulator() as emu:
        with pytest.raises(GatewayAuthenticationError):
            gateway(emu, api_key=KEY).chat(REQUEST)
        for name, value in emu.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
        with Gateway.from_env(max_retries=0) as gw:
            result = gw.chat(REQUEST)
        assert gw.config.auth_mode == "byok" and result.text
        assert emu.logs[-1].authentication is True and emu.logs[-1].byok is True


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_uuid7_log_ids_reach_gateway_info_and_feedback(api: str) -> None:
    with Emulator() as emu:
        gw = gateway(emu, cf_aig_token=emu.token, api_base_url=emu.api_base_url, cf_api_token="cf-api-token-000")
        result = gw.chat(REQUEST, api=api)  # type: ignore[arg-type]
        log_id = result.info.log_id
        assert log_id and len(log_id) == 36 and log_id[14] == "7" and log_id == log_id.lower()
        assert result.info.event_id == log_id
        gw.feedback(log_id, feedback=1, score=90)
        entry = emu.log(log_id)
        assert entry is not None and (entry.feedback, entry.score) == (1, 90)
        with pytest.raises(GatewayAuthenticationError) as err:
            gateway(emu, cf_aig_token="wrong-token-000000").chat(REQUEST)
        assert err.value.log_id and len(err.value.log_id) == 36


def test_unknown_gateway_is_2001(authed: Emulator) -> None:
    with pytest.raises(GatewayNotFoundError) as err:
        gateway(authed, cf_aig_token=TOKEN, gateway_id="nope").chat(REQUEST)
    assert err.value.code == 2001


def test_provider_401_passes_through_on_unauthenticated_gateway() -> None:
    with Emulator(authenticated=False, api_key=KEY) as emu:
        with pytest.raises(ProviderError) as err:
            gateway(emu, api_key="sk-wrong-key-000000").chat(REQUEST)
        assert err.value.status_code == 401 and err.value.code is None
        assert not isinstance(err.value, GatewayAuthenticationError)
        assert gateway(emu, api_key=KEY).chat(REQUEST).text


def test_cache_miss_then_hit_and_skip(authed: Emulator) -> None:
    authed.reset()
    ttl_only = gateway(authed, cf_aig_token=TOKEN, gateway_options={"cache_ttl": 300})
    assert [ttl_only.chat(REQUEST).info.cache_status for _ in range(2)] == ["MISS", "MISS"]  # a TTL alone: off
    gw = gateway(authed, cf_aig_token=TOKEN, gateway_options={"cache_key": "what-is-cloudflare", "cache_ttl": 300})
    first, second = gw.chat(REQUEST), gw.chat(REQUEST)
    assert (first.info.cache_status, second.info.cache_status) == ("MISS", "HIT")
    assert second.text == first.text
    third = gw.chat(REQUEST, options={"skip_cache": True})
    assert third.info.cache_status != "HIT"


def test_rate_limit_is_retried_then_raised() -> None:
    with Emulator(rate_limit=1) as emu:
        gw = gateway(emu, api_key=KEY, cf_aig_token=emu.token, max_retries=1, retry_base_delay=0.001)
        gw.chat(REQUEST)
        with pytest.raises(GatewayRateLimitError) as err:
            gw.chat(REQUEST)
        assert err.value.code == 2003
        assert len(emu.requests) == 3  # the 429 was retried once


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_streams_and_cut_streams(authed: Emulator, api: str) -> None:
    authed.reset()
    gw = gateway(authed, cf_aig_token=TOKEN, gateway_options={"event_id": "evt-7"})
    with gw.chat_stream(REQUEST, api=api) as stream:  # type: ignore[arg-type]
        assert stream.info.log_id and stream.info.event_id == "evt-7"
        text = "".join(d.text for d in stream)
    assert text == stream.result().text and "Cloudflare" in text
    authed.fault(cut_after=3)
    with pytest.raises(StreamError):
        async with gw.achat_stream(REQUEST, api=api) as astream:  # type: ignore[arg-type]
            async for _ in astream:
                pass
    await gw.aclose()
