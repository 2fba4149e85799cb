"""The client's own secrets never show: not in errors built from echoed server bytes, not in
``GatewayInfo``, not in tracebacks rendered with locals, not in a half-built client's repr."""

from __future__ import annotations

import asyncio
import os
import pickle
import traceback
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway import ConfigurationError, Gateway, GatewayError, GatewayInfo, Secret
from cf_ai_gateway.config import PROVIDER_KEY_ENV
from cf_ai_gateway.errors import scrub
from cf_ai_gateway.wire.types import ChatRequest, Message

from .testserver import Reply, TestServer

# Secrets without a "Bearer " or "sk-" shape: only knowing the configured values can mask them.
KEY = "plainproviderkey0123456789abcdefXYZ"
TOKEN = "gatewaytoken9876543210zyxwvuTSRQ"
API_TOKEN = "cloudflareapitoken55554444333322"
SECRETS = (KEY, TOKEN, API_TOKEN)


def _texts(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), str(pickle.dumps(error)), str(error.args)]
    if isinstance(error, GatewayError):
        texts += [repr(error.body), repr(error.info)]
        texts.append(str(pickle.loads(pickle.dumps(error))))
    return texts


def _assert_clean(error: BaseException) -> None:
    for text in _texts(error):
        for secret in SECRETS:
            assert secret not in text
            assert secret[:12] not in text and secret[-12:] not in text  # nor a cut-off piece


@pytest.fixture
def gw(server: TestServer) -> Any:
    gateway = Gateway(account_id="acct", api_key=KEY, cf_aig_token=TOKEN, cf_api_token=API_TOKEN,
                      base_url=server.base_url, max_retries=0)
    yield gateway
    gateway.close()


def _echo_lines() -> list[list[bytes]]:
    # A line that does not parse, echoing the token; one long enough to be cut mid-secret.
    return [
        [b"data: {not json " + TOKEN.encode() + b" " + KEY.encode() + b"}\n\n"],
        [b"data: " + b"x" * 105 + TOKEN.encode() + b"\n\n"],
        [b"data: " + b"{" * 3 + API_TOKEN.encode() + b"\n\n"],
    ]


@pytest.mark.parametrize("chunks", _echo_lines())
def test_a_stream_parse_error_quoting_the_token_does_not_hold_it(
    gw: Gateway, server: TestServer, chunks: list[bytes]
) -> None:
    server.queue(Reply(chunks=chunks))
    with pytest.raises(GatewayError) as raw_error:
        list(gw.stream("chat/completions", {"model": "m"}))
    _assert_clean(raw_error.value)

    server.queue(Reply(chunks=chunks))
    request = ChatRequest(model="m", messages=[Message("user", "hi")])
    with pytest.raises(GatewayError) as chat_error:
        list(gw.chat_stream(request))
    _assert_clean(chat_error.value)

    async def run() -> None:
        server.queue(Reply(chunks=chunks))
        with pytest.raises(GatewayError) as async_error:
            async with gw.astream("chat/completions", {"model": "m"}) as events:
                async for _ in events:
                    pass
        _assert_clean(async_error.value)
        await gw.aclose()

    asyncio.run(run())


def test_error_bodies_and_redirects_echoing_the_secrets_are_masked(gw: Gateway, server: TestServer) -> None:
    echo = f"key {KEY} token {TOKEN} api {API_TOKEN}"
    for reply in (
        Reply(status=400, body={"error": {"message": echo, "param": [echo, {echo: echo}]}}),
        Reply(status=401, body=echo),
        Reply(status=400, body={"success": False, "error": [{"code": 2005, "message": echo}],
                                "name": "AiGatewayError"}),
        Reply(status=307, headers={"location": f"https://x.example/{TOKEN}"}, body=b""),
    ):
        server.queue(reply)
        with pytest.raises(GatewayError) as err:
            gw.create("chat/completions", {"model": "m"})
        _assert_clean(err.value)


def test_gateway_info_keeps_gateway_headers_only_and_never_a_reflected_auth_header(
    gw: Gateway, server: TestServer
) -> None:
    server.queue(Reply(body={"ok": True}, headers={
        "cf-aig-log-id": "log1",
        "cf-aig-authorization": f"Bearer {TOKEN}",
        "cf-aig-echo": f"seen {KEY}",
        "authorization": f"Bearer {KEY}",
        "x-other": "1",
    }))
    info = gw.create("chat/completions", {"model": "m"}).info
    assert info.log_id == "log1"
    assert "cf-aig-authorization" not in info.headers and "authorization" not in info.headers
    assert all(name.startswith("cf-aig-") for name in info.headers)
    for text in (repr(info), str(info.headers), repr(info.to_dict())):
        assert KEY not in text and TOKEN not in text
    # Also for headers read outside a client call.
    assert "cf-aig-authorization" not in GatewayInfo.from_headers({"cf-aig-authorization": "x"}).headers


def _library_frames(error: BaseException) -> str:
    """The traceback below the test's own frame, rendered with every frame's locals."""
    tb = error.__traceback__
    assert tb is not None
    frames = traceback.StackSummary.extract(traceback.walk_tb(tb.tb_next), capture_locals=True)
    return "".join(frames.format())


def test_a_half_built_client_has_a_repr_and_locals_can_be_captured() -> None:
    assert "Gateway" in repr(Gateway.__new__(Gateway))
    with pytest.raises(ConfigurationError) as err:
        Gateway(account_id="acct", api_key=Secret(KEY), gateway_id="bad id")
    rendered = _library_frames(err.value)
    assert "self = Gateway(" in rendered and KEY not in rendered


def test_secrets_from_arguments_and_environment_stay_out_of_traceback_locals(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic import SecretStr

    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN)
    for bad in ({"gateway_id": "bad\n"}, {"api_key": SecretStr("Bearer " + KEY)}, {"base_url": "ftp://x"},
                {"cf_aig_token": SecretStr(TOKEN + "\n")}):
        kwargs: dict[str, Any] = {"account_id": "acct", "api_key": SecretStr(KEY), **bad}
        with pytest.raises(ConfigurationError) as err:
            Gateway(**kwargs)
        rendered = _library_frames(err.value)
        assert KEY not in rendered and TOKEN not in rendered


def test_the_pytest_plugin_clears_every_key_variable_the_library_reads(emulator: Any) -> None:
    from cf_ai_gateway.emulator.pytest_plugin import point_environment_at

    names = {*PROVIDER_KEY_ENV.values(), "CF_AIG_PROVIDER_API_KEY", "CF_API_TOKEN"}
    with pytest.MonkeyPatch.context() as mp:
        for name in names:
            mp.setenv(name, "developer-real-key-0123456789")
        values = point_environment_at(emulator, mp)
        for name in names:
            assert os.environ.get(name) in (None, values.get(name))
            assert os.environ.get(name) != "developer-real-key-0123456789"


@pytest.mark.parametrize("url", ["http://example.com/v1", "http://10.0.0.8:8787/v1", "http://gateway.internal"])
def test_plain_http_to_another_machine_is_refused_unless_opted_in(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError) as err:
        Gateway(account_id="acct", api_key=KEY, base_url=url)
    assert "allow_insecure_http" in str(err.value) and "CF_AIG_ALLOW_INSECURE_HTTP" in str(err.value)
    monkeypatch.setenv("CF_AIG_BASE_URL", url)
    with pytest.raises(ConfigurationError, match="CF_AIG_BASE_URL"):
        Gateway(account_id="acct", api_key=KEY)
    assert Gateway(account_id="acct", api_key=KEY, allow_insecure_http=True).config.base_url.startswith("http://")
    monkeypatch.setenv("CF_AIG_ALLOW_INSECURE_HTTP", "1")
    assert Gateway(account_id="acct", api_key=KEY).config.base_url.startswith("http://")


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/v1", "http://localhost:8787/v1", "http://[::1]:9/v1",
                                 "https://example.com/v1"])
def test_loopback_http_and_https_need_no_opt_in(url: str) -> None:
    Gateway(account_id="acct", api_key=KEY, base_url=url)


_SECRET_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_."


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(alphabet=_SECRET_CHARS, min_size=16, max_size=64),
    before=st.text(alphabet=' {}":,[]', max_size=40),
    after=st.text(alphabet=' {}":,[]', max_size=40),
    start=st.integers(0, 120),
    stop=st.integers(0, 200),
)
def test_scrub_leaves_no_piece_of_a_secret_in_a_window_cut_at_either_end(
    secret: str, before: str, after: str, start: int, stop: int
) -> None:
    line = before + secret + after + secret
    # A window that keeps the start or the end of an occurrence, as a truncated quote does.
    for window in (line[:stop], line[start:], line[:stop] + "…"):
        masked = scrub(window, (secret,))
        pieces = {secret[i : i + 8] for i in range(len(secret) - 7)}
        assert not any(piece in masked for piece in pieces), (window, masked)
