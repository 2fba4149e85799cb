"""A scriptable stdlib HTTP server on 127.0.0.1 for the core's transport tests.

Each test queues the replies it wants (:class:`Reply`: status, headers, body, or SSE chunks that
may be cut off, delayed or followed by garbage) and then reads back what the server received
(:attr:`TestServer.requests`: method, path, headers and body), so tests assert the exact bytes
on the wire without patching any client.
"""

from __future__ import annotations

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
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

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
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.chunks is not None:
                    self.send_header("content-type", "text/event-stream")
                    self.send_header("transfer-encoding", "chunked")
                    self.end_headers()
                    for piece in reply.chunks:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.flush()
                    if reply.cut:
                        self.close_connection = True
                        return
                    self.wfile.write(b"0\r\n\r\n")
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
                self.wfile.write(data)

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

    def reset(self) -> None:
        self.requests.clear()
        while not self.replies.empty():
            self.replies.get_nowait()


def sse(*events: Any, done: bool = True) -> list[bytes]:
    """SSE chunks for the given event dicts (one chunk each), plus ``[DONE]``."""
    chunks = [b"data: " + json.dumps(e).encode() + b"\n\n" for e in events]
    if done:
        chunks.append(b"data: [DONE]\n\n")
    return chunks
