"""Faulty successful replies, against a real socket: error envelopes sent with a 2xx, bodies that
are not a reply of their endpoint, error events in streams, Responses streams without their
terminal event, text that only the final event holds, stream requests answered with one JSON
document (buffered by the gateway), and JSON nested too deeply to parse. Every case ends in a
result or a typed :class:`GatewayError`, sync and async, on both endpoints, and is never retried.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cf_ai_gateway import (
    GatewayAuthenticationError,
    GatewayBadRequestError,
    GatewayContentBlockedError,
    GatewayError,
    MalformedResponseError,
    ProviderError,
    StreamError,
)
from cf_ai_gateway.wire.types import ChatRequest, Message, Usage

from .replies import CALL, FUNCTION_CALL, chat_reply, reply, responses_reply
from .testserver import Reply, TestServer, sse

# Every async test runs on both async transports (httpx, and aiohttp where installed).
pytestmark = pytest.mark.usefixtures("wire")

REQUEST = ChatRequest(model="m", messages=[Message(role="user", content="hi")])
LOG = {"cf-aig-log-id": "log-123"}
ENDPOINT = {"chat": "chat/completions", "responses": "responses"}


async def chat(gw: Any, api: str, sync: bool) -> Any:
    if sync:
        return gw.chat(REQUEST, api=api)
    return await gw.achat(REQUEST, api=api)


async def stream_deltas(gw: Any, api: str, sync: bool) -> tuple[list[Any], Any, Any]:
    """(deltas, result, info) of one neutral stream."""
    if sync:
        with gw.chat_stream(REQUEST, api=api) as stream:
            deltas = list(stream)
            return deltas, stream.result(), stream.info
    async with gw.achat_stream(REQUEST, api=api) as astream:
        deltas = [delta async for delta in astream]
        return deltas, astream.result(), astream.info


async def raw_events(gw: Any, endpoint: str, sync: bool) -> tuple[list[dict[str, Any]], Any]:
    if sync:
        with gw.stream(endpoint, {"model": "m"}) as stream:
            return list(stream), stream.info
    async with gw.astream(endpoint, {"model": "m"}) as astream:
        return [event async for event in astream], astream.info


SYNC = pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
API = pytest.mark.parametrize("api", ["chat", "responses"])

# -- 1. a 2xx holding an error envelope ------------------------------------------------------------

ENVELOPES = [
    pytest.param(
        {"error": [{"code": 2005, "message": "Failed to route the request"}]},
        GatewayBadRequestError,
        2005,
        "Failed to route the request",
        id="gateway-list",
    ),
    pytest.param(
        {
            "success": False,
            "error": [{"code": 2016, "message": "Prompt blocked"}],
            "name": "AiGatewayError",
            "internalCode": 2016,
        },
        GatewayContentBlockedError,
        2016,
        "Prompt blocked",
        id="gateway-envelope",
    ),
    pytest.param(
        {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]},
        GatewayAuthenticationError,
        10000,
        "Authentication error",
        id="api-errors",
    ),
    pytest.param(
        {"error": {"message": "The model is overloaded", "type": "server_error"}},
        ProviderError,
        None,
        "The model is overloaded",
        id="provider-object",
    ),
    pytest.param(
        {"error": "upstream said no"}, ProviderError, None, "upstream said no", id="string"
    ),
    pytest.param(
        [{"error": {"code": 400, "message": "Gemini refused", "status": "INVALID_ARGUMENT"}}],
        ProviderError,
        None,
        "Gemini refused",
        id="list-wrapped",
    ),
]


@SYNC
@API
@pytest.mark.parametrize(("body", "kind", "code", "message"), ENVELOPES)
async def test_2xx_error_envelope_raises_its_typed_error(
    make_gateway: Any,
    server: TestServer,
    api: str,
    sync: bool,
    body: Any,
    kind: type[GatewayError],
    code: int | None,
    message: str,
) -> None:
    server.queue(Reply(body=body, headers=LOG))
    gw = make_gateway()
    with pytest.raises(kind) as err:
        await chat(gw, api, sync)
    assert message in str(err.value)
    assert (err.value.code, err.value.log_id, err.value.status_code) == (code, "log-123", 200)
    assert len(server.requests) == 1  # an answered request is never sent again


@SYNC
@pytest.mark.parametrize(("body", "kind", "code", "message"), ENVELOPES)
async def test_raw_create_raises_for_an_error_envelope(
    make_gateway: Any,
    server: TestServer,
    sync: bool,
    body: Any,
    kind: type[GatewayError],
    code: int | None,
    message: str,
) -> None:
    server.queue(Reply(body=body, headers=LOG))
    gw = make_gateway()
    with pytest.raises(kind, match=message):
        if sync:
            gw.create("chat/completions", {})
        else:
            await gw.acreate("chat/completions", {})


# -- 2. a 2xx that is not a reply of its endpoint ---------------------------------------------------

MALFORMED_CHAT = [
    pytest.param({}, "'choices' is missing", id="empty-object"),
    pytest.param({"choices": {"0": {}}}, "'choices' is not a list", id="choices-object"),
    pytest.param({"choices": []}, "'choices' is empty", id="no-choice"),
    pytest.param({"choices": ["hi"]}, "choices[0] is not an object", id="choice-string"),
    pytest.param({"choices": [{"message": "Hello"}]}, "message", id="message-string"),
    pytest.param({"choices": [{"index": 0}]}, "message", id="no-message"),
    pytest.param({"choices": [{"message": {"content": ["Hello"]}}]}, "part", id="part-string"),
    pytest.param({"choices": [{"message": {"content": 42}}]}, "content", id="content-number"),
    pytest.param(
        {"choices": [{"message": {"tool_calls": {"a": 1}}}]}, "tool_calls", id="calls-obj"
    ),
    pytest.param({"choices": [{"message": {"tool_calls": ["x"]}}]}, "tool_calls[0]", id="call-str"),
    pytest.param(
        {"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": "3"}},
        "prompt_tokens",
        id="usage-string",
    ),
    pytest.param(
        {"choices": [{"message": {"content": "ok"}}], "usage": [1]}, "usage", id="usage-list"
    ),
    pytest.param(
        {"choices": [{"message": {"content": "ok"}, "finish_reason": ["stop"]}]},
        "finish_reason",
        id="finish-list",
    ),
]
MALFORMED_RESPONSES = [
    pytest.param({}, "'output' is missing", id="empty-object"),
    pytest.param({"output": {"a": 1}}, "'output' is not a list", id="output-object"),
    pytest.param({"output": ["Hello"]}, "output[0] is not an object", id="item-string"),
    pytest.param(
        {"output": [{"type": "message", "content": "Hello"}]}, "content", id="content-str"
    ),
    pytest.param(
        {"output": [{"type": "message", "content": [{"type": "output_text", "text": 5}]}]},
        "'text'",
        id="text-number",
    ),
    pytest.param({"output": [{"type": "function_call", "arguments": "{}"}]}, "name", id="no-name"),
    pytest.param({"output": [], "usage": {"input_tokens": []}}, "input_tokens", id="usage-list"),
    pytest.param({"output": [], "status": 3}, "status", id="status-number"),
]


@SYNC
@pytest.mark.parametrize(
    ("api", "body", "what"),
    [
        *[pytest.param("chat", *p.values, id=f"chat-{p.id}") for p in MALFORMED_CHAT],
        *[
            pytest.param("responses", *p.values, id=f"responses-{p.id}")
            for p in MALFORMED_RESPONSES
        ],
    ],
)
async def test_2xx_that_is_no_reply_is_malformed(
    make_gateway: Any, server: TestServer, api: str, body: Any, what: str, sync: bool
) -> None:
    server.queue(Reply(body=body, headers=LOG))
    gw = make_gateway()
    with pytest.raises(MalformedResponseError) as err:
        await chat(gw, api, sync)
    assert what in str(err.value)
    assert err.value.log_id == "log-123" and isinstance(err.value, StreamError)
    assert len(server.requests) == 1


@SYNC
@pytest.mark.parametrize(
    ("body", "what"),
    [(b"", "empty"), (b"[1, 2]", "array"), (b'"ok"', "string"), (b"null", "null")],
)
async def test_raw_create_needs_a_json_object(
    make_gateway: Any, server: TestServer, body: bytes, what: str, sync: bool
) -> None:
    server.queue(Reply(body=body, headers=LOG))
    gw = make_gateway()
    with pytest.raises(MalformedResponseError, match=what) as err:
        if sync:
            gw.create("chat/completions", {})
        else:
            await gw.acreate("chat/completions", {})
    assert err.value.log_id == "log-123"


@SYNC
async def test_failed_response_object_raises(
    make_gateway: Any, server: TestServer, sync: bool
) -> None:
    body = responses_reply("")
    body.update(status="failed", error={"code": "server_error", "message": "The model crashed"})
    server.queue(Reply(body=body, headers=LOG))
    gw = make_gateway()
    with pytest.raises(ProviderError, match="The model crashed"):
        await chat(gw, "responses", sync)


# -- 3. error events in a stream --------------------------------------------------------------------

ERROR_EVENTS = [
    pytest.param(
        b'event: error\ndata: {"message": "overloaded", "code": 2005}\n\n',
        "overloaded",
        2005,
        id="object",
    ),
    pytest.param(
        b'event: error\ndata: {"error": [{"code": 2005, "message": "Route failed"}]}\n\n',
        "Route failed",
        2005,
        id="gateway-list",
    ),
    pytest.param(
        b"event: error\ndata: upstream exploded\n\n", "provider: upstream exploded", None, id="text"
    ),
    pytest.param(b"event: error\ndata: [[[[{}]]]]\n\n", "error event", None, id="garbage"),
    pytest.param(b"event: error\ndata: " + b"[" * 5000 + b"\n\n", "[[[", None, id="deep"),
    pytest.param(b"event: error\n\n", "error event", None, id="no-data"),
    pytest.param(
        b'data: {"error": [{"code": 2005, "message": "Route failed"}]}\n\n',
        "Route failed",
        2005,
        id="chunk-gateway-list",
    ),
]


@SYNC
@API
@pytest.mark.parametrize(("chunk", "message", "code"), ERROR_EVENTS)
async def test_error_event_raises_stream_error_with_its_message_and_code(
    make_gateway: Any,
    server: TestServer,
    api: str,
    sync: bool,
    chunk: bytes,
    message: str,
    code: int | None,
) -> None:
    first = (
        {"type": "response.created", "response": {"id": "r", "status": "in_progress", "output": []}}
        if api == "responses"
        else {"id": "c", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}
    )
    server.queue(Reply(chunks=[*sse(first, done=False), chunk, b"data: [DONE]\n\n"], headers=LOG))
    gw = make_gateway()
    with pytest.raises(StreamError) as err:
        await stream_deltas(gw, api, sync)
    assert message in str(err.value)
    assert (err.value.code, err.value.log_id) == (code, "log-123")


@SYNC
async def test_raw_stream_error_event(make_gateway: Any, server: TestServer, sync: bool) -> None:
    server.queue(Reply(chunks=[b"event: error\ndata: upstream exploded\n\n"]))
    gw = make_gateway()
    with pytest.raises(StreamError, match="stream error from provider: upstream exploded"):
        await raw_events(gw, "chat/completions", sync)


# -- 4. a Responses stream ends only with its terminal event ---------------------------------------


@SYNC
async def test_responses_done_without_terminal_event_is_an_error(
    make_gateway: Any, server: TestServer, sync: bool
) -> None:
    events = [
        {
            "type": "response.created",
            "response": {"id": "r", "status": "in_progress", "output": []},
        },
        {"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "delta": "Hel"},
    ]
    for _ in range(2):
        server.queue(Reply(chunks=sse(*events, done=True), headers=LOG))
    gw = make_gateway()
    with pytest.raises(StreamError, match=r"\[DONE\] without response.completed") as err:
        await stream_deltas(gw, "responses", sync)
    assert err.value.log_id == "log-123"
    with pytest.raises(StreamError, match=r"without response\.completed"):
        await raw_events(gw, "responses", sync)


# -- 5. text and tool calls that only the final event holds ----------------------------------------


@SYNC
async def test_responses_text_only_in_completed_event_reaches_the_deltas(
    make_gateway: Any, server: TestServer, sync: bool
) -> None:
    final = responses_reply("Only in the final event", [FUNCTION_CALL])
    events = [
        {
            "type": "response.created",
            "response": {"id": "resp_1", "status": "in_progress", "output": []},
        },
        {"type": "response.completed", "response": final},
    ]
    server.queue(Reply(chunks=sse(*events, done=False)))
    gw = make_gateway()
    deltas, result, _ = await stream_deltas(gw, "responses", sync)
    assert "".join(d.text for d in deltas) == "Only in the final event"
    chunks = [c for d in deltas for c in d.tool_call_chunks]
    assert [(c.index, c.id, c.name, c.arguments) for c in chunks] == [
        (0, "call_1", "get", '{"a":1}')
    ]
    assert result.text == "Only in the final event" and result.finish_reason == "tool_calls"
    assert [c.name for c in result.tool_calls] == ["get"]


@SYNC
async def test_responses_final_text_completes_a_partial_stream(
    make_gateway: Any, server: TestServer, sync: bool
) -> None:
    events = [
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hello",
        },
        {"type": "response.completed", "response": responses_reply("Hello world")},
    ]
    server.queue(Reply(chunks=sse(*events, done=False)))
    gw = make_gateway()
    deltas, result, _ = await stream_deltas(gw, "responses", sync)
    assert [d.text for d in deltas if d.text] == ["Hello", " world"]
    assert result.text == "Hello world"


# -- 6. a stream request answered with one JSON document -------------------------------------------


@SYNC
@API
@pytest.mark.parametrize(("body", "kind", "code", "message"), ENVELOPES)
async def test_stream_answered_with_an_error_body_raises_its_typed_error(
    make_gateway: Any,
    server: TestServer,
    api: str,
    sync: bool,
    body: Any,
    kind: type[GatewayError],
    code: int | None,
    message: str,
) -> None:
    server.queue(Reply(body=body, headers=LOG))
    gw = make_gateway()
    with pytest.raises(kind) as err:
        await stream_deltas(gw, api, sync)
    assert message in str(err.value) and "terminal event" not in str(err.value)
    assert (err.value.code, err.value.log_id) == (code, "log-123")
    assert len(server.requests) == 1


@SYNC
@API
@pytest.mark.parametrize("tools", [False, True], ids=["text", "tool-call"])
async def test_buffered_stream_is_re_emitted(
    make_gateway: Any, server: TestServer, api: str, sync: bool, tools: bool
) -> None:
    server.queue(Reply(body=reply(api, "Guarded answer", tools), headers=LOG))
    gw = make_gateway()
    deltas, result, info = await stream_deltas(gw, api, sync)
    assert info.buffered is True and info.log_id == "log-123"
    assert info.to_dict()["buffered"] is True
    assert "".join(d.text for d in deltas) == "Guarded answer"
    chunks = [c for d in deltas for c in d.tool_call_chunks]
    assert [(c.index, c.id, c.name) for c in chunks if c.name] == (
        [(0, "call_1", "get")] if tools else []
    )
    assert "".join(c.arguments for c in chunks) == ('{"a":1}' if tools else "")
    assert [d.usage for d in deltas if d.usage] == [Usage(3, 2, 5)]
    finish = [d.finish_reason for d in deltas if d.finish_reason]
    assert finish == (["tool_calls"] if tools else ["stop"])
    assert (result.text, result.usage, result.finish_reason) == (
        "Guarded answer",
        Usage(3, 2, 5),
        finish[0],
    )
    assert [c.name for c in result.tool_calls] == (["get"] if tools else [])


@SYNC
async def test_buffered_raw_chat_stream_has_the_endpoint_events(
    make_gateway: Any, server: TestServer, sync: bool
) -> None:
    server.queue(Reply(body=chat_reply("Hi", tool_calls=[CALL])))
    gw = make_gateway()
    events, info = await raw_events(gw, "chat/completions", sync)
    assert info.buffered
    assert [e["object"] for e in events] == ["chat.completion.chunk"] * 2
    delta = events[0]["choices"][0]["delta"]
    assert delta["content"] == "Hi" and delta["tool_calls"] == [{**CALL, "index": 0}]
    assert events[0]["choices"][0]["finish_reason"] == "tool_calls"
    assert events[1]["choices"] == [] and events[1]["usage"]["total_tokens"] == 5


@SYNC
async def test_buffered_raw_responses_stream_has_the_endpoint_events(
    make_gateway: Any, server: TestServer, sync: bool
) -> None:
    body = responses_reply("Hi", [FUNCTION_CALL])
    server.queue(Reply(body=body))
    gw = make_gateway()
    events, info = await raw_events(gw, "responses", sync)
    assert info.buffered
    kinds = [e["type"] for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert events[-1]["response"] == body
    assert (
        "response.output_text.delta" in kinds and "response.function_call_arguments.delta" in kinds
    )
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


@SYNC
@pytest.mark.parametrize(("status", "finish"), [("incomplete", "length"), ("completed", "stop")])
async def test_buffered_responses_status_picks_the_terminal_event(
    make_gateway: Any, server: TestServer, sync: bool, status: str, finish: str
) -> None:
    body = responses_reply("Cut")
    body["status"] = status
    server.queue(Reply(body=body))
    gw = make_gateway()
    _, result, _ = await stream_deltas(gw, "responses", sync)
    assert (result.text, result.finish_reason) == ("Cut", finish)


@SYNC
@API
async def test_buffered_reply_of_the_wrong_shape_is_malformed(
    make_gateway: Any, server: TestServer, api: str, sync: bool
) -> None:
    server.queue(Reply(body={"unexpected": True}, headers=LOG))
    gw = make_gateway()
    with pytest.raises(MalformedResponseError, match=r"'(choices|output)' is missing") as err:
        await stream_deltas(gw, api, sync)
    assert err.value.log_id == "log-123"


# -- 7. deep nesting and wrong shapes ---------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000
NESTED = b'{"a":' * 600 + b"1" + b"}" * 600  # parses, but too deep to keep on an error


@SYNC
@API
@pytest.mark.parametrize("body", [DEEP, NESTED], ids=["too-deep", "deep"])
async def test_deeply_nested_bodies_are_typed_errors(
    make_gateway: Any, server: TestServer, api: str, sync: bool, body: bytes
) -> None:
    server.queue(Reply(body=body, headers={"content-type": "application/json"}))
    gw = make_gateway()
    with pytest.raises(MalformedResponseError):
        await chat(gw, api, sync)
    server.queue(Reply(status=400, body=body))
    with pytest.raises(ProviderError) as err:
        await chat(gw, api, sync)
    import pickle

    assert pickle.loads(pickle.dumps(err.value)).status_code == 400


@SYNC
@API
async def test_deeply_nested_stream_events_are_stream_errors(
    make_gateway: Any, server: TestServer, api: str, sync: bool
) -> None:
    server.queue(Reply(chunks=[b"data: " + DEEP + b"\n\n"]))
    gw = make_gateway()
    with pytest.raises(StreamError):
        await stream_deltas(gw, api, sync)


@SYNC
@pytest.mark.parametrize(
    "dlp", ["[" * 5000, '{"a":' * 900 + "1" + "}" * 900], ids=["deep", "nested"]
)
async def test_unparseable_dlp_header_never_breaks_a_reply(
    make_gateway: Any, server: TestServer, sync: bool, dlp: str
) -> None:
    server.queue(Reply(body=chat_reply("fine"), headers={"cf-aig-dlp": dlp, "cf-aig-step": "x"}))
    gw = make_gateway()
    result = await chat(gw, "chat", sync)
    assert result.text == "fine" and result.info.dlp is None and result.info.step is None
    assert result.info.headers["cf-aig-dlp"] == dlp


def test_unparseable_dlp_header_through_the_openai_sdk(
    make_gateway: Any, server: TestServer
) -> None:
    from cf_ai_gateway.openai_client import gateway_info, recent_gateway_info

    server.queue(Reply(body=chat_reply("fine"), headers={"cf-aig-dlp": "[" * 5000, **LOG}))
    gw = make_gateway()
    client = gw.openai_client()
    raw = client.chat.completions.with_raw_response.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.parse().choices[0].message.content == "fine"
    assert gateway_info(raw).log_id == "log-123" and gateway_info(raw).dlp is None
    assert recent_gateway_info(client)[-1].log_id == "log-123"


WRONG_CHUNKS = {
    "chat": [
        {"choices": {"0": {"delta": {"content": "x"}}}},
        {"choices": ["x"]},
        {"choices": [{"index": 0, "delta": "x"}]},
        {"choices": [{"index": 0, "delta": {"content": 5}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": [0]}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": {"a": 1}}}]},
        {"choices": [], "usage": {"prompt_tokens": {"n": 1}}},
        {"type": ["response.completed"]},
    ],
    "responses": [
        {"type": "response.output_text.delta", "delta": ["x"]},
        {"type": "response.output_item.added", "item": "x"},
        {"type": "response.function_call_arguments.delta", "output_index": [0], "delta": "x"},
        {"type": "response.completed", "response": "done"},
        {"type": "response.completed", "response": {"output": [1]}},
        {"type": {"a": 1}},
    ],
}


@SYNC
@pytest.mark.parametrize(
    ("api", "event"),
    [(api, event) for api, events in WRONG_CHUNKS.items() for event in events],
)
async def test_wrong_shape_stream_events_are_stream_errors(
    make_gateway: Any, server: TestServer, api: str, event: Any, sync: bool
) -> None:
    server.queue(
        Reply(
            chunks=[b"data: " + json.dumps(event).encode() + b"\n\n", b"data: [DONE]\n\n"],
            headers=LOG,
        )
    )
    gw = make_gateway()
    with pytest.raises(StreamError) as err:
        await stream_deltas(gw, api, sync)
    assert err.value.log_id == "log-123"
