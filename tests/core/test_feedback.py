"""`Gateway.feedback()` / `afeedback()`: the logs API's PATCH, checked input, one 404 retry.

The wire tests use the loopback server (exact method, path, headers and body); the end-to-end
tests use the emulator's logs API: a real call's `log_id` gets feedback, and the log shows it.
"""

from __future__ import annotations

from typing import Any

import pytest

from cf_ai_gateway import (
    ConfigurationError,
    GatewayAuthenticationError,
    GatewayError,
    GatewayNotFoundError,
    MalformedResponseError,
)

from .conftest import ACCOUNT, API_KEY, TOKEN
from .testserver import Reply, TestServer

CF_API_TOKEN = "cf-api-token-0123456789abcdef"
LOG_ID = "01JADMCQQQBWH3NXZ5GCRN98DP"


def api_base(server: TestServer) -> str:
    return server.base_url.replace("/v1", "/client/v4")


def log_entry(**fields: Any) -> dict[str, Any]:
    return {"success": True, "errors": [], "messages": [], "result": {"id": LOG_ID, **fields}}


NOT_FOUND = Reply(
    status=404,
    body={"success": False, "result": None, "messages": [],
          "errors": [{"code": 1004, "message": "Log not found"}]},
)


@pytest.fixture
def gateway(make_gateway: Any, server: TestServer) -> Any:
    return make_gateway(
        gateway_id="gw-9", api_key=API_KEY, cf_aig_token=TOKEN, cf_api_token=CF_API_TOKEN,
        api_base_url=api_base(server),
    )


def test_feedback_sends_the_documented_patch(gateway: Any, server: TestServer) -> None:
    server.queue(Reply(body=log_entry(feedback=1, score=87)))
    entry = gateway.feedback(LOG_ID, feedback=1, score=87, metadata={"user": "u-1", "ok": True})
    assert entry == {"id": LOG_ID, "feedback": 1, "score": 87}
    (req,) = server.requests
    assert req.method == "PATCH"
    assert req.path == f"/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/gw-9/logs/{LOG_ID}"
    assert req.headers["authorization"] == f"Bearer {CF_API_TOKEN}"
    assert req.headers["content-type"] == "application/json"
    assert "cf-aig-authorization" not in req.headers
    assert TOKEN not in str(req.headers) and API_KEY not in str(req.headers)
    assert req.json() == {"feedback": 1, "score": 87, "metadata": {"user": "u-1", "ok": True}}


@pytest.mark.parametrize("use_async", [False, True])
async def test_feedback_reads_the_documented_empty_result(
    gateway: Any, server: TestServer, use_async: bool
) -> None:
    # API reference, "Patch Gateway Log": the example answer, without errors or messages.
    server.queue(Reply(body={"result": {}, "success": True}))
    if use_async:
        result = await gateway.afeedback(LOG_ID, feedback=-1)
    else:
        result = gateway.feedback(LOG_ID, feedback=-1)
    assert result == {}
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({"feedback": -1}, {"feedback": -1}),
        ({"feedback": 0}, {"feedback": 0}),
        ({"score": 0}, {"score": 0}),
        ({"score": 100.0}, {"score": 100}),
        ({"score": 42.5}, {"score": 42.5}),
        ({"metadata": {"n": 3, "f": 0.5}}, {"metadata": {"n": 3, "f": 0.5}}),
    ],
)
def test_only_given_fields_are_sent(
    kwargs: dict[str, Any], body: dict[str, Any], gateway: Any, server: TestServer
) -> None:
    gateway.feedback(LOG_ID, **kwargs)
    assert server.requests[0].json() == body


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "at least one"),
        ({"feedback": 2}, "feedback"),
        ({"feedback": True}, "feedback"),
        ({"feedback": "1"}, "feedback"),
        ({"feedback": 0.5}, "feedback"),
        ({"score": 101}, "score"),
        ({"score": -1}, "score"),
        ({"score": float("nan")}, "score"),
        ({"score": False}, "score"),
        ({"score": "90"}, "score"),
        ({"metadata": {}}, "metadata"),
        ({"metadata": {"a": None}}, "metadata"),
        ({"metadata": {"a": {"b": 1}}}, "metadata"),
        ({"metadata": {"a": [1]}}, "metadata"),
        ({"metadata": {1: "x"}}, "metadata"),
        ({"metadata": {"a": float("inf")}}, "metadata"),
        ({"metadata": "user=1"}, "metadata"),
    ],
)
def test_bad_input_sends_nothing(
    kwargs: dict[str, Any], match: str, gateway: Any, server: TestServer
) -> None:
    with pytest.raises(ConfigurationError, match=match):
        gateway.feedback(LOG_ID, **kwargs)
    assert server.requests == []


@pytest.mark.parametrize(
    "log_id", ["", "../../gateways/other/logs/x", "a/b", "a?b=1", "a#b", "a b", "x\r\nHost: evil", None, 7]
)
def test_log_id_cannot_change_the_url(log_id: Any, gateway: Any, server: TestServer) -> None:
    with pytest.raises(ConfigurationError, match="log_id"):
        gateway.feedback(log_id, feedback=1)
    assert server.requests == []


def test_missing_cloudflare_api_token_names_argument_and_variable(
    make_gateway: Any, server: TestServer
) -> None:
    gw = make_gateway(cf_aig_token=TOKEN, api_base_url=api_base(server))
    with pytest.raises(ConfigurationError) as caught:
        gw.feedback(LOG_ID, feedback=1)
    message = str(caught.value)
    assert "cf_api_token" in message and "CF_API_TOKEN" in message
    assert TOKEN not in message
    assert server.requests == []


def test_cloudflare_api_token_from_the_environment(
    make_gateway: Any, server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CF_API_TOKEN", "env-api-token-0123456789")
    monkeypatch.setenv("CF_API_BASE_URL", api_base(server))
    gw = make_gateway()
    gw.feedback(LOG_ID, score=10)
    (req,) = server.requests
    assert req.headers["authorization"] == "Bearer env-api-token-0123456789"
    assert req.path.startswith(f"/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/default/logs/")


def test_log_not_found_is_retried_once(gateway: Any, server: TestServer) -> None:
    server.queue(NOT_FOUND, Reply(body=log_entry(feedback=1)))
    assert gateway.feedback(LOG_ID, feedback=1)["feedback"] == 1
    assert [r.method for r in server.requests] == ["PATCH", "PATCH"]
    server.reset()
    server.queue(NOT_FOUND, NOT_FOUND, NOT_FOUND)
    with pytest.raises(GatewayNotFoundError) as caught:
        gateway.feedback(LOG_ID, feedback=1)
    assert caught.value.status_code == 404
    assert len(server.requests) == 2


def test_api_errors_are_typed_and_scrubbed(gateway: Any, server: TestServer) -> None:
    server.queue(
        Reply(
            status=401,
            body={"success": False, "result": None, "messages": [],
                  "errors": [{"code": 10000, "message": f"Authentication error {CF_API_TOKEN}"}]},
        )
    )
    with pytest.raises(GatewayAuthenticationError) as caught:
        gateway.feedback(LOG_ID, feedback=-1)
    assert caught.value.status_code == 401
    assert CF_API_TOKEN not in str(caught.value) + repr(caught.value) + repr(caught.value.body)
    assert len(server.requests) == 1


def test_server_errors_use_the_transport_retries(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway(cf_api_token=CF_API_TOKEN, api_base_url=api_base(server), max_retries=1)
    server.queue(Reply(status=503, body={"errors": [{"code": 1, "message": "busy"}]}), Reply(body=log_entry()))
    gw.feedback(LOG_ID, feedback=1)
    assert len(server.requests) == 2


async def test_afeedback(gateway: Any, server: TestServer) -> None:
    server.queue(NOT_FOUND, Reply(body=log_entry(score=55)))
    entry = await gateway.afeedback(LOG_ID, score=55, metadata={"rater": "qa"})
    assert entry["score"] == 55
    assert len(server.requests) == 2
    req = server.requests[-1]
    assert req.method == "PATCH" and req.json() == {"score": 55, "metadata": {"rater": "qa"}}
    assert req.headers["authorization"] == f"Bearer {CF_API_TOKEN}"
    with pytest.raises(ConfigurationError, match="feedback"):
        await gateway.afeedback(LOG_ID, feedback=5)
    await gateway.aclose()


def test_errors_are_gateway_errors(gateway: Any, server: TestServer) -> None:
    server.queue(Reply(status=400, body={"errors": [{"code": 7001, "message": "bad"}]}))
    with pytest.raises(GatewayError):
        gateway.feedback(LOG_ID, feedback=1)


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]},
         GatewayAuthenticationError),
        (b"[" * 100_000, MalformedResponseError),
    ],
    ids=["2xx-error-envelope", "too-deep"],
)
def test_a_2xx_that_is_no_answer_is_a_typed_error(
    gateway: Any, server: TestServer, body: Any, kind: type[GatewayError]
) -> None:
    server.queue(Reply(status=200, body=body))
    with pytest.raises(kind):
        gateway.feedback(LOG_ID, feedback=1)
    assert len(server.requests) == 1


# -- end to end against the emulator's logs API ----------------------------------------------

EMU_TOKEN = "emu-gateway-token-0123456789"
EMU_API_TOKEN = "emu-cf-api-token-0123456789"


def emulator_gateway(emulator: Any, **overrides: Any) -> Any:
    from cf_ai_gateway import Gateway

    settings: dict[str, Any] = {
        "account_id": emulator.account_id,
        "base_url": emulator.base_url,
        "api_base_url": emulator.api_base_url,
        "cf_aig_token": EMU_TOKEN,
        "cf_api_token": EMU_API_TOKEN,
        "retry_base_delay": 0.01,
    }
    settings.update(overrides)
    return Gateway(**settings)


@pytest.mark.ai_gateway_emulator(token=EMU_TOKEN, api_token=EMU_API_TOKEN)
def test_feedback_lands_on_the_emulator_log(emulator: Any) -> None:
    with emulator_gateway(emulator) as gw:
        info = gw.create("chat/completions", {"model": "gpt-4o-mini", "messages": [
            {"role": "user", "content": "hello"}]}).info
        assert info.log_id
        entry = gw.feedback(info.log_id, feedback=-1, score=12, metadata={"rater": "qa", "n": 2})
        with gw.stream("chat/completions", {"model": "gpt-4o-mini", "messages": [
                {"role": "user", "content": "stream please"}]}) as events:
            streamed_log = events.info.log_id
            list(events)
        assert streamed_log
        gw.feedback(streamed_log, feedback=1)
    assert entry == {}  # the documented answer: the entry is read back from the log
    log = emulator.log(info.log_id)
    assert (log.feedback, log.score) == (-1, 12)
    assert log.metadata["rater"] == "qa" and log.metadata["n"] == 2
    assert emulator.log(streamed_log).feedback == 1
    patches = [r for r in emulator.requests if r.method == "PATCH"]
    assert len(patches) == 2
    assert all(r.header("authorization") == f"Bearer {EMU_API_TOKEN}" for r in patches)
    assert all(r.header("cf-aig-authorization") is None for r in patches)


@pytest.mark.ai_gateway_emulator(token=EMU_TOKEN, api_token=EMU_API_TOKEN)
async def test_afeedback_against_the_emulator(emulator: Any) -> None:
    async with emulator_gateway(emulator) as gw:
        raw = await gw.acreate("responses", {"model": "gpt-4o-mini", "input": "hi"})
        entry = await gw.afeedback(raw.info.log_id, score=99)
        logged = await gw.logs.aget(raw.info.log_id)
    assert entry == {} and logged.score == 99
    assert emulator.log(raw.info.log_id).score == 99


@pytest.mark.ai_gateway_emulator(token=EMU_TOKEN, api_token=EMU_API_TOKEN)
def test_emulator_log_not_found_and_bad_token(emulator: Any) -> None:
    with emulator_gateway(emulator) as gw:
        with pytest.raises(GatewayNotFoundError) as caught:
            gw.feedback("01JADMCQQQBWH3NXZ5GCRN9999", feedback=1)
        assert "Log not found" in str(caught.value)
    assert [r.method for r in emulator.requests] == ["PATCH", "PATCH"]
    with emulator_gateway(emulator, cf_api_token="wrong-api-token-000000") as gw:
        log_id = gw.create(
            "chat/completions", {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        ).info.log_id
        with pytest.raises(GatewayAuthenticationError) as auth_error:
            gw.feedback(log_id, feedback=1)
    assert "wrong-api-token-000000" not in str(auth_error.value) + repr(auth_error.value.body)
    assert emulator.log(log_id).feedback == 0
