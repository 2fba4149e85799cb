"""Text-only stream chunks built from a validated chunk's state equal validated ones.

:func:`~langchain_cf_ai_gateway.text_chunks.text_chunk` copies the state of one validated chunk
instead of validating each chunk again. Each copy must equal the chunk the constructors build,
share no container with any other chunk (LangChain and callbacks mutate them), merge the same,
and serialize the same.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from langchain_core.load import dumpd
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_cf_ai_gateway import text_chunks
from langchain_cf_ai_gateway.text_chunks import text_chunk


def validated(text: str) -> ChatGenerationChunk:
    return ChatGenerationChunk(message=AIMessageChunk(content=text), text=text)


def test_the_copying_builder_is_in_use() -> None:
    text_chunk("warm")
    assert text_chunks._make is not None and text_chunks._make.__name__ == "copied"


@given(st.text(), st.text())
def test_copied_chunks_equal_validated_ones(first: str, second: str) -> None:
    a, b = text_chunk(first), text_chunk(second)
    assert a == validated(first) and a.message == validated(first).message
    assert repr(b) == repr(validated(second))
    assert a.message.model_fields_set == validated(first).message.model_fields_set
    assert dumpd(a.message) == dumpd(validated(first).message)
    assert a + b == validated(first) + validated(second)
    assert a.message.text == first and a.text == first


def test_copied_chunks_share_no_container() -> None:
    a, b = text_chunk("a"), text_chunk("b")
    a.message.response_metadata["gateway"] = {"log_id": "x"}
    a.message.additional_kwargs["k"] = 1
    a.message.tool_call_chunks.append({"name": "f", "args": "", "id": "1", "index": 0})
    assert b.message.response_metadata == {} and b.message.additional_kwargs == {}
    assert b.message.tool_call_chunks == [] and text_chunk("c").message.tool_calls == []


def test_a_model_whose_copy_differs_falls_back_to_validation(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(text_chunks, "_make", None)
    real = text_chunks._validated
    # A chunk class whose validated state the copy would not reproduce.
    monkeypatch.setattr(
        text_chunks,
        "_validated",
        lambda text: real(text + "!") if text == "x" else real(text),
    )
    assert text_chunks._copier() is None
    chunk = text_chunks.text_chunk("y")
    assert text_chunks._make is text_chunks._validated and chunk == real("y")
