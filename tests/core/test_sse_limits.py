"""The SSE decoder is exact however the bytes are cut, and bounded: an event past the
configured size limit is a ``StreamError``, not a buffer that grows until memory runs out."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway import ConfigurationError, Gateway, StreamError
from cf_ai_gateway.sse import DEFAULT_MAX_EVENT_SIZE, SSEDecoder, SSEError

from .conftest import API_KEY
from .testserver import Reply, TestServer, sse


def test_default_limit_is_16_mib() -> None:
    assert DEFAULT_MAX_EVENT_SIZE == 16 * 1024 * 1024
    assert Gateway(account_id="a", api_key=API_KEY).transport.max_event_size == DEFAULT_MAX_EVENT_SIZE


def test_a_stream_without_newlines_stops_at_the_limit() -> None:
    decoder = SSEDecoder()
    piece = b"x" * 65536
    with pytest.raises(SSEError, match="max_event_size"):
        for _ in range(20 * 16):  # 20 MiB, no newline
            decoder.feed(piece)


def test_one_large_complete_event_over_the_limit() -> None:
    with pytest.raises(SSEError, match="max_event_size"):
        SSEDecoder(max_event_size=100).feed(b"data: " + b"y" * 200 + b"\n\n")


def test_event_over_the_limit_is_a_stream_error(make_gateway: Any, server: TestServer) -> None:
    big = {"text": "z" * 5000}
    server.queue(Reply(chunks=sse({"a": 1}, big), headers={"cf-aig-log-id": "BIG"}))
    got = []
    with pytest.raises(StreamError, match="max_event_size") as err:
        for event in make_gateway(max_event_size=4096).stream("chat/completions", {}):
            got.append(event)
    assert got == [{"a": 1}] and err.value.log_id == "BIG"


async def test_async_event_over_the_limit_is_a_stream_error(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=[b"data: " + b"q" * 3000]))
    gw = make_gateway(max_event_size=1024)
    with pytest.raises(StreamError, match="max_event_size"):
        async for _ in gw.astream("chat/completions", {}):
            pass
    await gw.aclose()


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "16"])
def test_bad_max_event_size_is_refused(value: Any) -> None:
    with pytest.raises(ConfigurationError, match="max_event_size"):
        Gateway(account_id="a", api_key=API_KEY, max_event_size=value)


_EVENT = st.dictionaries(st.text(max_size=5), st.text(max_size=20), max_size=3)


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(_EVENT, max_size=6),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=12),
)
def test_any_cut_of_the_bytes_decodes_the_same(events: list[Any], newline: str, cuts: list[int]) -> None:
    text = "".join(
        f": comment{newline}event: x{newline}data: {json.dumps(e, ensure_ascii=False)}{newline}{newline}"
        for e in events
    )
    raw = text.encode()
    points = sorted({min(c, len(raw)) for c in cuts} | {0, len(raw)})
    decoder = SSEDecoder(max_event_size=1 << 20)
    out: list[str] = []
    for start, end in itertools.pairwise(points):
        out += decoder.feed(raw[start:end])
    out += decoder.flush()
    assert [json.loads(d) for d in out] == events


def _decoded_until_fault(raw: bytes, cuts: list[int], limit: int) -> tuple[list[str], str | None]:
    """Payloads the decoder gives for ``raw`` fed in the pieces ``cuts`` make, up to its fault."""
    points = sorted({min(c, len(raw)) for c in cuts} | {0, len(raw)})
    decoder = SSEDecoder(max_event_size=limit)
    out: list[str] = []
    try:
        for start, end in itertools.pairwise(points):
            out += decoder.feed(raw[start:end])
        out += decoder.flush()
    except SSEError as exc:
        return out + exc.before, str(exc)
    return out, None


@settings(max_examples=300, deadline=None)
@given(
    before=st.lists(_EVENT, max_size=5),
    fault=st.sampled_from(["oversized", "bad byte", "cut character"]),
    at=st.integers(min_value=0, max_value=40),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=12),
)
def test_the_events_ahead_of_a_fault_come_out_however_the_bytes_are_cut(
    before: list[Any], fault: str, at: int, cuts: list[int]
) -> None:
    """A stream's events up to a fault do not depend on how reads cut it (nor do they when
    one read brings them all): each complete event ahead of the fault is given, then the fault."""
    events = [b"data: " + json.dumps(e).encode() for e in before]
    limit = max(200, *map(len, events)) if events else 200
    head = b"".join(event + b"\n\n" for event in events)
    if fault == "oversized":
        tail = b"data: " + b"z" * limit + b"\n\n" + b'data: {"after": 1}\n\n'
    elif fault == "bad byte":  # inside the next event, at any place in it
        event = b'data: {"next": "' + b"n" * 30 + b'"}\n\n'
        cut = min(at, len(event))
        tail = event[:cut] + b"\xff" + event[cut:]
    else:  # the stream ends inside a UTF-8 character
        tail = b'data: {"next": "\xe2\x82'
    payloads, error = _decoded_until_fault(head + tail, cuts, limit)
    assert [json.loads(p) for p in payloads] == before
    assert error is not None
    assert ("max_event_size" in error) == (fault == "oversized")


@pytest.mark.parametrize("wire", ["httpx", "aiohttp"])
async def test_async_events_ahead_of_an_oversized_one_come_first(
    make_gateway: Any, server: TestServer, wire: str
) -> None:
    big = {"text": "z" * 5000}
    server.queue(Reply(chunks=[b"".join(sse({"a": 1}, {"b": 2}, big))], headers={"cf-aig-log-id": "BIG"}))
    gw = make_gateway(max_event_size=4096, transport=wire)
    got = []
    with pytest.raises(StreamError, match="max_event_size") as err:
        async for event in gw.astream("chat/completions", {}):
            got.append(event)
    assert got == [{"a": 1}, {"b": 2}] and err.value.log_id == "BIG"
    await gw.aclose()


def test_an_event_of_exactly_the_limit_is_read_however_its_blank_line_is_cut() -> None:
    event = b"data: " + b"x" * 94  # 100 bytes, the limit
    for cut in range(len(event) - 2, len(event) + 3):
        raw = event + b"\n\n" + b"data: after\n\n"
        assert _decoded_until_fault(raw, [cut], 100) == (["x" * 94, "after"], None)


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=14), max_size=5),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    limit=st.integers(min_value=8, max_value=16),
    cuts=st.lists(st.integers(min_value=0, max_value=120), max_size=10),
)
def test_events_near_the_limit_are_read_or_refused_however_the_bytes_are_cut(
    sizes: list[int], newline: str, limit: int, cuts: list[int]
) -> None:
    """Whether an event fits the limit does not depend on where a read ended."""
    raw = "".join(f"data: {'x' * n}{newline}{newline}" for n in sizes).encode()
    whole = _decoded_until_fault(raw, [], limit)
    assert _decoded_until_fault(raw, cuts, limit) == whole
    for cut in range(len(raw)):
        assert _decoded_until_fault(raw, [cut], limit) == whole


_PIECE = st.one_of(
    st.sampled_from([b"data: ", b"data:", b"event: error\n", b"\n", b"\r", b"\n\n", b"a"]),
    st.sampled_from(["é", "€", "😀"]).map(str.encode),  # characters of two to four bytes
    st.binary(max_size=3),  # bad bytes, cut characters
    st.text(max_size=3).map(str.encode),
)


@settings(max_examples=300, deadline=None)
@given(raw=st.lists(_PIECE, max_size=30).map(b"".join), limit=st.integers(4, 40))
def test_any_bytes_cut_anywhere_give_what_they_give_whole_up_to_the_fault(
    raw: bytes, limit: int
) -> None:
    """Bad UTF-8 anywhere (inside a character the decoder holds from the read before, too) and
    events of any size: the events given, the fault and its kind are those of the bytes fed
    whole, for a cut at any byte and for bytes fed one at a time."""
    whole = _decoded_until_fault(raw, [], limit)
    for cut in range(len(raw) + 1):
        assert _decoded_until_fault(raw, [cut], limit) == whole
    assert _decoded_until_fault(raw, list(range(len(raw))), limit) == whole
