"""The text-only stream chunk, built without running pydantic validation each time.

Most chunks of a stream are a few characters of text. Building ``AIMessageChunk`` and
``ChatGenerationChunk`` through their constructors validates every field, about three
quarters of what a chunk costs. :func:`text_chunk` builds the first one of a process through
the constructors and each later one as a copy of that first one's validated state with the
text replaced (fresh empty containers, so no two chunks share a list or dict). The copy is
checked once against a chunk built the normal way, and only used when it is equal to it and
the models keep their state where pydantic keeps it; otherwise every chunk goes through the
constructors, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

__all__ = ["text_chunk"]

_make: Callable[[str], ChatGenerationChunk] | None = None


def text_chunk(text: str) -> ChatGenerationChunk:
    """``ChatGenerationChunk(message=AIMessageChunk(content=text), text=text)``, built fast."""
    make = _make or _choose()
    return make(text)


def _validated(text: str) -> ChatGenerationChunk:
    return ChatGenerationChunk(message=AIMessageChunk(content=text), text=text)


def _choose() -> Callable[[str], ChatGenerationChunk]:
    global _make
    _make = _copier() or _validated
    return _make


def _state(model: Any) -> tuple[dict[str, Any], Any, Any, set[str]] | None:
    try:
        return (
            dict(model.__dict__),
            model.__pydantic_extra__,
            model.__pydantic_private__,
            set(model.__pydantic_fields_set__),
        )
    except AttributeError:
        return None


def _copier() -> Callable[[str], ChatGenerationChunk] | None:
    """A builder copying a validated chunk's state, if it makes chunks equal to validated ones."""
    probe = _validated("probe")
    message_state = _state(probe.message)
    chunk_state = _state(probe)
    if message_state is None or chunk_state is None:
        return None
    message_fields, message_extra, message_private, message_set = message_state
    chunk_fields, chunk_extra, chunk_private, chunk_set = chunk_state
    containers = [k for k, v in message_fields.items() if isinstance(v, (dict, list))]
    if any(message_fields[k] for k in containers) or any(
        isinstance(v, (dict, list)) and v for k, v in chunk_fields.items() if k != "message"
    ):
        return None  # a default that is not empty: copying it would need a deep copy
    if not (message_extra in (None, {}) and chunk_extra in (None, {})):
        return None
    if message_private is not None or chunk_private is not None:
        return None
    empty = {k: type(message_fields[k]) for k in containers}
    new = object.__new__
    put = object.__setattr__

    def copied(text: str) -> ChatGenerationChunk:
        fields = message_fields.copy()
        fields["content"] = text
        for key, kind in empty.items():
            fields[key] = kind()
        message = new(AIMessageChunk)
        put(message, "__dict__", fields)
        put(message, "__pydantic_fields_set__", set(message_set))
        put(message, "__pydantic_extra__", None if message_extra is None else {})
        put(message, "__pydantic_private__", None)
        state = chunk_fields.copy()
        state["message"] = message
        state["text"] = text
        chunk = new(ChatGenerationChunk)
        put(chunk, "__dict__", state)
        put(chunk, "__pydantic_fields_set__", set(chunk_set))
        put(chunk, "__pydantic_extra__", None if chunk_extra is None else {})
        put(chunk, "__pydantic_private__", None)
        return chunk

    for sample in ("", "x", "tok ü"):
        built, expected = copied(sample), _validated(sample)
        if built != expected or built.message != expected.message or repr(built) != repr(expected):
            return None
    return copied
