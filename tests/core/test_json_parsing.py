"""JSON from the network reads the same with orjson installed as with ``json`` alone.

With orjson present the core parses events and bodies with it, but every answer must be
``json``'s: the same values (integers past 64 bits stay integers, ``NaN`` and ``1e400`` are
read, lone surrogates kept, the last duplicate key wins) and the same refusals (invalid UTF-8,
nesting too deep) as a ``ValueError``, whichever text arrives. Streams and replies served by a
real loopback server end in the same events and the same typed errors on both parsers.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway import MalformedResponseError, StreamError, jsontext
from cf_ai_gateway.info import GatewayInfo
from cf_ai_gateway.streams import _StreamState

from .json_backends import BACKENDS, HAS_ORJSON, use_backend
from .testserver import Reply, TestServer

needs_orjson = pytest.mark.skipif(not HAS_ORJSON, reason="orjson is not installed")


def _outcome(data: str | bytes) -> tuple[str, str]:
    """json's verdict on ``data``: the repr of its value, or that it is refused."""
    try:
        return ("value", repr(json.loads(data)))
    except RecursionError:
        return ("refused", "")
    except ValueError:
        return ("refused", "")


def _ours(data: str | bytes) -> tuple[str, str]:
    try:
        return ("value", repr(jsontext.loads(data)))
    except ValueError:
        return ("refused", "")


# Texts where orjson, used naively, answers differently from json.
EDGE_CASES = [
    "18446744073709551616",
    "-9223372036854775809",
    "[99999999999999999999]",
    '{"n": -11111111111111111111111111111}',
    "1e400",
    "-1e400",
    "NaN",
    "[Infinity, -Infinity]",
    '"\\ud800"',
    '{"a": "\\udfff"}',
    '{"a": 1, "a": 2}',
    "\ufeff1",
    "-0",
    "-0.0",
    "4.9e-324",
    "1.7976931348623157e308",
    "[" * 1000 + "]" * 1000,
    '{"a":' * 990 + "1" + "}" * 990,
    "[" * 100_000,
    " 1 ",
    "",
    "1 2",
]


@needs_orjson
@pytest.mark.parametrize("text", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_orjson_answers_as_json_on_its_edge_cases(text: str) -> None:
    with use_backend("orjson"):
        assert _ours(text) == _outcome(text)
        raw = text.encode("utf-8", "surrogatepass")
        assert _ours(raw) == _outcome(raw)


@pytest.mark.parametrize("backend", BACKENDS)
def test_big_integers_stay_integers(backend: str) -> None:
    with use_backend(backend):
        value = jsontext.loads('{"a": 18446744073709551616, "b": [-9223372036854775809]}')
    assert value == {"a": 2**64, "b": [-(2**63) - 1]}
    assert type(value["a"]) is int


@pytest.mark.parametrize("backend", BACKENDS)
def test_non_finite_numbers_read_as_json_reads_them(backend: str) -> None:
    with use_backend(backend):
        value = jsontext.loads("[NaN, 1e400, -Infinity]")
    assert math.isnan(value[0]) and value[1:] == [math.inf, -math.inf]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("data", [b'{"a": "\xff"}', b"\xc3", "[" * 5000, b"{" * 100_000])
def test_undecodable_or_too_deep_text_is_a_value_error(backend: str, data: str | bytes) -> None:
    with use_backend(backend), pytest.raises(ValueError):
        jsontext.loads(data)


JSON_ALPHABET = st.sampled_from(
    [
        *list('{}[],:"\\ -+.eE0123456789'),
        "true",
        "false",
        "null",
        "NaN",
        "Infinity",
        "\\u",
        "\\ud800",
    ]
)
json_like = st.lists(JSON_ALPHABET, max_size=40).map("".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)
any_text = (
    json_like
    | st.text(max_size=40)
    | json_values.map(lambda v: json.dumps(v, ensure_ascii=False))
    | json_values.map(json.dumps)
    | st.integers().map(str)
    | st.floats().map(repr)
)


@needs_orjson
@settings(max_examples=600, deadline=None)
@given(any_text)
def test_orjson_answers_as_json_on_any_text(text: str) -> None:
    with use_backend("orjson"):
        assert _ours(text) == _outcome(text)


@needs_orjson
@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40) | any_text.map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_orjson_answers_as_json_on_any_bytes(data: bytes) -> None:
    with use_backend("orjson"):
        assert _ours(data) == _outcome(data)


def _stream_outcome(chunks: list[bytes]) -> tuple[str, Any]:
    state = _StreamState(GatewayInfo(log_id="log-1"), (), api="chat")
    try:
        events = [e for chunk in chunks for e in state.events(chunk)]
        events += list(state.finish())
    except (StreamError, MalformedResponseError) as exc:
        return (type(exc).__name__, exc.log_id)
    return ("events", repr(events))


@needs_orjson
@settings(max_examples=300, deadline=None)
@given(st.lists(any_text, max_size=5), st.booleans())
def test_stream_events_are_the_same_on_both_parsers(datas: list[str], done: bool) -> None:
    chunks = [f"data: {d}\n\n".encode("utf-8", "surrogatepass") for d in datas if "\n" not in d]
    if done:
        chunks.append(b"data: [DONE]\n\n")
    with use_backend("json"):
        expected = _stream_outcome(chunks)
    with use_backend("orjson"):
        assert _stream_outcome(chunks) == expected


BIG_INT_EVENTS = [
    b'data: {"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}],'
    b'"usage":{"prompt_tokens":18446744073709551616,"completion_tokens":1}}\n\n',
    b"data: [DONE]\n\n",
]


@pytest.mark.parametrize("backend", BACKENDS)
def test_stream_usage_past_64_bits_is_read_exactly(
    backend: str, make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(chunks=BIG_INT_EVENTS))
    gw = make_gateway()
    with use_backend(backend), gw.stream("chat/completions", {"model": "m"}) as stream:
        events = list(stream)
    assert events[0]["usage"]["prompt_tokens"] == 2**64


@pytest.mark.parametrize("backend", BACKENDS)
async def test_deeply_nested_event_is_a_malformed_reply_on_both(
    backend: str, make_gateway: Any, server: TestServer, wire: str
) -> None:
    deep = b"data: " + b"[" * 100_000 + b"\n\n"
    server.queue(Reply(chunks=[deep], headers={"cf-aig-log-id": "log-9"}))
    gw = make_gateway()
    with use_backend(backend), pytest.raises(MalformedResponseError) as caught:
        async with gw.astream("chat/completions", {"model": "m"}) as stream:
            async for _ in stream:
                pass
    assert caught.value.log_id == "log-9"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_reply_body_past_64_bits_is_read_exactly(
    backend: str, make_gateway: Any, server: TestServer, wire: str
) -> None:
    body = {"id": "r", "object": "chat.completion", "n": 2**70, "x": [1e308, -0.0], "choices": []}
    server.queue(Reply(body=body))
    server.queue(Reply(body=body))
    gw = make_gateway()
    with use_backend(backend):
        reply = gw.create("chat/completions", {"model": "m"})
        areply = await gw.acreate("chat/completions", {"model": "m"})
    assert reply.body == areply.body == body
    assert type(reply.body["n"]) is int
