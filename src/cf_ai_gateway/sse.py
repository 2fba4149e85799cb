"""A small, fast Server-Sent Events decoder for byte streams.

:class:`SSEDecoder` takes the raw bytes of a response in whatever pieces the network delivers
and returns the ``data`` payload of each complete event. It handles events split across reads,
``\\r\\n`` and ``\\r`` line endings, multi-line ``data:`` fields, comments and fields it does not
use (``id:``, ``retry:``). The common case, one ``data:`` line per event, takes a
fast path without per-line work. The ``[DONE]`` marker is returned as :data:`DONE`, and the data
of an ``event: error`` block as :class:`ErrorData` (a ``str``), even when it has no data.
"""

from __future__ import annotations

import codecs

__all__ = ["DONE", "ErrorData", "SSEDecoder"]

DONE = "[DONE]"


class ErrorData(str):
    """The data of an SSE block named ``event: error``."""

    __slots__ = ()


class SSEDecoder:
    """Incremental decoder: ``feed(chunk)`` returns the data payloads completed by ``chunk``."""

    __slots__ = ("_buffer", "_cr", "_decode", "_held_cr")

    def __init__(self) -> None:
        self._buffer = ""
        self._cr = False
        self._held_cr = False
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode

    def _normalise_newlines(self, chunk: str) -> str:
        # A "\r\n" may be split across reads: hold a trailing "\r" until the next chunk.
        self._cr = True
        if self._held_cr:
            chunk = "\r" + chunk
            self._held_cr = False
        if chunk.endswith("\r"):
            chunk = chunk[:-1]
            self._held_cr = True
        return chunk.replace("\r\n", "\n").replace("\r", "\n")

    def feed(self, data: bytes) -> list[str]:
        """Add ``data``; return the ``data`` field of every event that is now complete."""
        chunk = self._decode(data)
        if self._cr or "\r" in chunk:
            chunk = self._normalise_newlines(chunk)
        buffer = self._buffer + chunk if self._buffer else chunk
        if "\n\n" not in buffer:
            self._buffer = buffer
            return []
        blocks = buffer.split("\n\n")
        self._buffer = blocks.pop()
        out: list[str] = []
        for block in blocks:
            if block[:6] == "data: " and "\n" not in block:
                out.append(block[6:])
                continue
            payload = _parse_block(block)
            if payload is not None:
                out.append(payload)
        return out

    def flush(self) -> list[str]:
        """The event left in the buffer when the stream ends without a blank line."""
        self._buffer += self._decode(b"", True)
        if self._held_cr:
            self._held_cr = False
            self._buffer += "\n"
        block, self._buffer = self._buffer.strip("\n"), ""
        if not block:
            return []
        payload = _parse_block(block)
        return [payload] if payload is not None else []

    @property
    def pending(self) -> bool:
        """True when bytes of an unfinished event are buffered."""
        return bool(self._buffer.strip())


def _parse_block(block: str) -> str | None:
    lines: list[str] = []
    error = False
    for line in block.split("\n"):
        if not line or line[:1] == ":":
            continue
        name, sep, value = line.partition(":")
        if name != "data":
            if name == "event":
                error = (value[1:] if value[:1] == " " else value) == "error"
            continue
        if not sep:
            lines.append("")
            continue
        lines.append(value[1:] if value[:1] == " " else value)
    if error:
        return ErrorData("\n".join(lines))
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else "\n".join(lines)
