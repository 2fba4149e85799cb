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
                                          headers={"cf-aig-authorization": f"Bearer {emu.token}"})
            return reply.status_code

    assert asyncio.run(run()) == 200


def test_a_new_emulator_is_an_authenticated_gateway_with_a_generated_token() -> None:
    """Changelog 2026-11-03: new gateways require authentication."""
    with Emulator() as emu, Emulator() as other:
        token = emu.token
        assert emu.settings.authenticated and token and len(token) >= 32 and token != other.token
        assert "OPENAI_API_KEY" not in emu.env() and emu.env()["CF_AIG_TOKEN"] == token
        assert token not in repr(emu) and "authenticated=True" in repr(emu)
        refused = post(emu, gateway_token=None)
        assert refused.status_code == 401 and refused.json()["internalCode"] == 2009
        assert post(emu).status_code == 200 and emu.logs[-1].authentication is True


def test_an_unauthenticated_gateway_is_one_setting_away(make_emulator: object) -> None:
    emu = make_emulator(authenticated=False)  # type: ignore[operator]
    assert emu.token is None and not emu.settings.authenticated
    assert "CF_AIG_TOKEN" not in emu.env() and emu.env()["OPENAI_API_KEY"]
    assert post(emu).status_code == 200 and emu.logs[-1].authentication is False
    emu.configure(authenticated=True)
    assert emu.token and post(emu, gateway_token=None).status_code == 401
    emu.configure(authenticated=False)
    assert emu.token is None and post(emu, gateway_token=None).status_code == 200
    with pytest.raises(ValueError, match="unauthenticated"):
        Emulator(authenticated=False, token="t-123456")


def test_env_describes_each_auth_mode() -> None:
    with Emulator(authenticated=False) as emu:
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


def test_the_stores_are_bounded_and_evict_the_oldest_first(make_emulator: object) -> None:
    emu = make_emulator(max_entries=3)  # type: ignore[operator]
    replies = [post(emu, headers={"cf-aig-event-id": f"e{i}"}) for i in range(5)]
    assert [r.header("cf-aig-event-id") for r in emu.requests] == ["e2", "e3", "e4"]
    assert [entry.event_id for entry in emu.logs] == ["e2", "e3", "e4"]
    assert emu.log(replies[0].headers["cf-aig-log-id"]) is None
    logs_url = f"{emu.api_base_url}/accounts/{emu.account_id}/ai-gateway/gateways/default/logs"
    listed = httpx.get(logs_url, params={"direction": "asc"}).json()
    assert [e["event_id"] for e in listed["result"]] == ["e2", "e3", "e4"]
    assert httpx.get(f"{logs_url}/{replies[0].headers['cf-aig-log-id']}").status_code == 404
    assert httpx.get(f"{logs_url}/{replies[4].headers['cf-aig-log-id']}").status_code == 200
    first = post(emu, "responses").json()["id"]
    for _ in range(3):
        post(emu, "responses", body={"model": "gpt-4o-mini", "input": "another"})
    follow_up = post(emu, "responses", body={"model": "gpt-4o-mini", "input": "more", "previous_response_id": first})
    assert follow_up.status_code == 400  # the stored response was evicted
    emu.configure(max_entries=1)
    assert len(emu.requests) == 1 and len(emu.logs) == 1
    with pytest.raises(ValueError, match="max_entries"):
        emu.configure(max_entries=0)


def test_a_client_that_disconnects_mid_request_leaves_no_traceback() -> None:
    code = textwrap.dedent("""
        import socket, time
        from cf_ai_gateway.emulator import Emulator
        with Emulator() as emu:
            with socket.create_connection(("127.0.0.1", emu.port)) as sock:
                sock.sendall(b"POST /v1/a/default/openai/chat/completions HTTP/1.1\\r\\nhost: x\\r\\n"
                             b"content-type: application/json\\r\\ncontent-length: 1000\\r\\n\\r\\n{\\"model\\"")
                time.sleep(0.2)
            with socket.create_connection(("127.0.0.1", emu.port)) as sock:  # the server lives on
                sock.sendall(b"GET /v1 HTTP/1.1\\r\\nhost: x\\r\\nconnection: close\\r\\n\\r\\n")
                assert sock.recv(100).startswith(b"HTTP/1.1 400")
            time.sleep(0.2)
            assert emu.errors == []
        print("done")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "done", result.stderr
    assert "Traceback" not in result.stderr and "Exception in ASGI application" not in result.stderr


def test_the_listening_socket_disables_nagle() -> None:
    with Emulator() as emu:
        assert emu._socket is not None
        assert emu._socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_reset_restores_settings_and_forgets_everything(emulator: Emulator) -> None:
    original = emulator.token
    emulator.configure(token="t-123456")
    post(emulator)
    emulator.script(text="queued")
    emulator.advance(100)
    assert emulator.logs and emulator.requests
    emulator.reset()
    assert emulator.settings.token == original
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
    assert os.environ["CF_AIG_TOKEN"] == emulator.token and "OPENAI_API_KEY" not in os.environ


@pytest.mark.ai_gateway_emulator(token="marker-token-1234")
def test_the_marker_configures_the_emulator_for_one_test(emulator: Emulator) -> None:
    import os

    assert emulator.settings.token == "marker-token-1234"
    assert os.environ["CF_AIG_TOKEN"] == "marker-token-1234"
    assert post(emulator, gateway_token=None).status_code == 401


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
                              headers={"cf-aig-authorization": f"Bearer {os.environ['CF_AIG_TOKEN']}"})

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
