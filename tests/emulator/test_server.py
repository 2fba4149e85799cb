"""The emulator's lifecycle, addresses, environment, settings, and its pytest plugin."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
import threading
import time

import httpx
import pytest

from cf_ai_gateway.emulator import Emulator

from .helpers import post


def _emulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("cf-ai-gateway-emulator")]


def test_start_and_stop_leave_no_thread_and_free_the_port() -> None:
    before = len(_emulator_threads())
    with Emulator() as emu:
        port = emu.port
        assert emu.running and emu.base_url == f"http://127.0.0.1:{port}/v1"
        assert emu.api_base_url == f"http://127.0.0.1:{port}/client/v4"
        assert post(emu).status_code == 200
    assert len(_emulator_threads()) == before and not emu.running
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))  # nothing listens on the port any more
    emu.stop()  # idempotent


def test_a_fixed_port_and_async_use() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def run() -> int:
        async with Emulator(port=port) as emu:
            async with httpx.AsyncClient() as client:
                reply = await client.post(emu.gateway_url() + "/chat/completions",
                                          json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                                          headers={"authorization": "Bearer sk-x"})
            return reply.status_code

    assert asyncio.run(run()) == 200


def test_env_describes_each_auth_mode() -> None:
    with Emulator() as emu:
        env = emu.env()
        assert env["CF_ACCOUNT_ID"] == emu.account_id == "emulator-account"
        assert env["CF_AIG_BASE_URL"] == emu.base_url and env["CF_API_BASE_URL"] == emu.api_base_url
        assert env["OPENAI_API_KEY"] and "CF_AIG_TOKEN" not in env
        emu.configure(token="tok-123456", api_key="sk-abc-123456", api_token="cf-api-123456", gateways=["prod"])
        env = emu.env()
        assert (env["CF_AIG_TOKEN"], env["OPENAI_API_KEY"], env["CF_API_TOKEN"], env["CF_AIG_GATEWAY_ID"]) == (
            "tok-123456", "sk-abc-123456", "cf-api-123456", "prod")
        emu.configure(api_key=None)
        assert "OPENAI_API_KEY" not in emu.env()  # BYOK: the gateway token only
        assert "tok-123456" not in repr(emu)


def test_reset_restores_settings_and_forgets_everything(emulator: Emulator) -> None:
    emulator.configure(token="t-123456")
    post(emulator)
    emulator.script(text="queued")
    emulator.advance(100)
    assert emulator.logs and emulator.requests
    emulator.reset()
    assert emulator.settings.token is None
    assert emulator.logs == [] and emulator.requests == []
    assert post(emulator).json()["choices"][0]["message"]["content"] != "queued"
    assert abs(emulator.now() - time.time()) < 5


def test_requests_record_method_path_lower_case_headers_and_json(emulator: Emulator) -> None:
    post(emulator, headers={"CF-AIG-Metadata": '{"a":1}'})
    request = emulator.last_request
    assert request is not None and request.method == "POST"
    assert request.path == f"/v1/{emulator.account_id}/default/openai/chat/completions"
    assert request.headers["cf-aig-metadata"] == '{"a":1}' and request.header("CF-AIG-METADATA") == '{"a":1}'
    assert request.json["model"] == "gpt-4o-mini"


def test_configure_rejects_unknown_settings(emulator: Emulator) -> None:
    with pytest.raises(TypeError):
        emulator.configure(tokn="x")


def test_the_fixture_points_the_environment_at_the_emulator(emulator: Emulator) -> None:
    import os

    assert os.environ["CF_AIG_BASE_URL"] == emulator.base_url
    assert "CF_AIG_TOKEN" not in os.environ


@pytest.mark.ai_gateway_emulator(token="marker-token-1234")
def test_the_marker_configures_the_emulator_for_one_test(emulator: Emulator) -> None:
    import os

    assert emulator.settings.token == "marker-token-1234"
    assert os.environ["CF_AIG_TOKEN"] == "marker-token-1234"
    assert post(emulator).status_code == 401


def test_importing_the_library_does_not_load_the_emulator() -> None:
    code = "import sys, cf_ai_gateway, cf_ai_gateway.emulator; " \
           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('starlette', 'uvicorn') " \
           "or m.startswith('cf_ai_gateway.emulator.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_plugin_skips_with_an_install_hint_when_starlette_is_missing(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(textwrap.dedent("""
        import sys
        sys.modules["starlette"] = None
    """))
    pytester.makepyfile(textwrap.dedent("""
        def test_uses_it(ai_gateway_emulator):
            raise AssertionError("not reached")
    """))
    result = pytester.runpytest_subprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    assert "pip install 'cf-ai-gateway[emulator]'" in result.stdout.str()


def test_the_plugin_fixtures_in_a_users_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(textwrap.dedent("""
        import os
        import httpx
        import pytest

        def call(emu):
            url = f"{os.environ['CF_AIG_BASE_URL']}/{os.environ['CF_ACCOUNT_ID']}/default/openai/chat/completions"
            return httpx.post(url, json={"model": "m", "messages": [{"role": "user", "content": "hi"}]},
                              headers={"authorization": f"Bearer {os.environ['OPENAI_API_KEY']}"})

        def test_scripted(ai_gateway_emulator):
            ai_gateway_emulator.script(text="Hi there")
            assert call(ai_gateway_emulator).json()["choices"][0]["message"]["content"] == "Hi there"

        def test_fault(ai_gateway_emulator):
            ai_gateway_emulator.fault(429, code=2003)
            assert call(ai_gateway_emulator).status_code == 429

        @pytest.mark.ai_gateway_emulator(gateways=["prod"])
        def test_marker(ai_gateway_emulator):
            assert call(ai_gateway_emulator).status_code == 400

        def test_factory(ai_gateway_emulator_factory):
            emu = ai_gateway_emulator_factory(token="t-123456")
            assert emu.settings.token == "t-123456"
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)
