"""A hostile server against embeddings, the logs API, feedback and failover (real HTTP on loopback).

Each test scripts replies that a well-behaved server never sends (pages that overlap or are
shorter than asked, numbers too large for a float, replies that arrive after the deadline) and
checks the client ends in a result or a typed error, never in a wrong, short or late answer.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_ai_gateway import (
    Gateway,
    GatewayError,
    GatewayTimeoutError,
    LogNotFoundError,
    StreamError,
)
from cf_ai_gateway.logs_query import parse_log

from .conftest import API_KEY
from .testserver import Reply, TestServer

CF_API_TOKEN = "cf-api-token-hostile-0123456789"
MODEL = "text-embedding-3-small"


@pytest.fixture
def logs_gw(make_gateway: Any, server: TestServer) -> Any:
    return make_gateway(
        gateway_id="gw-9",
        api_key=API_KEY,
        cf_api_token=CF_API_TOKEN,
        api_base_url=server.base_url.replace("/v1", "/client/v4"),
        max_retries=0,
    )


def _page(ids: list[str], **info: Any) -> Reply:
    return Reply(body={"success": True, "result": [{"id": i} for i in ids], "result_info": info})


def _entry(**fields: Any) -> bytes:
    return json.dumps({"success": True, "result": {"id": "log-1", **fields}}).encode()


# --- logs: pages ---------------------------------------------------------------------------------


def test_a_server_capping_per_page_still_gives_every_entry(
    logs_gw: Gateway, server: TestServer
) -> None:
    # Asked for 5 a page, the API gives 3 (its own cap, said in result_info) of 6.
    server.queue(
        _page(["a0", "a1", "a2"], per_page=3, total_count=6, page=1),
        _page(["b0", "b1", "b2"], per_page=3, total_count=6, page=2),
    )
    assert [e.id for e in logs_gw.logs.list(per_page=5)] == ["a0", "a1", "a2", "b0", "b1", "b2"]
    assert len(server.requests) == 2
    # A page size claimed larger than the one asked for is not believed either.
    server.queue(_page(["a0", "a1"], per_page=1000), _page(["b0"], per_page=1000))
    assert [e.id for e in logs_gw.logs.list(per_page=2)] == ["a0", "a1", "b0"]


def test_a_short_page_with_more_entries_counted_is_not_the_end(
    logs_gw: Gateway, server: TestServer
) -> None:
    server.queue(_page(["a0", "a1"], total_count=4), _page(["b0", "b1"], total_count=4))
    assert [e.id for e in logs_gw.logs.list(per_page=3)] == ["a0", "a1", "b0", "b1"]


def test_entries_repeated_across_pages_are_listed_once(
    logs_gw: Gateway, server: TestServer
) -> None:
    # New logs pushed older ones one place down between two page requests.
    server.queue(
        _page(["a0", "a1"], total_count=4),
        _page(["a1", "a2"], total_count=4),
        _page(["a3"], total_count=4),
    )
    assert [e.id for e in logs_gw.logs.list(per_page=2)] == ["a0", "a1", "a2", "a3"]
    server.queue(
        _page(["a0", "a1"], total_count=4),
        _page(["a1", "a2"], total_count=4),
        _page(["a3"], total_count=4),
    )
    pages = list(logs_gw.logs.pages(per_page=2))
    assert [[e.id for e in page] for page in pages] == [["a0", "a1"], ["a2"], ["a3"]]
    assert [page.is_last for page in pages] == [False, False, True]


def test_an_entry_repeated_within_a_page_is_listed_once(
    logs_gw: Gateway, server: TestServer
) -> None:
    server.queue(_page(["a0", "a0", "a1"], total_count=3), _page([], total_count=3))
    assert [e.id for e in logs_gw.logs.list(per_page=3)] == ["a0", "a1"]


def test_limit_counts_distinct_entries(logs_gw: Gateway, server: TestServer) -> None:
    server.queue(_page(["a0", "a1"]), _page(["a1", "a2"]))
    assert [e.id for e in logs_gw.logs.list(per_page=2, limit=3)] == ["a0", "a1", "a2"]


async def test_async_listing_pages_the_same_way(logs_gw: Gateway, server: TestServer) -> None:
    server.queue(
        _page(["a0", "a1", "a2"], per_page=3, total_count=5),
        _page(["a2", "b0", "b1"], per_page=3, total_count=5),
    )
    ids = [e.id async for e in logs_gw.logs.alist(per_page=5)]
    assert ids == ["a0", "a1", "a2", "b0", "b1"]


# --- logs: numbers out of range -----------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        _entry(cost=10**400),
        _entry(score=10**400),
        b'{"success":true,"result":{"id":"log-1","cost":1e999}}',
        b'{"success":true,"result":{"id":"log-1","score":-1e999}}',
    ],
)
def test_a_cost_or_score_too_large_for_a_float_reads_as_none(
    body: bytes, logs_gw: Gateway, server: TestServer
) -> None:
    server.queue(Reply(body=body))
    entry = logs_gw.logs.get("log-1")
    assert entry.id == "log-1" and entry.cost is None and entry.score is None


_NUMBERS = st.integers() | st.floats() | st.integers(min_value=10**308, max_value=10**600)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "cost",
                "score",
                "tokens_in",
                "tokens_out",
                "duration",
                "step",
                "feedback",
                "status_code",
            ]
        ),
        _NUMBERS,
        max_size=4,
    )
)
def test_any_numbers_in_an_entry_parse(fields: dict[str, Any]) -> None:
    entry = parse_log({"id": "log-1", **fields})
    for value in (entry.cost, entry.score):
        assert value is None or (isinstance(value, float) and value - value == 0)


# --- logs: deadlines -----------------------------------------------------------------------------


def test_get_with_a_timeout_does_not_wait_for_a_late_reply(
    logs_gw: Gateway, server: TestServer
) -> None:
    server.queue(Reply(body=_entry(), delay=1.5))
    with pytest.raises(GatewayTimeoutError):
        logs_gw.logs.get("log-1", timeout=0.3)


def test_find_does_not_wait_past_its_deadline_for_a_late_reply(
    logs_gw: Gateway, server: TestServer
) -> None:
    server.queue(Reply(body=_entry(), delay=1.5))
    with pytest.raises(LogNotFoundError):
        logs_gw.logs.find(log_id="log-1", timeout=0.3)
    server.queue(Reply(body={"success": True, "result": [{"id": "log-1"}]}, delay=1.5))
    with pytest.raises(LogNotFoundError):
        logs_gw.logs.find(event_id="event-1", timeout=0.3)


async def test_afind_does_not_wait_past_its_deadline(logs_gw: Gateway, server: TestServer) -> None:
    server.queue(Reply(body=_entry(), delay=1.5))
    with pytest.raises(LogNotFoundError):
        await logs_gw.logs.afind(log_id="log-1", timeout=0.3)


# --- embeddings: one deadline for every batch ----------------------------------------------------


def _vectors(count: int) -> dict[str, Any]:
    return {"data": [{"index": i, "embedding": [0.5, 0.25]} for i in range(count)], "model": MODEL}


@pytest.mark.parametrize("use_async", [False, True])
@pytest.mark.parametrize("how", ["httpx.Timeout", "gateway default"])
async def test_embed_timeout_bounds_all_batches_together(
    make_gateway: Any, server: TestServer, how: str, use_async: bool
) -> None:
    # Each batch alone fits in the timeout; the four of them one after the other do not.
    for _ in range(4):
        server.queue(Reply(body=_vectors(1), delay=0.4))
    kwargs: dict[str, Any] = {"model": MODEL, "batch_size": 1, "max_concurrency": 1}
    if how == "httpx.Timeout":
        gw = make_gateway(max_retries=0)
        kwargs["timeout"] = httpx.Timeout(1.0)
    else:
        gw = make_gateway(max_retries=0, timeout=1.0)
    with pytest.raises(GatewayTimeoutError):
        if use_async:
            await gw.aembed(["a", "b", "c", "d"], **kwargs)
        else:
            gw.embed(["a", "b", "c", "d"], **kwargs)
    assert len(server.requests) < 4


def test_embed_raises_the_first_failure_without_waiting_for_batches_in_flight(
    make_gateway: Any, server: TestServer
) -> None:
    # One batch is refused at once; the other gets its headers and then nothing.
    server.queue(
        Reply(
            status=400, body={"error": {"message": "bad input", "type": "invalid_request_error"}}
        ),
        Reply(chunks=[b'{"data": ['], hold=True),
    )
    gw = make_gateway(max_retries=0, timeout=5.0)
    with pytest.raises(GatewayError, match="bad input"):
        gw.embed(["a", "b"], model=MODEL, batch_size=1, max_concurrency=2)
    assert not server.disconnected.is_set()  # raised while the other batch was still held
    # The batch in flight still ends by the call's deadline and releases its connection.
    assert server.disconnected.wait(20)
    assert len(server.requests) == 2


# --- failover: the deadline of an async client --------------------------------------------------

_CHAT_OK = {
    "id": "c1",
    "object": "chat.completion",
    "model": "gpt-4o-mini",
    "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "late"}, "finish_reason": "stop"}
    ],
}


async def test_async_failover_keeps_the_async_clients_deadline(
    make_gateway: Any, server: TestServer
) -> None:
    from cf_ai_gateway.wire.types import ChatRequest, Message

    # The caller's own async client allows 0.8 s per call; the primary fails after 0.5 s and the
    # fallback answers only after a further second.
    server.queue(
        Reply(status=503, body={"error": {"message": "busy"}}, delay=0.5),
        Reply(body=_CHAT_OK, delay=1.0),
    )
    async with httpx.AsyncClient(timeout=0.8) as own:
        gw = make_gateway(max_retries=0, async_http_client=own)
        request = ChatRequest(model="gpt-4o", messages=[Message(role="user", content="hi")])
        with pytest.raises(GatewayError) as caught:
            await gw.achat(request, fallbacks=["gpt-4o-mini"])
    assert isinstance(caught.value, GatewayTimeoutError) or caught.value.status_code == 503


# --- feedback: the documented empty result ------------------------------------------------------


@pytest.mark.parametrize("use_async", [False, True])
async def test_feedback_answered_with_an_empty_result_returns_the_entry(
    logs_gw: Gateway, server: TestServer, use_async: bool
) -> None:
    # The API reference's example answer to PATCH .../logs/{id}.
    server.queue(Reply(body={"result": {}, "success": True}))
    if use_async:
        entry = await logs_gw.logs.afeedback("log-1", feedback=1, score=90, metadata={"user": "u1"})
    else:
        entry = logs_gw.logs.feedback("log-1", feedback=1, score=90, metadata={"user": "u1"})
    assert (entry.id, entry.feedback, entry.score, entry.metadata) == (
        "log-1",
        1,
        90.0,
        {"user": "u1"},
    )
    assert len(server.requests) == 1 and server.requests[0].method == "PATCH"


# --- profiles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [["gpt-4o"], {"model": "gpt-4o"}])
def test_a_model_profile_of_a_value_that_is_not_a_name_is_none(value: Any) -> None:
    from cf_ai_gateway.profiles import model_profile

    assert model_profile(value) is None


def test_find_skips_an_entry_of_another_event(logs_gw: Gateway, server: TestServer) -> None:
    # A server that ignored the event filter answers with the newest log, of another event.
    other = {"success": True, "result": [{"id": "log-other", "event_id": "ev-other"}]}
    server.queue(
        Reply(body=other),
        Reply(body=other),
        Reply(body={"success": True, "result": [{"id": "log-mine", "event_id": "ev-mine"}]}),
    )
    assert logs_gw.logs.find(event_id="ev-mine", timeout=30).id == "log-mine"
    server.default = Reply(body=other)
    try:
        with pytest.raises(LogNotFoundError):
            logs_gw.logs.find(event_id="ev-mine", timeout=0.3)
    finally:
        server.default = Reply(body={"ok": True})


_PAGES = st.lists(
    st.tuples(
        st.lists(st.sampled_from("abcdefgh"), max_size=5),
        st.none() | st.integers(-3, 12),
        st.none() | st.integers(-1, 6) | st.text(max_size=2),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(_PAGES, st.integers(1, 5), st.none() | st.integers(1, 6))
def test_any_run_of_pages_lists_each_entry_once_and_ends(
    pages: list[tuple[list[str], Any, Any]], per_page: int, limit: int | None
) -> None:
    from cf_ai_gateway.logs_paging import ListQuery, Paging
    from cf_ai_gateway.logs_query import parse_page

    paging = Paging(ListQuery({}, per_page, limit))
    listed: list[str] = []
    for ids, total, size in pages:
        page = parse_page(
            [{"id": i} for i in ids],
            {"total_count": total, "per_page": size},
            paging.number,
            per_page,
        )
        try:
            kept, last = paging.take(page)
        except StreamError:
            assert ids and set(ids) <= set(listed)  # only a page of entries already listed
            return
        listed += [entry.id for entry in kept]
        assert len(listed) == len(set(listed))
        assert limit is None or len(listed) <= limit
        if not ids:
            assert last
        if last:
            return


@pytest.mark.parametrize("use_async", [False, True])
async def test_feedback_retry_after_a_404_stays_within_the_clients_timeout(
    make_gateway: Any, server: TestServer, use_async: bool
) -> None:
    # Each answer comes within the 1 s timeout, but the retry's answer ends after it.
    server.queue(
        Reply(
            status=404,
            body={"success": False, "errors": [{"code": 1004, "message": "Log not found"}]},
            delay=0.7,
        ),
        Reply(body={"success": True, "result": {"id": "log-1"}}, delay=0.7),
    )
    gw = make_gateway(
        gateway_id="gw-9",
        cf_api_token=CF_API_TOKEN,
        timeout=1.0,
        max_retries=0,
        api_base_url=server.base_url.replace("/v1", "/client/v4"),
    )
    with pytest.raises(GatewayError):
        if use_async:
            await gw.afeedback("log-1", feedback=1)
        else:
            gw.feedback("log-1", feedback=1)


@pytest.mark.parametrize("use_async", [False, True])
async def test_a_delete_answered_with_a_false_result_is_an_error(
    logs_gw: Gateway, server: TestServer, use_async: bool
) -> None:
    server.queue(Reply(body={"success": True, "result": False}))
    with pytest.raises(StreamError, match="delete failed"):
        if use_async:
            await logs_gw.logs.adelete(model="gpt-4o")
        else:
            logs_gw.logs.delete(model="gpt-4o")
    assert [r.method for r in server.requests] == ["DELETE"]


@pytest.mark.parametrize("use_async", [False, True])
async def test_a_delete_with_a_limit_is_never_sent_twice(
    make_gateway: Any, server: TestServer, use_async: bool
) -> None:
    # The first try may have deleted its ``limit`` entries before the 500; a retry would
    # delete as many again.
    server.queue(
        Reply(status=500, body={"success": False, "errors": [{"code": 1000, "message": "oops"}]}),
        Reply(body={"success": True, "result": {"success": True}}),
    )
    gw = make_gateway(
        gateway_id="gw-9",
        cf_api_token=CF_API_TOKEN,
        max_retries=2,
        api_base_url=server.base_url.replace("/v1", "/client/v4"),
    )
    with pytest.raises(GatewayError):
        if use_async:
            await gw.logs.adelete(model="gpt-4o", limit=5)
        else:
            gw.logs.delete(model="gpt-4o", limit=5)
    assert len(server.requests) == 1


# --- the official openai clients: error envelopes in a 2xx reply ---------------------------------

_ENVELOPE_429 = {
    "success": False,
    "result": [],
    "messages": [],
    "error": [{"code": 2003, "message": "Rate limited"}],
    "name": "AiGatewayError",
    "httpCode": 429,
    "internalCode": 2003,
}


@pytest.mark.parametrize(
    "body", [_ENVELOPE_429, {"error": {"message": "overloaded", "type": "server_error"}}]
)
@pytest.mark.parametrize("use_async", [False, True])
async def test_openai_client_raises_for_an_error_envelope_in_a_2xx_reply(
    make_gateway: Any, server: TestServer, body: dict[str, Any], use_async: bool
) -> None:
    openai = pytest.importorskip("openai")
    from cf_ai_gateway.openai_client import gateway_error

    server.queue(Reply(body=body), Reply(body=_CHAT_OK))
    gw = make_gateway()
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.APIStatusError) as caught:
        if use_async:
            async with gw.async_openai_client(max_retries=2) as client:
                await client.chat.completions.create(model="gpt-4o", messages=messages)
        else:
            with gw.openai_client(max_retries=2) as client:
                client.chat.completions.create(model="gpt-4o", messages=messages)
    assert len(server.requests) == 1  # answered, so never sent again
    error = gateway_error(caught.value)
    if body is _ENVELOPE_429:
        assert error.code == 2003 and error.status_code == 429
    else:
        assert "overloaded" in str(error)


@pytest.mark.parametrize(
    "body", [b"{nope", b"\xff\xfe{}", b"[" * 100_000, b"null", b"[1, 2]", b'"text"']
)
@pytest.mark.parametrize("use_async", [False, True])
async def test_openai_client_raises_for_a_2xx_reply_that_is_no_json_object(
    make_gateway: Any, server: TestServer, body: bytes, use_async: bool
) -> None:
    openai = pytest.importorskip("openai")

    server.queue(
        Reply(body=body, headers={"content-type": "application/json"}), Reply(body=_CHAT_OK)
    )
    gw = make_gateway()
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(openai.APIStatusError):
        if use_async:
            async with gw.async_openai_client(max_retries=2) as client:
                await client.chat.completions.create(model="gpt-4o", messages=messages)
        else:
            with gw.openai_client(max_retries=2) as client:
                client.chat.completions.create(model="gpt-4o", messages=messages)
    assert len(server.requests) == 1


# --- failover: provider errors sent in a 2xx reply ----------------------------------------------


@pytest.mark.parametrize(
    ("error", "fails_over"),
    [
        ({"message": "overloaded", "type": "server_error"}, True),
        ({"message": "try later", "code": 503}, True),
        ({"message": "bad field", "type": "invalid_request_error"}, False),
        ({"message": "no such model", "code": 404}, False),
    ],
)
def test_a_provider_error_in_a_2xx_reply_fails_over_like_its_status(
    make_gateway: Any, server: TestServer, error: dict[str, Any], fails_over: bool
) -> None:
    from cf_ai_gateway.wire.types import ChatRequest, Message

    server.queue(Reply(body={"error": error}), Reply(body=_CHAT_OK))
    gw = make_gateway(max_retries=0)
    request = ChatRequest(model="gpt-4o", messages=[Message(role="user", content="hi")])
    if fails_over:
        result = gw.chat(request, fallbacks=["gpt-4o-mini"])
        assert result.text == "late" and len(server.requests) == 2
    else:
        with pytest.raises(GatewayError):
            gw.chat(request, fallbacks=["gpt-4o-mini"])
        assert len(server.requests) == 1
