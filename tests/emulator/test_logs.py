"""Log ids and response headers, log entries, metadata limits, rate limits, and the logs/feedback API."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from cf_ai_gateway.emulator import Emulator

from .helpers import CHAT_BODY, post

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def logs_url(emu: Emulator, gateway: str = "default", log_id: str | None = None, part: str | None = None) -> str:
    base = f"{emu.api_base_url}/accounts/{emu.account_id}/ai-gateway/gateways/{gateway}/logs"
    if log_id:
        base += f"/{log_id}"
    if part:
        base += f"/{part}"
    return base


def test_every_answer_carries_one_uuid7_as_log_request_and_event_id(emulator: Emulator) -> None:
    """Changelog 2026-10-08 (UUIDv7 log ids) and 2025-10-24 (ids on failed requests too)."""
    emulator.configure(gateways=["default", "another"])
    replies = [post(emulator), post(emulator, gateway_token=None), post(emulator, provider="nope"),
               post(emulator, gateway="missing"), post(emulator, body={"model": 1}), post(emulator, "files"),
               httpx.post(f"{emulator.root_url}/v1/somewhere", json={})]
    assert [r.status_code for r in replies] == [200, 401, 400, 400, 400, 400, 400]
    ids = [r.headers["cf-aig-log-id"] for r in replies]
    assert len(set(ids)) == len(ids) and all(UUID7.match(i) for i in ids)
    for reply in replies:
        assert reply.headers["cf-aig-request-id"] == reply.headers["cf-aig-log-id"]
        assert reply.headers["cf-aig-event-id"] == reply.headers["cf-aig-log-id"]
        assert reply.headers["cf-aig-step"] == "0"


def test_log_ids_sort_by_creation_time(emulator: Emulator) -> None:
    ids = [post(emulator).headers["cf-aig-log-id"] for _ in range(5)]
    assert ids == sorted(ids)
    assert [entry.id for entry in emulator.logs] == ids


def test_the_callers_event_id_is_echoed_and_logged(emulator: Emulator) -> None:
    reply = post(emulator, headers={"cf-aig-event-id": "evt-42"})
    assert reply.headers["cf-aig-event-id"] == "evt-42"
    assert reply.headers["cf-aig-log-id"] != "evt-42"
    assert emulator.logs[-1].event_id == "evt-42"
    failed = post(emulator, headers={"cf-aig-event-id": "evt-43"}, gateway_token=None)
    assert failed.status_code == 401 and failed.headers["cf-aig-event-id"] == "evt-43"
    plain = post(emulator)
    assert plain.headers["cf-aig-event-id"] == plain.headers["cf-aig-log-id"] == emulator.logs[-1].event_id


def test_the_logs_api_accepts_old_ulid_and_new_uuid7_ids(emulator: Emulator) -> None:
    from cf_ai_gateway.emulator.ids import ulid
    from cf_ai_gateway.emulator.logs import LogEntry

    new_id = post(emulator).headers["cf-aig-log-id"]
    old_id = ulid()
    old = LogEntry(id=old_id, account_id=emulator.account_id, gateway_id="default", created_at=emulator.now() - 86400,
                   path="/v1/x", provider="openai", model="gpt-4o-mini", status_code=200, success=True, cached=False,
                   duration_ms=5)
    emulator._state.logs.add(old)  # a log kept from before 2026-10-08
    for log_id in (old_id, new_id):
        got = httpx.get(logs_url(emulator, log_id=log_id))
        assert got.status_code == 200 and got.json()["result"]["id"] == log_id
        assert httpx.patch(logs_url(emulator, log_id=log_id), json={"feedback": 1}).status_code == 200
    by_id = json.dumps([{"key": "id", "operator": "eq", "value": [old_id]}])
    assert [e["id"] for e in httpx.get(logs_url(emulator), params={"filters": by_id}).json()["result"]] == [old_id]


def test_a_log_entry_describes_the_request(emulator: Emulator) -> None:
    reply = post(emulator, headers={"cf-aig-max-attempts": "3", "cf-aig-request-timeout": "5000"})
    entry = emulator.log(reply.headers["cf-aig-log-id"])
    assert entry is not None
    usage = reply.json()["usage"]
    assert (entry.model, entry.provider, entry.status_code, entry.success) == ("gpt-4o-mini", "openai", 200, True)
    assert (entry.tokens_in, entry.tokens_out) == (usage["prompt_tokens"], usage["completion_tokens"])
    assert entry.cost > 0 and entry.duration_ms >= 0 and entry.cached is False
    assert entry.request_body == CHAT_BODY and entry.response_body == reply.json()
    assert entry.request_headers == {"cf-aig-max-attempts": "3", "cf-aig-request-timeout": "5000"}


def test_collect_log_false_skips_the_entry_and_payload_false_keeps_no_bodies(emulator: Emulator) -> None:
    post(emulator, headers={"cf-aig-collect-log": "false"})
    assert emulator.logs == []
    reply = post(emulator, headers={"cf-aig-collect-log-payload": "false"})
    entry = emulator.logs[-1]
    assert entry.request_body is None and entry.response_body is None
    assert entry.tokens_in == reply.json()["usage"]["prompt_tokens"] and entry.model == "gpt-4o-mini"


def test_custom_cost_is_applied(emulator: Emulator) -> None:
    cost = json.dumps({"per_token_in": 0.001, "per_token_out": 0.002})
    reply = post(emulator, headers={"cf-aig-custom-cost": cost})
    usage = reply.json()["usage"]
    entry = emulator.logs[-1]
    assert entry.custom_cost is True
    assert entry.cost == pytest.approx(usage["prompt_tokens"] * 0.001 + usage["completion_tokens"] * 0.002)


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ({"team": "AI", "user": 12345, "test": True}, {"team": "AI", "user": 12345, "test": True}),
        ({f"k{i}": i for i in range(7)}, {f"k{i}": i for i in range(5)}),
        ({"a": 1, "b": None}, {}),
        ({"a": 1, "b": {"nested": True}}, {}),
        ({"a": 1, "b": [1, 2]}, {}),
        ({"cf.user_id": "x", "a": 1}, {"a": 1}),
    ],
)
def test_metadata_limits(emulator: Emulator, header: dict[str, object], kept: dict[str, object]) -> None:
    post(emulator, headers={"cf-aig-metadata": json.dumps(header)})
    assert emulator.logs[-1].metadata == kept


def test_unparsable_metadata_is_dropped(emulator: Emulator) -> None:
    post(emulator, headers={"cf-aig-metadata": "{not json"})
    assert emulator.logs[-1].metadata == {}


def test_rate_limit_answers_2003_without_retry_after_until_the_window_passes(emulator: Emulator) -> None:
    emulator.configure(rate_limit=2, rate_limit_window=60)
    assert [post(emulator).status_code for _ in range(2)] == [200, 200]
    limited = post(emulator)
    assert limited.status_code == 429 and "retry-after" not in limited.headers
    assert limited.json() == {"success": False, "result": [], "messages": [],
                              "error": [{"code": 2003, "message": "Rate limited"}], "name": "AiGatewayError",
                              "httpCode": 429, "internalCode": 2003, "message": "Rate limited"}
    assert post(emulator, gateway="other").status_code == 200  # per gateway
    emulator.advance(60)
    assert post(emulator).status_code == 200


def test_logs_api_lists_gets_and_serves_bodies(emulator: Emulator) -> None:
    first = post(emulator, headers={"cf-aig-event-id": "e1", "cf-aig-metadata": '{"user": "u1"}'})
    post(emulator, body={**CHAT_BODY, "model": "gpt-4o"})
    post(emulator, gateway="elsewhere")
    listing = httpx.get(logs_url(emulator)).json()
    assert listing["success"] is True and listing["errors"] == [] and listing["messages"] == []
    assert [e["model"] for e in listing["result"]] == ["gpt-4o", "gpt-4o-mini"]  # newest first
    assert listing["result_info"]["total_count"] == 2
    log_id = first.headers["cf-aig-log-id"]
    entry = httpx.get(logs_url(emulator, log_id=log_id)).json()["result"]
    assert entry["id"] == log_id and entry["event_id"] == "e1" and entry["metadata"] == {"user": "u1"}
    assert entry["status_code"] == 200 and entry["provider"] == "openai" and entry["created_at"].endswith("Z")
    request = httpx.get(logs_url(emulator, log_id=log_id, part="request")).json()["result"]
    response = httpx.get(logs_url(emulator, log_id=log_id, part="response")).json()["result"]
    assert request == CHAT_BODY and response == first.json()


def test_logs_api_filters_and_pages(emulator: Emulator) -> None:
    for index in range(3):
        post(emulator, headers={"cf-aig-event-id": f"e{index}"})
    unauthorized = post(emulator, gateway_token=None).headers["cf-aig-log-id"]
    failed = httpx.get(logs_url(emulator), params={"success": "false"}).json()["result"]
    assert [e["status_code"] for e in failed] == [401]
    by_event = json.dumps([{"key": "event_id", "operator": "eq", "value": ["e1"]}])
    assert [e["event_id"] for e in httpx.get(logs_url(emulator), params={"filters": by_event}).json()["result"]] == ["e1"]
    page = httpx.get(logs_url(emulator), params={"per_page": 2, "page": 2, "direction": "asc"}).json()
    assert [e["event_id"] for e in page["result"]] == ["e2", unauthorized] and page["result_info"]["count"] == 2
    bad = httpx.get(logs_url(emulator), params={"filters": json.dumps([{"key": "id", "operator": "like"}])})
    assert bad.status_code == 400 and bad.json()["success"] is False


def test_feedback_patch_updates_the_entry(emulator: Emulator) -> None:
    log_id = post(emulator, headers={"cf-aig-metadata": '{"a": 1}'}).headers["cf-aig-log-id"]
    patched = httpx.patch(logs_url(emulator, log_id=log_id), json={"feedback": 1, "score": 87, "metadata": {"b": "x"}})
    assert patched.status_code == 200 and patched.json()["success"] is True
    entry = emulator.log(log_id)
    assert entry is not None and (entry.feedback, entry.score, entry.metadata) == (1, 87, {"a": 1, "b": "x"})
    assert httpx.get(logs_url(emulator), params={"feedback": "1"}).json()["result"][0]["id"] == log_id


def test_feedback_patch_answers_the_documented_empty_result(emulator: Emulator) -> None:
    """API reference, "Patch Gateway Log": the answer is ``{"result": {}, "success": true}``, not
    the entry; the entry is read back with ``GET …/logs/{id}``."""
    log_id = post(emulator).headers["cf-aig-log-id"]
    patched = httpx.patch(logs_url(emulator, log_id=log_id), json={"feedback": -1, "score": 5})
    assert patched.status_code == 200
    assert patched.json() == {"result": {}, "success": True, "errors": [], "messages": []}
    entry = httpx.get(logs_url(emulator, log_id=log_id)).json()["result"]
    assert (entry["id"], entry["feedback"], entry["score"]) == (log_id, -1, 5)


@pytest.mark.parametrize("body", [{"feedback": 2}, {"score": 101}, {"score": -1}, {"metadata": {"x": {"y": 1}}},
                                  {"rating": 1}])
def test_feedback_patch_rejects_invalid_values(emulator: Emulator, body: dict[str, object]) -> None:
    log_id = post(emulator).headers["cf-aig-log-id"]
    reply = httpx.patch(logs_url(emulator, log_id=log_id), json=body)
    assert reply.status_code == 400 and reply.json()["success"] is False and reply.json()["errors"]


def test_logs_api_not_found_and_token(emulator: Emulator) -> None:
    missing = httpx.get(logs_url(emulator, log_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"))
    assert missing.status_code == 404 and missing.json()["errors"][0]["message"] == "Log not found"
    emulator.configure(api_token="cf-api-token-abcdef")
    log_id = post(emulator).headers["cf-aig-log-id"]
    denied = httpx.patch(logs_url(emulator, log_id=log_id), json={"feedback": -1})
    assert denied.status_code == 401 and denied.json()["errors"] == [{"code": 10000, "message": "Authentication error"}]
    allowed = httpx.patch(logs_url(emulator, log_id=log_id), json={"feedback": -1},
                          headers={"authorization": "Bearer cf-api-token-abcdef"})
    assert allowed.status_code == 200 and emulator.log(log_id).feedback == -1  # type: ignore[union-attr]
