"""A scriptable stdlib HTTP server on 127.0.0.1 for the core's transport tests.

Each test queues the replies it wants (:class:`Reply`: status, headers, body, or SSE chunks that
may be cut off, delayed, trickled byte by byte, held open, or replaced by raw bytes such as a
broken chunked encoding) and then reads back what the server received
(:attr:`TestServer.requests`: method, path, headers and body), so tests assert the exact bytes
on the wire without patching any client. The server also counts its open connections and notes
when a client hangs up on a held stream, so tests can see a connection released.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes/str -> as is
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] | None = None  # SSE stream pieces, sent with chunked encoding
    cut: bool = False  # close the connection without finishing the chunked body
    delay: float = 0.0  # seconds before the status line (for client timeouts)
    trickle: float = 0.0  # seconds between single bytes of the body (or of ``raw``)
    trickle_after: int = 0  # with ``chunks``: the first chunks go out whole, the rest trickle
    hold: bool = False  # after the chunks, keep the stream open until the client hangs up
    raw: bytes | None = None  # sent as is in place of a response, then the connection closes


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class TestServer:
    __test__ = False

    def __init__(self) -> None:
        self.replies: queue.Queue[Reply] = queue.Queue()
        self.requests: list[Received] = []
        self.default = Reply(body={"ok": True})
        self.disconnected = threading.Event()  # a client hung up on a held stream
        self.open_connections = 0
        self.accepted = 0  # connections accepted since the server started
        self._idle = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with server._idle:
                    server.open_connections += 1
                    server.accepted += 1

            def finish(self) -> None:
                with contextlib.suppress(OSError):
                    super().finish()
                with server._idle:
                    server.open_connections -= 1
                    server._idle.notify_all()

            def _write(self, data: bytes, trickle: float) -> bool:
                """Write ``data`` (a byte at a time when trickling); False once the client left."""
                try:
                    if not trickle:
                        self.wfile.write(data)
                        self.wfile.flush()
                        return True
                    for i in range(len(data)):
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                        time.sleep(trickle)
                except OSError:
                    self.close_connection = True
                    return False
                return True

            def _wait_for_hangup(self) -> None:
                self.connection.settimeout(30)
                try:
                    while self.connection.recv(1024):
                        pass
                except OSError:
                    pass
                server.disconnected.set()
                self.close_connection = True

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append(
                    Received(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                    )
                )
                try:
                    reply = server.replies.get_nowait()
                except queue.Empty:
                    reply = server.default
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw is not None:
                    self._write(reply.raw, reply.trickle)
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is not None:
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for index, piece in enumerate(reply.chunks):
                        trickle = reply.trickle if index >= reply.trickle_after else 0.0
                        if not self._write(b"%x\r\n%s\r\n" % (len(piece), piece), trickle):
                            return
                    if reply.hold:
                        self._wait_for_hangup()
                        return
                    if reply.cut:
                        self.close_connection = True
                        return
                    self._write(b"0\r\n\r\n", 0)
                    return
                payload = reply.body
                if isinstance(payload, (dict, list)):
                    data = json.dumps(payload).encode()
                    self.send_header("content-type", "application/json")
                elif isinstance(payload, str):
                    data = payload.encode()
                else:
                    data = payload or b""
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if reply.cut:  # half the promised body, then hang up
                    self._write(data[: len(data) // 2], reply.trickle)
                    self.close_connection = True
                    return
                self._write(data, reply.trickle)

            do_POST = _handle
            do_GET = _handle
            do_PATCH = _handle

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that time out or hang up early are part of the tests

        self.httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> TestServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def queue(self, *replies: Reply) -> None:
        for reply in replies:
            self.replies.put(reply)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no client connection is open; True if that happened within ``timeout``."""
        with self._idle:
            return self._idle.wait_for(lambda: self.open_connections == 0, timeout)

    def reset(self) -> None:
        self.disconnected.clear()
        self.requests.clear()
        while not self.replies.empty():
            self.replies.get_nowait()


def sse(*events: Any, done: bool = True) -> list[bytes]:
    """SSE chunks for the given event dicts (one chunk each), plus ``[DONE]``."""
    chunks = [b"data: " + json.dumps(e).encode() + b"\n\n" for e in events]
    if done:
        chunks.append(b"data: [DONE]\n\n")
    return chunks
