"""The SSE decoder's fast paths answer exactly as its general block parser does.

Chat events come as one ``data:`` line and Responses events as an ``event:`` line and a
``data:`` line; the decoder takes both without per-line parsing. Whatever the text and however
it is cut, the payloads (and whether each is an ``event: error``'s data) must be those of the
general parser applied to the whole text.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway import sse
from cf_ai_gateway.sse import SSEDecoder, SSEError

PIECES = [
    "event: ",
    "event:",
    "event: error",
    "event:error",
    "data: ",
    "data:",
    "data",
    "id: 1",
    ": note",
    "error",
    "response.output_text.delta",
    '{"a": 1}',
    "[DONE]",
    "x",
    " ",
    ":",
    "é",
    "\n",
    "\n",
    "\n\n",
    "\r",
    "\r\n",
]
texts = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)


def _reference(text: str) -> list[tuple[str, str]]:
    """Every block of ``text`` through the general parser, as (kind, payload)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = text.split("\n\n")
    tail = blocks.pop().strip("\n")
    if tail:
        blocks.append(tail)
    out = []
    for block in blocks:
        payload = sse._parse_block(block)
        if payload is not None:
            out.append((type(payload).__name__, str(payload)))
    return out


def _decoded(raw: bytes, cuts: list[int], limit: int = 1 << 20) -> list[tuple[str, str]]:
    points = sorted({min(c, len(raw)) for c in cuts} | {0, len(raw)})
    decoder = SSEDecoder(max_event_size=limit)
    out: list[str] = []
    for start, end in itertools.pairwise(points):
        out += decoder.feed(raw[start:end])
    out += decoder.flush()
    return [(type(p).__name__, str(p)) for p in out]


@settings(max_examples=500, deadline=None)
@given(texts, st.lists(st.integers(min_value=0, max_value=300), max_size=10))
def test_the_fast_paths_answer_as_the_general_parser(text: str, cuts: list[int]) -> None:
    assert _decoded(text.encode(), cuts) == _reference(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60), st.sampled_from(["\n", "\r\n", "\r"]))
def test_event_and_data_blocks_read_as_the_general_parser(
    name: str, data: str, newline: str
) -> None:
    text = f"event: {name}{newline}data: {data}{newline}{newline}"
    assert _decoded(text.encode(), []) == _reference(text)


def test_an_event_and_data_block_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def general(block: str) -> Any:
        raise AssertionError(f"the general parser ran on {block!r}")

    monkeypatch.setattr(sse, "_parse_block", general)
    decoder = SSEDecoder()
    chunk = b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta"}\n\n'
    assert decoder.feed(chunk * 2) == ['{"type":"response.output_text.delta"}'] * 2
    assert decoder.feed(b"data: [DONE]\n\n") == ["[DONE]"]


def test_an_error_event_keeps_its_kind() -> None:
    out = SSEDecoder().feed(b'event: error\ndata: {"message": "no"}\n\n')
    assert out == ['{"message": "no"}'] and isinstance(out[0], sse.ErrorData)


@pytest.mark.parametrize("size", [20, 21])
def test_the_size_limit_holds_on_the_fast_path(size: int) -> None:
    block = b"event: e\ndata: " + b"x" * (size - 15) + b"\n\n"
    decoder = SSEDecoder(max_event_size=20)
    if size > 20:
        with pytest.raises(SSEError, match="max_event_size"):
            decoder.feed(block)
    else:
        assert decoder.feed(block) == ["x" * (size - 15)]
