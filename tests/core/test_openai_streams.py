"""Streams of the OpenAI SDK clients from `Gateway.openai_client()` against bad server bytes.

Everything a server can send in a stream ends in the SDK's own events or a `StreamError`
(`MalformedResponseError` for bytes that are no event) carrying the reply's log id: never a
`JSONDecodeError`, `UnicodeDecodeError`, an httpx exception, an `openai.APIError` or a silently
short answer. Good streams give exactly what the plain SDK gives. Every test talks HTTP to the
loopback test server, sync and async, for chat completions and Responses streams.
"""

from __future__ import annotations

import itertools
import json
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

openai = pytest.importorskip("openai")

from cf_ai_gateway import GatewayError, MalformedResponseError, StreamError  # noqa: E402

from .conftest import API_KEY, TOKEN  # noqa: E402
from .testserver import Reply, TestServer, sse  # noqa: E402

LOG_ID = "01JLOGIDSTREAMCHECKS000000"
HEADERS = {"cf-aig-log-id": LOG_ID}
MESSAGES = [{"role": "user", "content": "hi"}]


def chunk(content: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": content} if content is not None else {}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "model": "gpt-4o-mini",
    "status": "completed",
    "output": [],
    "parallel_tool_calls": True,
    "tool_choice": "auto",
    "tools": [],
}


def responses_event(kind: str, seq: int, **fields: Any) -> bytes:
    data = json.dumps({"type": kind, "sequence_number": seq, **fields})
    return f"event: {kind}\ndata: {data}\n\n".encode()


CREATED = responses_event("response.created", 0, response={**RESPONSE, "status": "in_progress"})
DELTA = responses_event(
    "response.output_text.delta", 1, item_id="m", output_index=0, content_index=0, delta="po"
)
COMPLETED = responses_event("response.completed", 2, response=RESPONSE)
GOOD_CHAT = sse(chunk("a"), chunk("b"))[:2]


def drain_sync(gw: Any, api: str) -> list[Any]:
    with gw.openai_client(max_retries=0) as client:
        if api == "chat":
            stream = client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
        else:
            stream = client.responses.create(model="gpt-4o-mini", input="ping", stream=True)
        return list(stream)


async def drain_async(gw: Any, api: str) -> list[Any]:
    async with gw.async_openai_client(max_retries=0) as client:
        if api == "chat":
            stream = await client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True
            )
        else:
            stream = await client.responses.create(model="gpt-4o-mini", input="ping", stream=True)
        return [event async for event in stream]


async def drain(gw: Any, api: str, mode: str) -> list[Any]:
    return drain_sync(gw, api) if mode == "sync" else await drain_async(gw, api)


def start_of(api: str) -> list[bytes]:
    return list(GOOD_CHAT) if api == "chat" else [CREATED, DELTA]


def end_of(api: str) -> list[bytes]:
    return [b"data: [DONE]\n\n"] if api == "chat" else [COMPLETED]


MODES = pytest.mark.parametrize("mode", ["sync", "async"])
APIS = pytest.mark.parametrize("api", ["chat", "responses"])

BAD_EVENTS = {
    "not-json": b"data: {not json}\n\n",
    "json-array": b"data: [1,2]\n\n",
    "json-number": b"data: 7\n\n",
    "json-string": b'data: "text"\n\n',
    "empty-data": b"data:\n\n",
    "not-utf8": b'data: {"x": "\xff\xfe"}\n\n',
    "deep-nesting": b"data: " + b"[" * 100_000 + b"\n\n",
}


@MODES
@APIS
@pytest.mark.parametrize("bad", list(BAD_EVENTS))
async def test_an_event_that_is_no_json_object_is_a_malformed_response(
    make_gateway: Any, server: TestServer, mode: str, api: str, bad: str
) -> None:
    gw = make_gateway(api_key=API_KEY, cf_aig_token=TOKEN)
    chunks = [*start_of(api), BAD_EVENTS[bad], *end_of(api)]
    server.queue(Reply(chunks=chunks, headers=HEADERS))
    with pytest.raises(StreamError) as caught:
        await drain(gw, api, mode)
    error = caught.value
    if bad not in ("not-utf8", "json-string"):  # a bare string is read as an error's text
        assert isinstance(error, MalformedResponseError)
    assert error.log_id == LOG_ID
    assert API_KEY not in str(error) + repr(error)
    assert server.wait_idle()


ERROR_BLOCKS = {
    "event-error-object": b'event: error\ndata: {"error": {"message": "overloaded"}}\n\n',
    "event-error-text": b"event: error\ndata: overloaded\n\n",
    "event-error-empty": b"event: error\n\n",
    "error-chunk": b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n',
    "responses-error": b'event: error\ndata: {"type": "error", "message": "overloaded"}\n\n',
    "gateway-error": b'data: {"error": [{"code": 2005, "message": "overloaded"}]}\n\n',
}


@MODES
@APIS
@pytest.mark.parametrize("block", list(ERROR_BLOCKS))
async def test_an_error_event_is_a_stream_error(
    make_gateway: Any, server: TestServer, mode: str, api: str, block: str
) -> None:
    gw = make_gateway()
    server.queue(Reply(chunks=[*start_of(api), ERROR_BLOCKS[block]], headers=HEADERS))
    with pytest.raises(StreamError) as caught:
        await drain(gw, api, mode)
    assert caught.value.log_id == LOG_ID
    if block != "event-error-empty":
        assert "overloaded" in str(caught.value)


@MODES
async def test_a_secret_echoed_in_an_error_event_is_scrubbed(
    make_gateway: Any, server: TestServer, mode: str
) -> None:
    gw = make_gateway(api_key=API_KEY, cf_aig_token=TOKEN)
    echo = json.dumps({"error": {"message": f"bad key {API_KEY} / Bearer {TOKEN}"}})
    server.queue(Reply(chunks=[f"event: error\ndata: {echo}\n\n".encode()], headers=HEADERS))
    with pytest.raises(StreamError) as caught:
        await drain(gw, "chat", mode)
    text = str(caught.value) + repr(caught.value) + repr(caught.value.body)
    assert API_KEY not in text and TOKEN not in text


@MODES
@APIS
async def test_a_stream_cut_mid_event_is_a_stream_error(
    make_gateway: Any, server: TestServer, mode: str, api: str
) -> None:
    gw = make_gateway()
    server.queue(
        Reply(
            chunks=[*start_of(api), b'data: {"id": "chatcmpl-1", "obj'], cut=True, headers=HEADERS
        )
    )
    with pytest.raises(StreamError) as caught:
        await drain(gw, api, mode)
    assert caught.value.log_id == LOG_ID
    assert server.wait_idle()


@MODES
@APIS
async def test_a_stream_that_ends_before_its_terminal_event_is_a_stream_error(
    make_gateway: Any, server: TestServer, mode: str, api: str
) -> None:
    gw = make_gateway()
    server.queue(Reply(chunks=start_of(api), headers=HEADERS))
    with pytest.raises(StreamError, match="terminal") as caught:
        await drain(gw, api, mode)
    assert caught.value.log_id == LOG_ID


@MODES
async def test_a_responses_stream_with_done_but_no_terminal_event_is_a_stream_error(
    make_gateway: Any, server: TestServer, mode: str
) -> None:
    gw = make_gateway()
    server.queue(Reply(chunks=[CREATED, DELTA, b"data: [DONE]\n\n"], headers=HEADERS))
    with pytest.raises(StreamError, match=r"response\.completed"):
        await drain(gw, "responses", mode)


# -- good streams are the plain SDK's -------------------------------------------------------------

GOOD_STREAMS = {
    "chat": [
        b": keep-alive comment\n\n",
        *sse(chunk("a"), chunk(" b\u00e9"), chunk(None, "stop"), done=False),
        b'data: {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,\r\n'
        b'data: "model": "m", "choices": []}\r\n\r\n',
        b"data: [DONE]\n\n",
    ],
    "responses": [CREATED, b"id: 7\nretry: 10\n" + DELTA, COMPLETED],
}


@MODES
@APIS
async def test_good_streams_give_what_the_plain_sdk_gives(
    make_gateway: Any, server: TestServer, mode: str, api: str
) -> None:
    gw = make_gateway()
    server.queue(
        Reply(chunks=GOOD_STREAMS[api], headers=HEADERS),
        Reply(chunks=GOOD_STREAMS[api], headers=HEADERS),
    )
    ours = await drain(gw, api, mode)
    plain_url = str(gw.openai_client().base_url)
    if mode == "sync":
        with openai.OpenAI(api_key="sk-plain", base_url=plain_url, max_retries=0) as plain:
            if api == "chat":
                theirs = list(
                    plain.chat.completions.create(model="m", messages=MESSAGES, stream=True)
                )
            else:
                theirs = list(plain.responses.create(model="m", input="ping", stream=True))
    else:
        async with openai.AsyncOpenAI(
            api_key="sk-plain", base_url=plain_url, max_retries=0
        ) as aplain:
            if api == "chat":
                astream = await aplain.chat.completions.create(
                    model="m", messages=MESSAGES, stream=True
                )
            else:
                astream = await aplain.responses.create(model="m", input="ping", stream=True)
            theirs = [event async for event in astream]
    assert len(ours) == len(theirs) == (4 if api == "chat" else 3)
    assert [type(e) for e in ours] == [type(e) for e in theirs]
    assert [e.model_dump() for e in ours] == [e.model_dump() for e in theirs]


# -- any bytes in a data line ---------------------------------------------------------------------


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=st.binary(max_size=64).filter(lambda b: b"\n" not in b and b"\r" not in b),
    api=st.sampled_from(["chat", "responses"]),
)
def test_any_bytes_in_a_data_line_end_in_events_or_a_gateway_error(
    make_gateway: Any, server: TestServer, payload: bytes, api: str
) -> None:
    gw = make_gateway(api_key=API_KEY)
    server.reset()
    server.queue(Reply(chunks=[*start_of(api), b"data: " + payload + b"\n\n", *end_of(api)]))
    try:
        drain_sync(gw, api)
    except GatewayError as exc:
        assert API_KEY not in str(exc) + repr(exc)
    assert server.wait_idle()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    payload=st.binary(max_size=64).filter(lambda b: b"\n" not in b and b"\r" not in b),
    api=st.sampled_from(["chat", "responses"]),
)
def test_any_bytes_in_a_data_line_end_in_events_or_a_gateway_error_async(
    make_gateway: Any, server: TestServer, payload: bytes, api: str
) -> None:
    import asyncio

    gw = make_gateway(api_key=API_KEY)
    server.reset()
    server.queue(Reply(chunks=[*start_of(api), b"data: " + payload + b"\n\n", *end_of(api)]))
    try:
        asyncio.run(drain_async(gw, api))
    except GatewayError as exc:
        assert API_KEY not in str(exc) + repr(exc)


@MODES
async def test_clients_copied_with_options_keep_checked_streams(
    make_gateway: Any, server: TestServer, mode: str
) -> None:
    gw = make_gateway()
    server.queue(Reply(chunks=[*GOOD_CHAT, b"data: {not json}\n\n"], headers=HEADERS))
    if mode == "sync":
        with gw.openai_client() as client:
            copy = client.with_options(max_retries=0, timeout=9)
            assert isinstance(copy, openai.OpenAI)
            stream = copy.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            with pytest.raises(MalformedResponseError):
                list(stream)
    else:
        async with gw.async_openai_client() as aclient:
            acopy = aclient.with_options(max_retries=0, timeout=9)
            assert isinstance(acopy, openai.AsyncOpenAI)
            astream = await acopy.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            with pytest.raises(MalformedResponseError):
                [event async for event in astream]


# -- framing: the same events as the SDK, in linear time and bounded memory ------------------------

field_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=12
)


@st.composite
def good_stream(draw: Any) -> tuple[bytes, list[int]]:
    newline = draw(st.sampled_from([b"\n", b"\r\n", b"\r"]))
    lines: list[bytes] = []
    for index in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            lines.append(b": " + draw(field_text).encode())
        if draw(st.booleans()):
            lines.append(b"event: " + draw(field_text).encode())
        if draw(st.booleans()):
            lines.append(b"id: " + draw(field_text).encode())
        text = json.dumps(draw(field_text))
        if draw(st.booleans()):  # one event's data on two lines, joined by "\n"
            lines += [f'data: {{"n": {index},'.encode(), f'data:"text": {text}}}'.encode()]
        else:
            lines.append(f'data: {{"n": {index}, "text": {text}}}'.encode())
        lines.append(b"")
    lines += [b"data: [DONE]", b""]
    body = b"".join(line + newline for line in lines)
    cuts = sorted(draw(st.lists(st.integers(0, len(body)), max_size=8)))
    return body, cuts


def pieces(body: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *cuts, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


def fields(events: Any) -> list[tuple[Any, ...]]:
    out = []
    for event in events:
        out.append((event.event, event.data, event.id, event.retry))
        if event.data.startswith("[DONE]"):
            break
    return out


@settings(max_examples=200, deadline=None)
@given(good_stream())
def test_checked_framing_gives_the_sdk_events_however_reads_cut_them(
    stream: tuple[bytes, list[int]],
) -> None:
    from openai._streaming import SSEDecoder

    from cf_ai_gateway.openai_streams import CheckedSSEDecoder

    body, cuts = stream
    theirs = fields(SSEDecoder().iter_bytes(iter(pieces(body, cuts))))
    ours = fields(CheckedSSEDecoder().iter_bytes(iter(pieces(body, cuts))))
    assert ours == theirs
    assert [json.loads(e[1]) for e in ours[:-1]]


@MODES
async def test_an_event_past_the_size_limit_is_refused_unbuffered(
    make_gateway: Any, server: TestServer, mode: str
) -> None:
    from cf_ai_gateway.sse import DEFAULT_MAX_EVENT_SIZE

    gw = make_gateway()
    piece = b"x" * 65536
    huge = [b'data: {"text": "', *[piece] * (DEFAULT_MAX_EVENT_SIZE // len(piece) + 1)]
    server.queue(Reply(chunks=[*GOOD_CHAT, *huge, b'"}\n\n', b"data: [DONE]\n\n"], headers=HEADERS))
    with pytest.raises(StreamError, match="max_event_size") as caught:
        await drain(gw, "chat", mode)
    assert caught.value.log_id == LOG_ID


@MODES
async def test_a_stream_that_stalls_past_the_timeout_is_a_gateway_timeout(
    make_gateway: Any, server: TestServer, mode: str
) -> None:
    from cf_ai_gateway import GatewayTimeoutError

    gw = make_gateway(timeout=0.5)
    server.queue(Reply(chunks=GOOD_CHAT, hold=True, headers=HEADERS))
    with pytest.raises(GatewayTimeoutError) as caught:
        await drain(gw, "chat", mode)
    assert caught.value.log_id == LOG_ID
    assert server.disconnected.wait(5)


def test_assistants_streams_are_checked_too(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()
    run = b'event: thread.run.created\ndata: {"id": "run_1", "object": "thread.run"}\n\n'
    server.queue(
        Reply(chunks=[run, b"event: thread.message.delta\ndata: [1]\n\n"], headers=HEADERS)
    )
    with gw.openai_client(max_retries=0) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the Assistants API is deprecated
        stream = client.beta.threads.runs.create("thread_1", assistant_id="asst_1", stream=True)
        with pytest.raises(MalformedResponseError) as caught:
            list(stream)
    assert caught.value.log_id == LOG_ID


# -- a stream request answered with one JSON reply (Guardrails buffer streams) --------------------

COMPLETION = {
    "id": "chatcmpl-9",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "buffered answer"},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}
RESPONSE_REPLY = {
    **RESPONSE,
    "output": [
        {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "buffered answer", "annotations": []}],
        }
    ],
}


def text_of(events: list[Any], api: str) -> str:
    if api == "chat":
        return "".join(e.choices[0].delta.content or "" for e in events if e.choices)
    return "".join(e.delta for e in events if e.type == "response.output_text.delta")


@MODES
@APIS
async def test_a_stream_request_answered_with_one_json_reply_streams_that_reply(
    make_gateway: Any, server: TestServer, mode: str, api: str
) -> None:
    gw = make_gateway()
    body = COMPLETION if api == "chat" else RESPONSE_REPLY
    server.queue(Reply(body=body, headers=HEADERS))
    events = await drain(gw, api, mode)
    assert text_of(events, api) == "buffered answer"
    if api == "responses":
        assert events[-1].type == "response.completed"
        assert events[-1].response.output_text == "buffered answer"
    assert len(server.requests) == 1


@MODES
async def test_a_json_reply_of_the_wrong_endpoint_to_a_stream_request_is_an_error(
    make_gateway: Any, server: TestServer, mode: str
) -> None:
    gw = make_gateway()
    server.queue(Reply(body={"id": "x", "object": "chat.completion", "choices": "no"}))
    with pytest.raises(openai.APIStatusError) as caught:
        await drain(gw, "chat", mode)
    assert caught.value.status_code == 502
    assert len(server.requests) == 1


def test_the_size_limit_counts_each_event_on_its_own() -> None:
    from cf_ai_gateway.openai_streams import CheckedSSEDecoder

    first = b'data: {"a":\ndata: "' + b"x" * 60 + b'"}\n'  # complete lines, then the blank one
    second = b'data: {"b": "' + b"y" * 60 + b'"}\n\n'
    reads = [first, b"\n" + second[:50], second[50:] + b"data: [DONE]\n\n"]
    events = fields(CheckedSSEDecoder(max_event_size=100).iter_bytes(iter(reads)))
    assert [e[1][:5] for e in events] == ['{"a":', '{"b":', "[DONE"]
    too_big = [b'data: {"a": "' + b"x" * 60, b"x" * 40 + b'"}\n\n']
    (refused,) = CheckedSSEDecoder(max_event_size=100).iter_bytes(iter(too_big))
    assert refused.data == "" and type(refused.json()).__name__ == "Refusal"


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(0, 400), ahead=st.integers(0, 3))
def test_events_ahead_of_an_oversized_one_come_out_however_reads_cut_them(
    cut: int, ahead: int
) -> None:
    """The events before an event past the limit are given, then the refusal, whether they
    arrive in the same read as it or not."""
    from cf_ai_gateway.openai_streams import CheckedSSEDecoder

    body = b"".join(b'data: {"n": %d}\n\n' % n for n in range(ahead))
    body += b'data: {"big": "' + b"x" * 200 + b'"}\n\n'
    cut = min(cut, len(body))
    events = list(CheckedSSEDecoder(max_event_size=100).iter_bytes(iter([body[:cut], body[cut:]])))
    *given_events, refused = events
    assert [json.loads(e.data) for e in given_events] == [{"n": n} for n in range(ahead)]
    assert type(refused.json()).__name__ == "Refusal"


@MODES
async def test_the_gateways_max_event_size_bounds_sdk_client_streams(
    make_gateway: Any, server: TestServer, mode: str
) -> None:
    """``Gateway(max_event_size=...)`` bounds the events of its OpenAI clients' streams too."""
    big = sse(chunk("x" * 3000))
    server.queue(Reply(chunks=[*GOOD_CHAT, *big, b"data: [DONE]\n\n"], headers=HEADERS))
    with pytest.raises(StreamError, match="max_event_size") as caught:
        await drain(make_gateway(max_event_size=1024), "chat", mode)
    assert caught.value.log_id == LOG_ID
    server.queue(Reply(chunks=[*GOOD_CHAT, *big, b"data: [DONE]\n\n"], headers=HEADERS))
    events = await drain(make_gateway(max_event_size=8192), "chat", mode)
    assert [e.choices[0].delta.content for e in events] == ["a", "b", "x" * 3000]
