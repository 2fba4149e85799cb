"""A small, fast Server-Sent Events decoder for byte streams, linear in its input.

:class:`SSEDecoder` takes the raw bytes of a response in whatever pieces the network delivers
and returns the ``data`` payload of each complete event. It handles events split across reads,
``\\r\\n`` and ``\\r`` line endings, multi-line ``data:`` fields, comments and fields it does not
use (``id:``, ``retry:``). The common cases, one ``data:`` line per event (chat) or an
``event:`` line and a ``data:`` line (Responses), take a fast path without per-line work.
The ``[DONE]`` marker is returned as :data:`DONE`, and the data of an ``event: error`` block
as :class:`ErrorData` (a ``str``), even when it has no data.

Work and memory are bounded: each byte is scanned and copied a constant number of times however
the stream is cut, and an event that grows past ``max_event_size`` bytes raises
:class:`SSEError` instead of being buffered. Bytes that are not UTF-8 raise :class:`SSEError`
too: a stream is either decoded exactly or refused, never patched with replacement characters.
"""

from __future__ import annotations

import codecs
from typing import Any

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "DONE", "ErrorData", "SSEDecoder", "SSEError"]

DONE = "[DONE]"
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024


class SSEError(ValueError):
    """The byte stream is not a stream of events this decoder accepts.

    ``before`` holds what the same ``feed`` call completed ahead of the fault (events here, lines
    in :mod:`.openai_streams`), so that what a stream yields before failing does not depend on
    how its bytes were cut.
    """

    def __init__(self, message: str, before: list[Any] | None = None) -> None:
        super().__init__(message)
        self.before: list[Any] = before or []


class ErrorData(str):
    """The data of an SSE block named ``event: error``."""

    __slots__ = ()


class SSEDecoder:
    """Incremental decoder: ``feed(chunk)`` returns the data payloads completed by ``chunk``."""

    __slots__ = ("_cr", "_decode", "_held_cr", "_max", "_pending", "_pending_size", "_utf8")

    def __init__(self, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self._max = max_event_size
        # Text of the unfinished event, in the pieces it arrived in (joined once it completes).
        self._pending: list[str] = []
        self._pending_size = 0
        self._cr = False
        self._held_cr = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self._decode = self._utf8.decode

    def _text(self, data: bytes, final: bool = False) -> tuple[str, bool]:
        """The text of ``data``; True with the text before the first bad byte, if any."""
        try:
            return self._decode(data, final), False
        except UnicodeDecodeError as exc:
            # The decoder raised before taking ``data`` in: its held bytes lead ``exc.start``.
            good = exc.start - len(self._utf8.getstate()[0])
            return (self._decode(data[:good]) if good > 0 else ""), True

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

    def _too_large(self, before: list[str]) -> SSEError:
        return SSEError(
            f"a stream event is larger than the limit of {self._max} bytes (max_event_size)",
            before,
        )

    def feed(self, data: bytes) -> list[str]:
        """Add ``data``; return the ``data`` field of every event that is now complete.

        A fault raises :class:`SSEError` carrying the events completed ahead of it.
        """
        chunk, bad_bytes = self._text(data)
        if bad_bytes:
            before = self._events(chunk) if chunk else []
            raise SSEError("the stream is not valid UTF-8", before)
        return self._events(chunk)

    def _events(self, chunk: str) -> list[str]:
        if self._cr or "\r" in chunk:
            chunk = self._normalise_newlines(chunk)
        if not chunk:
            return []
        pending = self._pending
        # An event ends at a blank line: "\n\n" inside this chunk, or one straddling the cut.
        if "\n\n" not in chunk and not (pending and chunk[0] == "\n" and pending[-1][-1:] == "\n"):
            pending.append(chunk)
            self._pending_size += len(chunk)
            # A last "\n" may start the blank line that ends the event: it is not the event's.
            if self._pending_size - (chunk[-1] == "\n") > self._max:
                raise self._too_large([])
            return []
        buffer = "".join(pending) + chunk if pending else chunk
        blocks = buffer.split("\n\n")
        tail = blocks.pop()
        self._pending = [tail] if tail else []
        self._pending_size = len(tail)
        out: list[str] = []
        for block in blocks:
            if len(block) > self._max:
                raise self._too_large(out)
            if block[:6] == "data: " and "\n" not in block:
                out.append(block[6:])
                continue
            if block[:7] == "event: ":
                # "event: X\ndata: Y", the block of every Responses event (X not "error").
                cut = block.find("\n")
                if (
                    block[cut + 1 : cut + 7] == "data: "
                    and block.find("\n", cut + 1) < 0
                    and block[7:cut] != "error"
                ):
                    out.append(block[cut + 7 :])
                    continue
            payload = _parse_block(block)
            if payload is not None:
                out.append(payload)
        if self._pending_size - (tail[-1:] == "\n") > self._max:
            raise self._too_large(out)
        return out

    def flush(self) -> list[str]:
        """The event left in the buffer when the stream ends without a blank line."""
        tail, bad_bytes = self._text(b"", True)
        if bad_bytes:
            raise SSEError("the stream is not valid UTF-8")
        if self._held_cr:
            self._held_cr = False
            tail += "\n"
        block = ("".join(self._pending) + tail).strip("\n")
        self._pending, self._pending_size = [], 0
        if not block:
            return []
        payload = _parse_block(block)
        return [payload] if payload is not None else []


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
