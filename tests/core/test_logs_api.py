"""`Gateway.logs`: listing with filters and pages, one entry, stored bodies, delete, find, feedback.

Against the emulator's logs API (real HTTP on loopback); malformed replies come from the loopback
test server. Every call is checked before it is sent, and an account without the logs API gets
a typed error that names Workers Observability.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_ai_gateway import (
    ConfigurationError,
    Gateway,
    GatewayError,
    GatewayNotFoundError,
    LogNotFoundError,
    LogsUnavailableError,
    StreamError,
)
from cf_ai_gateway.emulator import Emulator
from cf_ai_gateway.logs_query import GatewayLog, build_filters, parse_log

from .conftest import ACCOUNT, API_KEY
from .testserver import Reply, TestServer

CF_API_TOKEN = "cf-api-token-logs-0123456789"


def gateway(emu: Emulator, **kwargs: Any) -> Gateway:
    env = emu.env()
    kwargs.setdefault("gateway_options", None)
    return Gateway(account_id=env["CF_ACCOUNT_ID"], base_url=env["CF_AIG_BASE_URL"],
                   api_key=env.get("OPENAI_API_KEY"), cf_aig_token=env.get("CF_AIG_TOKEN"), cf_api_token=env["CF_API_TOKEN"],
                   api_base_url=env["CF_API_BASE_URL"], max_retries=0, **kwargs)


def ask(gw: Gateway, text: str, model: str = "gpt-4o-mini", **options: Any) -> str:
    raw = gw.create("chat/completions", {"model": model, "messages": [{"role": "user", "content": text}]},
                    options=options or None)
    assert raw.info.log_id
    return raw.info.log_id


def api_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if "/ai-gateway/" in r.path]


@pytest.fixture
def gw(emulator: Emulator) -> Any:
    with gateway(emulator) as client:
        yield client


def test_list_pages_through_every_entry_newest_first(gw: Gateway, emulator: Emulator) -> None:
    ids = [ask(gw, f"question {i}") for i in range(5)]
    entries = list(gw.logs.list(per_page=2))
    assert [e.id for e in entries] == ids[::-1]
    pages = [r.query for r in api_requests(emulator)]
    assert [p["page"] for p in pages] == ["1", "2", "3"]
    assert all(p["per_page"] == "2" and p["order_by"] == "created_at" for p in pages)
    assert all(p["order_by_direction"] == "desc" for p in pages)
    first = entries[0]
    assert isinstance(first, GatewayLog) and first.model == "gpt-4o-mini" and first.provider == "openai"
    assert first.success is True and first.cached is False and first.status_code == 200
    assert first.tokens and first.tokens == (first.tokens_in or 0) + (first.tokens_out or 0)
    assert first.cost is not None and first.cost > 0 and isinstance(first.created_at, dt.datetime)


def test_pages_carry_result_info_and_limit_stops_early(gw: Gateway, emulator: Emulator) -> None:
    for i in range(4):
        ask(gw, f"q{i}")
    pages = list(gw.logs.pages(per_page=3))
    assert [len(p) for p in pages] == [3, 1]
    assert pages[0].total_count == 4 and pages[0].result_info["total_count"] == 4
    first = pages[0].entries[0]
    assert first["id"] == first.id and first.get("path") == first.path and first.get("nope") is None
    emulator_calls = len(api_requests(emulator))
    assert [e.id for e in gw.logs.list(per_page=3, limit=2)] == [e.id for e in pages[0].entries[:2]]
    assert len(api_requests(emulator)) == emulator_calls + 1


def test_ascending_order(gw: Gateway) -> None:
    ids = [ask(gw, f"q{i}") for i in range(3)]
    assert [e.id for e in gw.logs.list(direction="asc")] == ids
    assert [e.id for e in gw.logs.list(order_by_direction="asc")] == ids


def test_the_apis_own_date_names_are_accepted(gw: Gateway) -> None:
    log_id = ask(gw, "dated")
    created = gw.logs.get(log_id).created_at
    assert created is not None
    assert [e.id for e in gw.logs.list(start_date=created - dt.timedelta(seconds=5))] == [log_id]
    assert list(gw.logs.list(end_date=created - dt.timedelta(seconds=5))) == []
    with pytest.raises(ConfigurationError, match="since or start_date"):
        gw.logs.list(since=created, start_date=created)


def test_filters_are_sent_as_the_documented_json_array(gw: Gateway, emulator: Emulator) -> None:
    list(gw.logs.list(model="gpt-4.1", success=True, cached=False, feedback=1,
                      metadata={"user": "u-1"}, min_cost=0.001, max_cost=2))
    filters = json.loads(api_requests(emulator)[-1].query["filters"])
    assert filters == [
        {"key": "model", "operator": "eq", "value": ["gpt-4.1"]},
        {"key": "success", "operator": "eq", "value": [True]},
        {"key": "cached", "operator": "eq", "value": [False]},
        {"key": "feedback", "operator": "eq", "value": [1]},
        {"key": "metadata.key", "operator": "eq", "value": ["user"]},
        {"key": "metadata.value", "operator": "eq", "value": ["u-1"]},
        {"key": "cost", "operator": "gt", "value": [0.001]},
        {"key": "cost", "operator": "lt", "value": [2]},
    ]


def test_model_provider_event_and_metadata_filters(gw: Gateway) -> None:
    a = ask(gw, "one", model="gpt-4.1", metadata={"user": "alice"}, event_id="ev-a")
    b = ask(gw, "two", metadata={"user": "bob"})
    assert [e.id for e in gw.logs.list(model="gpt-4.1")] == [a]
    assert {e.id for e in gw.logs.list(model=["gpt-4.1", "gpt-4o-mini"])} == {a, b}
    assert [e.id for e in gw.logs.list(metadata={"user": "bob"})] == [b]
    assert [e.id for e in gw.logs.list(event_id="ev-a")] == [a]
    assert {e.id for e in gw.logs.list(provider="openai")} == {a, b}
    assert gw.logs.get(a).metadata == {"user": "alice"}


def test_success_and_cached_filters(gw: Gateway, emulator: Emulator) -> None:
    ok = ask(gw, "cache me", cache_ttl=60, cache_key="logs-test")
    hit = ask(gw, "cache me", cache_ttl=60, cache_key="logs-test")
    emulator.fault(500, code=None)
    with pytest.raises(GatewayError) as failed:
        ask(gw, "boom")
    bad = failed.value.log_id
    assert bad
    assert [e.id for e in gw.logs.list(success=False)] == [bad]
    assert [e.id for e in gw.logs.list(cached=True)] == [hit]
    assert [e.id for e in gw.logs.list(success=True, cached=False)] == [ok]


def test_time_and_cost_filters(gw: Gateway, emulator: Emulator) -> None:
    old = ask(gw, "old")
    assert [e.id for e in gw.logs.list(since=dt.timedelta(hours=1))] == [old]
    assert [e.id for e in gw.logs.list(until=dt.timedelta(hours=1))] == []
    emulator.advance(7200)
    new = ask(gw, "new and much longer so that it costs more " * 20)
    created = gw.logs.get(new).created_at
    assert created is not None
    assert [e.id for e in gw.logs.list(until=created - dt.timedelta(hours=1))] == [old]
    assert [e.id for e in gw.logs.list(since=(created - dt.timedelta(minutes=1)).isoformat())] == [new]
    cost_old = gw.logs.get(old).cost
    assert cost_old is not None
    assert [e.id for e in gw.logs.list(min_cost=cost_old)] == [new]
    assert [e.id for e in gw.logs.list(max_cost=cost_old * 1.0001)] == [old]


def test_get_request_and_response(gw: Gateway) -> None:
    log_id = ask(gw, "What is Cloudflare?", event_id="ev-get")
    entry = gw.logs.get(log_id)
    assert entry.id == log_id and entry.event_id == "ev-get" and entry.step == 0
    assert gw.logs.request(log_id)["messages"] == [{"role": "user", "content": "What is Cloudflare?"}]
    assert gw.logs.response(log_id)["object"] == "chat.completion"
    with pytest.raises(LogNotFoundError) as err:
        gw.logs.get("01JADMCQQQBWH3NXZ5GCRN98DP")
    assert isinstance(err.value, GatewayNotFoundError) and err.value.status_code == 404


def test_stored_bodies_are_none_when_payloads_are_not_collected(gw: Gateway) -> None:
    log_id = ask(gw, "private", collect_log_payload=False)
    assert gw.logs.request(log_id) is None and gw.logs.response(log_id) is None


def test_delete_removes_only_matching_entries(gw: Gateway, emulator: Emulator) -> None:
    keep = ask(gw, "keep")
    drop = [ask(gw, f"drop {i}", model="gpt-4.1") for i in range(3)]
    assert gw.logs.delete(model="gpt-4.1", limit=2) is True
    sent = api_requests(emulator)[-1]
    assert sent.method == "DELETE" and sent.query["limit"] == "2"
    assert json.loads(sent.query["filters"]) == [{"key": "model", "operator": "eq", "value": ["gpt-4.1"]}]
    assert len([e for e in gw.logs.list() if e.id in drop]) == 1
    gw.logs.delete(filters=[{"key": "model", "operator": "eq", "value": ["gpt-4.1"]}])
    assert [e.id for e in gw.logs.list()] == [keep]


def test_delete_without_filters_is_refused_before_sending(gw: Gateway, emulator: Emulator) -> None:
    ask(gw, "x")
    before = len(emulator.requests)
    with pytest.raises(ConfigurationError, match="everything=True"):
        gw.logs.delete()
    assert len(emulator.requests) == before
    assert gw.logs.delete(everything=True) is True
    assert list(gw.logs.list()) == []


def test_find_by_event_id_and_by_log_id(gw: Gateway) -> None:
    log_id = ask(gw, "find me", event_id="ev-find")
    assert gw.logs.find(event_id="ev-find").id == log_id
    assert gw.logs.find(log_id=log_id).id == log_id


def test_find_waits_for_a_log_written_later(gw: Gateway, emulator: Emulator) -> None:
    started = threading.Event()
    found: list[GatewayLog] = []

    def wait() -> None:
        started.set()
        found.append(gw.logs.find(event_id="ev-later", timeout=30))

    thread = threading.Thread(target=wait)
    thread.start()
    started.wait()
    log_id = ask(gw, "late", event_id="ev-later")
    thread.join(timeout=40)
    assert [e.id for e in found] == [log_id]


def test_find_gives_up_at_its_deadline_with_a_typed_error(gw: Gateway) -> None:
    with pytest.raises(LogNotFoundError, match="ev-never"):
        gw.logs.find(event_id="ev-never", timeout=0.3)
    with pytest.raises(LogNotFoundError):
        gw.logs.find(log_id="01JADMCQQQBWH3NXZ5GCRN98DP", timeout=0.3)


def test_feedback_through_logs_returns_the_updated_entry(gw: Gateway) -> None:
    log_id = ask(gw, "rate me")
    entry = gw.logs.feedback(log_id, feedback=-1, score=12)
    assert entry.id == log_id and entry.feedback == -1 and entry.score == 12
    assert [e.id for e in gw.logs.list(feedback=-1)] == [log_id]


@pytest.mark.parametrize("call", ["list", "get", "request", "delete", "feedback", "find"])
def test_account_without_the_logs_api_gets_a_typed_error(call: str, gw: Gateway, emulator: Emulator) -> None:
    log_id = ask(gw, "x")
    emulator.configure(logs_api=False)
    calls = {
        "list": lambda: list(gw.logs.list()),
        "get": lambda: gw.logs.get(log_id),
        "request": lambda: gw.logs.request(log_id),
        "delete": lambda: gw.logs.delete(model="gpt-4o-mini"),
        "feedback": lambda: gw.logs.feedback(log_id, feedback=1),
        "find": lambda: gw.logs.find(log_id=log_id, timeout=5),
    }
    with pytest.raises(LogsUnavailableError) as err:
        calls[call]()
    text = str(err.value)
    assert "Workers Observability" in text and "2026-09-24" in text and "dash.cloudflare.com" in text
    assert isinstance(err.value, GatewayNotFoundError)


def test_logs_need_the_cloudflare_api_token(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CF_API_TOKEN", raising=False)
    env = emulator.env()
    gw = Gateway(account_id=env["CF_ACCOUNT_ID"], base_url=env["CF_AIG_BASE_URL"],
                 api_key=env.get("OPENAI_API_KEY"), cf_aig_token=env.get("CF_AIG_TOKEN"), api_base_url=env["CF_API_BASE_URL"])
    with pytest.raises(ConfigurationError, match="CF_API_TOKEN"):
        list(gw.logs.list())
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"model": ""}, "model"),
        ({"model": 3}, "model"),
        ({"success": "yes"}, "success"),
        ({"feedback": 2}, "feedback"),
        ({"metadata": {"k": [1]}}, "metadata"),
        ({"since": "yesterday"}, "since"),
        ({"until": -dt.timedelta(hours=1)}, "until"),
        ({"min_cost": float("nan")}, "min_cost"),
        ({"filters": [{"key": "colour", "operator": "eq", "value": ["red"]}]}, "filters"),
        ({"filters": [{"key": "model", "operator": "like", "value": ["x"]}]}, "filters"),
        ({"order_by": "cost"}, "order_by"),
        ({"direction": "up"}, "direction"),
        ({"per_page": 0}, "per_page"),
        ({"per_page": 51}, "per_page"),
        ({"limit": 0}, "limit"),
    ],
)
def test_bad_list_arguments_are_refused_before_sending(kwargs: dict[str, Any], named: str, gw: Gateway,
                                                       emulator: Emulator) -> None:
    with pytest.raises(ConfigurationError, match=named):
        gw.logs.list(**kwargs)
    assert api_requests(emulator) == []


async def test_async_twins(gw: Gateway, emulator: Emulator) -> None:
    ids = [ask(gw, f"async {i}", event_id=f"ev-{i}") for i in range(3)]
    assert [e.id async for e in gw.logs.alist(per_page=2)] == ids[::-1]
    assert [len(p) async for p in gw.logs.apages(per_page=2)] == [2, 1]
    assert (await gw.logs.aget(ids[0])).id == ids[0]
    assert (await gw.logs.arequest(ids[0]))["model"] == "gpt-4o-mini"
    assert (await gw.logs.aresponse(ids[0]))["object"] == "chat.completion"
    assert (await gw.logs.afind(event_id="ev-1")).id == ids[1]
    assert (await gw.logs.afeedback(ids[2], feedback=1)).feedback == 1
    assert await gw.logs.adelete(event_id="ev-0") is True
    assert [e.id async for e in gw.logs.alist()] == [ids[2], ids[1]]
    with pytest.raises(LogNotFoundError):
        await gw.logs.afind(event_id="ev-none", timeout=0.2)
    with pytest.raises(ConfigurationError):
        gw.logs.alist(colour="red")
    emulator.configure(logs_api=False)
    with pytest.raises(LogsUnavailableError):
        [e async for e in gw.logs.alist()]
    await gw.aclose()


# --- replies that are not what the API documents -----------------------------------------------


@pytest.fixture
def wire_gw(make_gateway: Any, server: TestServer) -> Any:
    return make_gateway(gateway_id="gw-9", api_key=API_KEY, cf_api_token=CF_API_TOKEN,
                        api_base_url=server.base_url.replace("/v1", "/client/v4"), max_retries=0)


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2", {"success": True, "result": {"id": "x"}},
     {"success": True, "result": [{"model": "no id"}]}, {"success": True, "result": [1, 2]}],
)
def test_malformed_list_replies_are_stream_errors(body: Any, wire_gw: Gateway, server: TestServer) -> None:
    server.queue(Reply(body=body))
    with pytest.raises(StreamError):
        list(wire_gw.logs.list())


def test_list_request_on_the_wire(wire_gw: Gateway, server: TestServer) -> None:
    server.queue(Reply(body={"success": True, "result": [], "result_info": {"total_count": 0}}))
    assert list(wire_gw.logs.list(success=False)) == []
    (req,) = server.requests
    assert req.method == "GET"
    assert req.path.startswith(f"/client/v4/accounts/{ACCOUNT}/ai-gateway/gateways/gw-9/logs?")
    assert req.headers["authorization"] == f"Bearer {CF_API_TOKEN}"
    assert API_KEY not in str(req.headers)


def test_a_404_on_the_collection_is_the_logs_unavailable_error(wire_gw: Gateway, server: TestServer) -> None:
    server.queue(Reply(status=404, body={"success": False, "result": None, "messages": [],
                                         "errors": [{"code": 7003, "message": "Could not route"}]}))
    with pytest.raises(LogsUnavailableError):
        list(wire_gw.logs.list())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12))
def test_any_json_entry_parses_or_is_a_stream_error(raw: Any) -> None:
    for candidate in (raw, {"id": "01JADMCQQQBWH3NXZ5GCRN98DP", **raw} if isinstance(raw, dict) else raw):
        try:
            entry = parse_log(candidate)
        except StreamError:
            continue
        assert isinstance(entry.id, str) and entry.id
        assert entry.tokens is None or isinstance(entry.tokens, int)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.sampled_from(["model", "provider", "success", "cached", "feedback", "event_id",
                                        "metadata", "since", "until", "min_cost", "max_cost", "filters"]),
                       st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5)
                       | st.lists(st.text(max_size=4), max_size=2)
                       | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2)))
def test_build_filters_checks_any_input(kwargs: dict[str, Any]) -> None:
    try:
        filters = build_filters(**kwargs)
    except ConfigurationError:
        return
    json.dumps([f.to_api() for f in filters], allow_nan=False)


def test_a_server_repeating_a_full_page_does_not_page_forever(wire_gw: Gateway, server: TestServer) -> None:
    entries = [{"id": f"01JADMCQQQBWH3NXZ5GCRN98D{i}"} for i in range(2)]
    for _ in range(3):
        server.queue(Reply(body={"success": True, "result": entries, "result_info": {}}))
    with pytest.raises(StreamError, match="would not end"):
        list(wire_gw.logs.list(per_page=2))
    assert len(server.requests) == 2
