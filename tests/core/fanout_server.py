"""An asyncio HTTP/1.1 keep-alive server on 127.0.0.1, in its own thread, for fan-out tests.

It counts what a pool gate and keep-alive limits are about, from the server's side: the TCP
connections opened (each has its own client port), the requests received, and how many were in
flight at once (from the request's arrival until its reply is written or the client hangs up).
A request picks its reply with the ``x-test-reply`` header: ``stream`` (SSE chunks, the
default), ``fail`` (a 500 error envelope), ``cut`` (a stream that breaks off) or ``hold``
(one event, then the stream stays open until the client hangs up).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import Any

EVENT = b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
ERROR = json.dumps({"error": {"message": "boom", "type": "server_error"}}).encode()


class FanoutServer:
    __test__ = False

    def __init__(self, chunks: int = 3, pause: float = 0.002) -> None:
        self.chunks = chunks
        self.pause = pause  # between chunks, so that concurrent streams overlap
        self.ports: set[int] = set()
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def connections(self) -> int:
        return len(self.ports)

    def reset(self) -> None:
        with self._lock:
            self.ports.clear()
            self.requests = 0
            self.max_in_flight = self.in_flight

    def start(self) -> FanoutServer:
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=2048)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._started.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self.ports.add(writer.get_extra_info("peername")[1])
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = _headers(head)
                await reader.readexactly(int(headers.get("content-length", "0")))
                with self._lock:
                    self.requests += 1
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                try:
                    keep = await self._reply(headers.get("x-test-reply", "stream"), reader, writer)
                finally:
                    with self._lock:
                        self.in_flight -= 1
                if not keep:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _reply(
        self, kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Write one reply; False when the connection is to close after it."""
        if kind == "fail":
            writer.write(
                b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(ERROR), ERROR)
            )
            await writer.drain()
            return True
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\n\r\n"
        )
        if kind == "hold":
            writer.write(_chunk(EVENT))
            await writer.drain()
            while await reader.read(1024):  # until the client hangs up
                pass
            return False
        for index in range(self.chunks):
            writer.write(_chunk(EVENT))
            await writer.drain()
            if kind == "cut" and index == 0:
                return False
            await asyncio.sleep(self.pause)
        writer.write(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        await writer.drain()
        return True


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _headers(head: bytes) -> dict[str, Any]:
    lines = head.decode("latin-1").split("\r\n")[1:]
    return {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines if line)
    }
