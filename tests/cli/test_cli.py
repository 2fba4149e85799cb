"""The ``cf-ai-gateway`` command, run as a subprocess against real emulators."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from cf_ai_gateway.emulator import Emulator

SECRET_KEY = "sk-cli-secret-key-0123456789"
SECRET_TOKEN = "cli-gateway-token-0123456789"
_CREDENTIAL_ENV = ("CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID", "CF_AIG_GATEWAY_ID", "CF_AIG_TOKEN", "CF_AIG_BASE_URL",
                   "CF_API_BASE_URL", "CF_API_TOKEN", "OPENAI_API_KEY", "CF_AIG_PROVIDER_API_KEY", "CF_AIG_MODEL")


def command() -> list[str]:
    script = shutil.which("cf-ai-gateway", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "cf_ai_gateway.cli"]


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _CREDENTIAL_ENV and not k.startswith("CF_AIG_")}
    env.update(values)
    return env


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*command(), *args], env=env if env is not None else clean_env(), input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def test_chat_with_the_in_process_emulator_streams_the_answer() -> None:
    result = run("chat", "--emulator", "What is Cloudflare?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('This is the AI Gateway emulator answering "What is Cloudflare?"')
    assert "cloudflare" in result.stdout
    assert re.search(r"\[gateway\] log id [0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}, cache MISS\n", result.stderr)
    assert "Traceback" not in result.stderr


def test_chat_without_credentials_names_the_variables_and_exits_non_zero() -> None:
    result = run("chat", "hello")
    assert result.returncode != 0
    for name in ("CF_ACCOUNT_ID", "OPENAI_API_KEY", "CF_AIG_TOKEN", "--emulator"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""


def test_chat_through_a_configured_gateway(emulator: Emulator) -> None:
    env = clean_env(**emulator.env())
    result = run("chat", "--api", "responses", "--model", "gpt-4.1-mini", "What is 3^3?", env=env)
    assert result.returncode == 0, result.stderr
    assert "27" in result.stdout
    request = emulator.requests[-1]
    assert request.path.endswith("/default/openai/responses")
    assert request.json["model"] == "gpt-4.1-mini" and request.json["stream"] is True
    log_id = re.search(r"log id (\S+),", result.stderr)
    assert log_id and emulator.logs[-1].id == log_id.group(1)


def test_chat_without_streaming_and_from_stdin(emulator: Emulator) -> None:
    env = clean_env(**emulator.env())
    result = run("chat", "--no-stream", env=env, stdin="Tell me about pipes\n")
    assert result.returncode == 0, result.stderr
    assert '"Tell me about pipes"' in result.stdout
    assert emulator.requests[-1].json.get("stream") in (None, False)


def test_chat_reports_gateway_errors_without_a_traceback(emulator: Emulator) -> None:
    emulator.configure(token=SECRET_TOKEN)
    env = clean_env(**{**emulator.env(), "CF_AIG_TOKEN": "wrong-token-0123456789", "OPENAI_API_KEY": SECRET_KEY})
    result = run("chat", "hi", env=env)
    assert result.returncode == 1
    assert "2009" in result.stderr and "CF_AIG_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr and SECRET_KEY not in result.stderr


@pytest.fixture
def served_emulator() -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    with serve_emulator("--token", SECRET_TOKEN) as served:
        yield served


@contextlib.contextmanager
def serve_emulator(*options: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    process = subprocess.Popen([*command(), "emulator", "--port", "0", *options],
                               env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    exports: dict[str, str] = {}
    banner: list[str] = []
    try:
        for line in process.stdout:
            banner.append(line)
            match = re.match(r"\s*export (\w+)=(\S+)", line)
            if match:
                exports[match.group(1)] = match.group(2)
            if line.startswith("Press Ctrl-C"):
                break
        assert exports, "".join(banner)
        yield process, exports
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stdout.close()
        if process.stderr:
            process.stderr.close()


def test_the_emulator_command_serves_until_interrupted(served_emulator: tuple[subprocess.Popen[str],
                                                                              dict[str, str]]) -> None:
    process, exports = served_emulator
    assert exports["CF_ACCOUNT_ID"] == "emulator-account"
    assert re.match(r"http://127\.0\.0\.1:\d+/v1$", exports["CF_AIG_BASE_URL"])
    assert exports["CF_AIG_TOKEN"] == SECRET_TOKEN and "OPENAI_API_KEY" not in exports
    result = run("chat", "Hello from another process", env=clean_env(**exports))
    assert result.returncode == 0, result.stderr
    assert "Hello from another process" in result.stdout
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=15) == 0
    assert process.stderr is not None and "emulator stopped" in process.stderr.read()


def test_the_emulator_command_serves_an_authenticated_gateway_with_a_generated_token() -> None:
    with serve_emulator() as (process, exports):
        token = exports["CF_AIG_TOKEN"]
        assert len(token) >= 32 and "OPENAI_API_KEY" not in exports
        result = run("chat", "Hello from the exports", env=clean_env(**exports))
        assert result.returncode == 0, result.stderr
        refused = run("chat", "hi", env=clean_env(**{**exports, "CF_AIG_TOKEN": "wrong-token-0123456789"}))
        assert refused.returncode != 0 and "2009" in refused.stderr


def test_the_emulator_command_serves_an_unauthenticated_gateway_when_asked() -> None:
    with serve_emulator("--unauthenticated") as (process, exports):
        assert "CF_AIG_TOKEN" not in exports and exports["OPENAI_API_KEY"]
        result = run("chat", "Hello without a token", env=clean_env(**exports))
        assert result.returncode == 0, result.stderr


def test_the_emulator_command_reports_a_busy_port() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run("emulator", "--port", str(busy.getsockname()[1]))
    assert result.returncode == 1 and "cannot listen on 127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_reports_a_working_gateway_with_secrets_masked(emulator: Emulator) -> None:
    emulator.configure(token=SECRET_TOKEN)
    env = clean_env(**{**emulator.env(), "OPENAI_API_KEY": SECRET_KEY, "CF_AIG_METADATA": '{"team": "cli"}'})
    result = run("doctor", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"{emulator.base_url}/emulator-account/default/openai/chat/completions" in out
    assert "authenticated" in out and "metadata" in out
    assert SECRET_KEY not in out and SECRET_TOKEN not in out
    assert re.search(r"OK: the gateway answered \(log id [0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}, cache MISS\)", out)
    assert emulator.requests[-1].headers["cf-aig-metadata"] == '{"team":"cli"}'


def test_doctor_tells_a_gateway_auth_error_from_a_provider_auth_error(emulator: Emulator) -> None:
    emulator.configure(token=SECRET_TOKEN)
    gateway_side = run("doctor", env=clean_env(**{**emulator.env(), "CF_AIG_TOKEN": "not-the-token-123",
                                                  "OPENAI_API_KEY": SECRET_KEY}))
    assert gateway_side.returncode == 1
    assert "code 2009" in gateway_side.stdout and "gateway itself refused" in gateway_side.stdout
    emulator.configure(token=None, api_key="sk-the-only-valid-key-123")
    provider_side = run("doctor", env=clean_env(**{**emulator.env(), "OPENAI_API_KEY": SECRET_KEY}))
    assert provider_side.returncode == 1
    assert "provider refused" in provider_side.stdout and "OPENAI_API_KEY" in provider_side.stdout
    assert SECRET_KEY not in provider_side.stdout


def test_doctor_explains_an_unknown_gateway_and_an_unreachable_one(emulator: Emulator) -> None:
    emulator.configure(gateways=["prod"])
    unknown = run("doctor", "--gateway", "staging", env=clean_env(**emulator.env()))
    assert unknown.returncode == 1 and "code 2001" in unknown.stdout and "'staging' does not exist" in unknown.stdout
    unreachable_env = clean_env(**{**emulator.env(), "CF_AIG_BASE_URL": "http://127.0.0.1:9/v1"})
    unreachable = run("doctor", "--timeout", "5", env=unreachable_env)
    assert unreachable.returncode == 1 and "could not be reached" in unreachable.stdout


def test_doctor_without_credentials_and_with_the_emulator() -> None:
    missing = run("doctor")
    assert missing.returncode == 2 and "CF_ACCOUNT_ID" in missing.stderr and "Traceback" not in missing.stderr
    local = run("doctor", "--emulator")
    assert local.returncode == 0 and "OK: the gateway answered" in local.stdout


def test_version_and_help() -> None:
    assert run("--version").stdout.startswith("cf-ai-gateway ")
    bare = run()
    assert bare.returncode == 2 and "chat" in bare.stdout and "doctor" in bare.stdout


def test_doctor_shows_the_url_of_the_endpoint_it_checks(emulator: Emulator) -> None:
    env = clean_env(**emulator.env())
    result = run("doctor", "--api", "responses", env=env)
    assert result.returncode == 0, result.stderr
    url_line = next(line for line in result.stdout.splitlines() if line.strip().startswith("URL:"))
    assert url_line.rstrip().endswith("/openai/responses")


def test_configuration_hints_fit_the_error() -> None:
    groq = run("chat", "--provider", "groq", "hi", env=clean_env(CF_ACCOUNT_ID="acct1"))
    assert groq.returncode != 0 and "GROQ_API_KEY" in groq.stderr
    assert "OPENAI_API_KEY" not in groq.stderr
    bad_option = run("chat", "hi", env=clean_env(CF_ACCOUNT_ID="acct1", OPENAI_API_KEY="sk-test-00000000",
                                                 CF_AIG_CACHE_TTL="10"))
    assert bad_option.returncode != 0 and "CF_AIG_CACHE_TTL" in bad_option.stderr
    assert "export CF_ACCOUNT_ID" not in bad_option.stderr  # no credentials hint for an option error
