"""Bad input is a ``ConfigurationError`` naming the argument, raised before anything is sent:
the loopback server counts zero requests."""

from __future__ import annotations

import asyncio
import math
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway import ConfigurationError, Gateway, GatewayOptions
from cf_ai_gateway.wire.types import ChatRequest, Message

from .conftest import ACCOUNT, API_KEY
from .testserver import TestServer


def _gateway(server: TestServer, **kwargs: Any) -> Gateway:
    kwargs.setdefault("account_id", ACCOUNT)
    kwargs.setdefault("api_key", API_KEY)
    kwargs.setdefault("base_url", server.base_url)
    return Gateway(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"account_id": "acc\n"}, "account_id"),
        ({"gateway_id": "gw\n"}, "gateway_id"),
        ({"gateway_id": "\ngw"}, "gateway_id"),
        ({"provider": "openai\n"}, "provider"),
        ({"base_url": "https://example.com:abc/v1"}, "base_url"),
        ({"base_url": "https://example.com:99999/v1"}, "base_url"),
        ({"base_url": "https://xn--zz.com/v1"}, "base_url"),
        ({"base_url": "https://\u2603.com/v1"}, "base_url"),
        ({"base_url": "https://exa\u00a0mple.com/v1"}, "base_url"),
        ({"base_url": "https://example.com/v1\u2003"}, "base_url"),
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"timeout": 10**400}, "timeout"),
        ({"retry_base_delay": -1}, "retry_base_delay"),
        ({"retry_base_delay": math.nan}, "retry_base_delay"),
        ({"retry_base_delay": "0.5"}, "retry_base_delay"),
        ({"max_retries": 10**9}, "max_retries"),
        ({"gateway_options": {"custom_cost": {"per_token_in": 10**400}}}, "custom_cost"),
        ({"gateway_options": {"event_id": " padded"}}, "event_id"),
        ({"gateway_options": {"event_id": "padded "}}, "event_id"),
        ({"gateway_options": {"cache_key": "a\tb"}}, "cache_key"),
        ({"gateway_options": {"metadata": {"n": 10**400}}}, "metadata"),
        ({"default_headers": {"x-a": " v"}}, "default_headers"),
        ({"default_headers": {"x-a": "v\x01"}}, "default_headers"),
        ({"default_headers": {"cf-aig-cache-ttl": "60"}}, "gateway_options"),
    ],
)
def test_bad_construction_arguments_are_refused(server: TestServer, kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        _gateway(server, **kwargs)
    assert server.requests == []


@pytest.mark.parametrize(
    ("name", "value"),
    [("CF_ACCOUNT_ID", "acc\n"), ("CF_AIG_GATEWAY_ID", "gw\n"), ("CF_AIG_EVENT_ID", "ev\n"),
     ("CF_AIG_CACHE_KEY", " k"), ("CF_AIG_BASE_URL", "https://example.com:8o8o/v1")],
)
def test_bad_environment_values_are_refused_naming_the_variable(
    server: TestServer, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    kwargs: dict[str, Any] = {"api_key": API_KEY}
    if name != "CF_ACCOUNT_ID":
        kwargs["account_id"] = ACCOUNT
    if name != "CF_AIG_BASE_URL":
        kwargs["base_url"] = server.base_url
    with pytest.raises(ConfigurationError, match=name):
        Gateway(**kwargs)
    assert server.requests == []


def test_bad_call_input_is_refused_before_sending(server: TestServer) -> None:
    gw = _gateway(server, max_retries=2)
    deep: Any = []
    for _ in range(100_000):
        deep = [deep]
    calls = [
        lambda: gw.create("chat/completions", {"messages": deep}),
        lambda: gw.create("chat/completions", {"m": 1}, timeout=math.inf),
        lambda: gw.create("chat/completions", {"m": 1}, extra_headers={"x-a": "v "}),
        lambda: gw.create("chat/completions", {"m": 1}, extra_headers={"x-a": "a\tb"}),
        lambda: gw.create("chat/completions", {"m": 1}, extra_headers={"cf-aig-cache-ttl": "60"}),
        lambda: gw.create("chat/completions", {"m": 1}, options={"event_id": "e\n"}),
        lambda: gw.create("chat/completions", {"m": 1}, options={"custom_cost": {"total_cost": 10**400}}),
        lambda: gw.chat(ChatRequest(model="m", messages=[Message("user", 123)])),  # type: ignore[arg-type]
        lambda: gw.chat(ChatRequest(model="m", messages=None)),  # type: ignore[arg-type]
        lambda: list(gw.chat_stream(ChatRequest(model="m", messages=None))),  # type: ignore[arg-type]
        lambda: gw.feedback("log1", score=10**400),
        lambda: gw.feedback("log1\n", score=5),
    ]
    for call in calls:
        with pytest.raises(ConfigurationError):
            call()
    assert server.requests == []


def test_cf_aig_headers_in_extra_headers_point_to_gateway_options(server: TestServer) -> None:
    gw = _gateway(server)
    with pytest.raises(ConfigurationError, match="gateway_options"):
        gw.create("chat/completions", {}, extra_headers={"CF-AIG-Skip-Cache": "true"})

    async def run() -> None:
        with pytest.raises(ConfigurationError, match="gateway_options"):
            await gw.acreate("chat/completions", {}, extra_headers={"cf-aig-event-id": "x"})
        await gw.aclose()

    asyncio.run(run())
    assert server.requests == []


@settings(max_examples=60, deadline=None)
@given(value=st.text(max_size=12))
def test_option_text_is_sent_only_when_it_is_a_clean_header_value(value: str) -> None:
    clean = bool(value) and value.isascii() and value == value.strip() and all(
        0x20 <= ord(ch) < 0x7F for ch in value
    )
    try:
        headers = GatewayOptions(event_id=value).to_headers()
    except ConfigurationError as exc:
        assert not clean and "event_id" in str(exc)
    else:
        assert clean and headers == {"cf-aig-event-id": value}


def test_the_provider_rule_in_the_message_is_the_real_rule() -> None:
    with pytest.raises(ConfigurationError) as err:
        Gateway(account_id=ACCOUNT, api_key=API_KEY, provider="my_provider")
    message = str(err.value)
    assert "no '_'" in message and "lower-case" in message


def test_the_emulator_command_refuses_a_bad_port_in_one_line() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for args in (["--port", "99999"], ["--port", "http"], ["--rate-limit", "0"], ["--gateway", "bad/id"],
                 ["--host", "bad host!"], ["--host", "a..b"]):
        result = subprocess.run([sys.executable, "-m", "cf_ai_gateway.cli", "emulator", *args],
                                capture_output=True, text=True, timeout=60, env=env)
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
        assert "Traceback" not in result.stderr
