"""Deliver a reply over ASGI, byte-exact, with the faults a test asked for.

:class:`DeliveryResponse` sends a status, headers and a sequence of body pieces (SSE events, or
one JSON body). It can pause between pieces, stop after N pieces and either end the body cleanly
or drop the connection mid-body (no terminating chunk), and replace what follows with garbage
bytes. An ``on_finish`` callback learns how the delivery ended, so the log gets its duration.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .scripting import GARBAGE_BYTES

# uvicorn reports a response that ends without its final chunk; for deliberate cuts that is the
# point, so the message is filtered out of its error log.
_DELIBERATE_CUT_MESSAGE = "ASGI callable returned without completing response."
# Events sent per write when no pause between events is asked for.
_BATCH_PIECES = 16


class _DropDeliberateCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _DELIBERATE_CUT_MESSAGE


def install_log_filter() -> None:
    """Keep deliberate stream cuts out of uvicorn's error log (idempotent)."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _DropDeliberateCuts) for f in logger.filters):
        logger.addFilter(_DropDeliberateCuts())


class DeliveryResponse(Response):
    """An ASGI response streaming ``pieces`` with optional pauses, a cut, or garbage."""

    def __init__(
        self,
        pieces: Iterable[bytes],
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        media_type: str = "text/event-stream; charset=utf-8",
        piece_delay: float = 0.0,
        cut_after: int | None = None,
        abort: bool = True,
        garbage: bool = False,
        on_finish: Callable[[str], None] | None = None,
    ) -> None:
        self.pieces: Iterator[bytes] = iter(pieces)
        self.status_code = status
        self.background = None
        self.delivery_headers = {
            "content-type": media_type,
            "cache-control": "no-cache",
            **(headers or {}),
        }
        self.piece_delay = piece_delay
        self.cut_after = cut_after
        self.abort = abort
        self.garbage = garbage
        self.on_finish = on_finish

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in self.delivery_headers.items()
        ]
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": raw_headers}
        )
        gone = asyncio.Event()
        watcher = asyncio.ensure_future(_watch_disconnect(receive, gone))
        outcome = "complete"
        sent = 0
        batch: list[bytes] = []

        async def flush() -> None:
            if batch:
                await send(
                    {"type": "http.response.body", "body": b"".join(batch), "more_body": True}
                )
                batch.clear()
                await asyncio.sleep(0)  # notice a disconnect soon; let other requests run

        try:
            for piece in self.pieces:
                if gone.is_set():
                    outcome = "disconnected"
                    return
                if self.cut_after is not None and sent >= self.cut_after:
                    outcome = "cut"
                    break
                if self.garbage and self.cut_after is None:
                    outcome = "garbage"
                    break
                if sent and self.piece_delay:
                    await asyncio.sleep(self.piece_delay)
                batch.append(piece)
                sent += 1
                if self.piece_delay or len(batch) >= _BATCH_PIECES:
                    await flush()
            await flush()
            if self.garbage:
                outcome = "garbage"
                await send({"type": "http.response.body", "body": GARBAGE_BYTES, "more_body": True})
            if outcome == "cut" and self.abort and not self.garbage:
                return  # no final chunk: the server drops the connection mid-body
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            if self.on_finish is not None:
                self.on_finish(outcome)


async def _watch_disconnect(receive: Receive, gone: asyncio.Event) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            gone.set()
            return


def single_body(body: bytes) -> list[bytes]:
    """A JSON body as delivery pieces (two halves, so a cut after one piece truncates it)."""
    middle = max(1, len(body) // 2)
    return [body[:middle], body[middle:]] if len(body) > 1 else [body]
