"""A small, fast Server-Sent Events decoder for byte streams.

:class:`SSEDecoder` takes the raw bytes of a response in whatever pieces the network delivers
and returns the ``data`` payload of each complete event. It handles events split across reads,
``\\r\\n`` and ``\\r`` line endings, multi-line ``data:`` fields, comments and fields it does not
use (``event:``, ``id:``, ``retry:``). The common case, one ``data:`` line per event, takes a
fast path without per-line work. The ``[DONE]`` marker is returned as :data:`DONE`.
"""

from __future__ import annotations

__all__ = ["DONE", "SSEDecoder"]

DONE = b"[DONE]"


class SSEDecoder:
    """Incremental decoder: ``feed(chunk)`` returns the data payloads completed by ``chunk``."""

    __slots__ = ("_buffer", "_cr", "_held_cr")

    def __init__(self) -> None:
        self._buffer = b""
        self._cr = False
        self._held_cr = False

    def _normalise_newlines(self, chunk: bytes) -> bytes:
        # A "\r\n" may be split across reads: hold a trailing "\r" until the next chunk.
        self._cr = True
        if self._held_cr:
            chunk = b"\r" + chunk
            self._held_cr = False
        if chunk.endswith(b"\r"):
            chunk = chunk[:-1]
            self._held_cr = True
        return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

    def feed(self, chunk: bytes) -> list[bytes]:
        """Add ``chunk``; return the ``data`` of every event that is now complete."""
        if self._cr or b"\r" in chunk:
            chunk = self._normalise_newlines(chunk)
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\n\n" not in buffer:
            self._buffer = buffer
            return []
        blocks = buffer.split(b"\n\n")
        self._buffer = blocks.pop()
        out: list[bytes] = []
        for block in blocks:
            if block[:6] == b"data: " and b"\n" not in block:
                out.append(block[6:])
                continue
            data = _parse_block(block)
            if data is not None:
                out.append(data)
        return out

    def flush(self) -> list[bytes]:
        """The event left in the buffer when the stream ends without a blank line."""
        if self._held_cr:
            self._held_cr = False
            self._buffer += b"\n"
        block, self._buffer = self._buffer.strip(b"\n"), b""
        if not block:
            return []
        data = _parse_block(block)
        return [data] if data is not None else []

    @property
    def pending(self) -> bool:
        """True when bytes of an unfinished event are buffered."""
        return bool(self._buffer.strip())


def _parse_block(block: bytes) -> bytes | None:
    lines: list[bytes] = []
    for line in block.split(b"\n"):
        if not line or line[:1] == b":":
            continue
        name, sep, value = line.partition(b":")
        if name != b"data":
            continue
        if not sep:
            lines.append(b"")
            continue
        lines.append(value[1:] if value[:1] == b" " else value)
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else b"\n".join(lines)
