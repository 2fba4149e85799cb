"""One resolver of settings: each ``CF_AIG_<OPTION>`` variable reaches the emulator as its header
through every way of building a client (core, both adapters, ``load_adapter``, the CLI with and
without ``--emulator``), and a bad value gives the same message everywhere."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import cf_ai_gateway.emulator as emulator_module
from cf_ai_gateway import ConfigurationError, Gateway, GatewayError, GatewayOptions, load_adapter
from cf_ai_gateway.cli import main
from cf_ai_gateway.emulator import Emulator

# One valid value per option, as its environment variable spells it.
ENV_VALUES: dict[str, str] = {
    "cache_ttl": "600",
    "skip_cache": "true",
    "cache_key": "key-1",
    "metadata": '{"team":"search"}',
    "collect_log": "false",
    "collect_log_payload": "false",
    "event_id": "event-1",
    "request_timeout_ms": "30000",
    "max_attempts": "2",
    "retry_delay_ms": "100",
    "backoff": "linear",
    "custom_cost": '{"per_token_in":0.000001}',
    "byok_alias": "alias-1",
    "zdr": "true",
    "no_wholesale": "true",
    "session_id": "session-1",
    "turn_id": "turn-1",
    "no_session_affinity": "true",
    "allowed_models": "gpt-4o-mini",
    "allowed_providers": "openai",
    "otel_trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
    "otel_parent_span_id": "00f067aa0ba902b7",
}


def _langchain() -> None:
    from langchain_cf_ai_gateway import ChatCloudflareAIGateway

    ChatCloudflareAIGateway(max_retries=0).invoke("hi")


def _llama_index() -> None:
    from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

    CloudflareAIGatewayLLM(max_retries=0).complete("hi")


def _core(from_env: bool) -> Callable[[], None]:
    def call() -> None:
        gw = Gateway.from_env(max_retries=0) if from_env else Gateway(max_retries=0)
        with gw:
            gw.create("chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})

    return call


def _loaded(name: str) -> Callable[[], None]:
    def call() -> None:
        if name == "openai":
            client = load_adapter("openai", max_retries=0)
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        elif name == "langchain":
            load_adapter("langchain", max_retries=0).invoke("hi")
        else:
            load_adapter("llama_index", max_retries=0).complete("hi")

    return call


def _cli(*args: str) -> Callable[[], None]:
    def call() -> None:
        main(list(args))

    return call


PATHS: dict[str, Callable[[], None]] = {
    "Gateway()": _core(False),
    "Gateway.from_env()": _core(True),
    "ChatCloudflareAIGateway()": _langchain,
    "CloudflareAIGatewayLLM()": _llama_index,
    "load_adapter('langchain')": _loaded("langchain"),
    "load_adapter('llama_index')": _loaded("llama_index"),
    "load_adapter('openai')": _loaded("openai"),
    "cf-ai-gateway chat": _cli("chat", "--no-stream", "hi"),
}
EMULATED_PATHS: dict[str, Callable[[], None]] = {
    "cf-ai-gateway chat --emulator": _cli("chat", "--emulator", "hi"),
    "cf-ai-gateway doctor --emulator": _cli("doctor", "--emulator"),
}


@contextlib.contextmanager
def _recording_emulators(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Emulator]]:
    """The emulators the CLI starts in-process, kept for inspection (they are real servers)."""
    started: list[Emulator] = []

    class Recorded(Emulator):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(emulator_module, "Emulator", Recorded)
    yield started


def _call_ignoring_gateway_errors(call: Callable[[], None]) -> None:
    try:
        call()
    except GatewayError:
        pass  # an option the emulated gateway refuses (byok_alias) still reached it
    except Exception as exc:  # the openai SDK's own errors
        if type(exc).__module__.split(".")[0] != "openai":
            raise


def test_every_option_variable_reaches_the_gateway_through_every_client(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {f"CF_AIG_{field.upper()}": value for field, value in ENV_VALUES.items()}
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    expected = GatewayOptions.from_env(environ).to_headers()
    assert set(ENV_VALUES) == set(GatewayOptions.header_names()) and len(expected) == len(ENV_VALUES)

    def check(label: str, sent: list[Any]) -> None:
        assert sent, f"{label} sent nothing"
        for request in sent:
            missing = {h: v for h, v in expected.items() if request.header(h) != v}
            assert not missing, f"{label} did not send {missing}"

    for label, call in PATHS.items():
        before = len(emulator.requests)
        _call_ignoring_gateway_errors(call)
        check(label, emulator.requests[before:])
    with _recording_emulators(monkeypatch) as started:
        for label, call in EMULATED_PATHS.items():
            _call_ignoring_gateway_errors(call)
            check(label, started[-1].requests)
    out = capsys.readouterr().out
    assert "cache_ttl=600" in out and "event_id='event-1'" in out  # doctor shows what it sends


def _message_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ConfigurationError) as err:
        call()
    return err.value.message


def test_a_bad_option_variable_gives_the_same_message_everywhere(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from langchain_cf_ai_gateway import ChatCloudflareAIGateway
    from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

    monkeypatch.setenv("CF_AIG_CACHE_TTL", "5")
    before = len(emulator.requests)
    messages = {
        _message_of(Gateway),
        _message_of(Gateway.from_env),
        _message_of(ChatCloudflareAIGateway),
        _message_of(CloudflareAIGatewayLLM),
        _message_of(lambda: load_adapter("langchain")),
        _message_of(lambda: load_adapter("llama_index")),
        _message_of(lambda: load_adapter("openai")),
    }
    assert len(messages) == 1
    (message,) = messages
    assert "CF_AIG_CACHE_TTL" in message and "cache_ttl" in message
    with _recording_emulators(monkeypatch) as started:
        for args in (["chat", "hi"], ["chat", "--emulator", "hi"], ["doctor", "--emulator"]):
            assert main(args) == 2
            assert message in capsys.readouterr().err
        assert all(not e.requests for e in started)
    assert len(emulator.requests) == before


def test_a_local_configuration_error_in_chat_exits_2_without_blaming_the_gateway(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CF_AIG_PROVIDER_API_KEY", "compat-key-0123456789")
    before = len(emulator.requests)
    assert main(["chat", "--provider", "compat", "--model", "gpt-4o-mini", "hi"]) == 2
    err = capsys.readouterr().err
    assert "compat" in err and "rejected" not in err
    assert len(emulator.requests) == before


def test_adapter_secrets_stay_wrapped_in_traceback_locals(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_cf_ai_gateway import ChatCloudflareAIGateway
    from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM
    from pydantic import SecretStr

    key, token = "adapterproviderkey-0123456789abcdef", "adaptergatewaytoken-0123456789abcdef"
    monkeypatch.setenv("CF_ACCOUNT_ID", "acct")
    for cls in (ChatCloudflareAIGateway, CloudflareAIGatewayLLM):
        with pytest.raises(ConfigurationError) as err:
            cls(api_key=SecretStr(key), cf_aig_token=SecretStr(token), gateway_id="bad\n")
        tb = err.value.__traceback__
        assert tb is not None
        frames = traceback.StackSummary.extract(traceback.walk_tb(tb.tb_next), capture_locals=True)
        rendered = "".join(frames.format())
        assert "gateway_id" in str(err.value)
        assert key not in rendered and token not in rendered, cls.__name__


def test_adapters_refuse_plain_http_to_another_machine_unless_opted_in(monkeypatch: pytest.MonkeyPatch) -> None:
    from langchain_cf_ai_gateway import ChatCloudflareAIGateway
    from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

    monkeypatch.setenv("CF_ACCOUNT_ID", "acct")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-placeholder-0123456789")
    url = "http://10.1.2.3:8787/v1"
    for cls in (ChatCloudflareAIGateway, CloudflareAIGatewayLLM):
        with pytest.raises(ConfigurationError, match="CF_AIG_ALLOW_INSECURE_HTTP"):
            cls(base_url=url)
        assert cls(base_url=url, allow_insecure_http=True).gateway.config.base_url == url
    monkeypatch.setenv("CF_AIG_ALLOW_INSECURE_HTTP", "true")
    for cls in (ChatCloudflareAIGateway, CloudflareAIGatewayLLM):
        assert cls(base_url=url).gateway.config.base_url == url
