"""A minimal loopback OpenAI-wire server for benchmarks, run in its own process.

It answers ``POST .../chat/completions`` and ``POST .../responses`` with a fixed reply, or, when
the body asks for ``stream: true``, with a stream of ``CHUNKS`` text deltas (default 200, env
``BENCH_CHUNKS``) in the shape of recorded OpenAI traffic, usage included. A streaming gateway
flushes each event as it comes, so by default every SSE event goes out as its own HTTP chunk
(one ASGI ``http.response.body`` send with ``more_body=True`` per event, chunked transfer, no
``content-length``): the client pays the per-chunk cost of HTTP parsing that real streams cost.
``BENCH_SINGLE_BODY=1`` (or ``ServerProcess(single_body=True)``) sends the whole stream as one
``content-length`` body instead, the flattering case. Every reply is encoded once at start-up,
and the app is bare ASGI on uvicorn, so the server's cost is small and equal for every client.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

CHUNKS = int(os.environ.get("BENCH_CHUNKS", "200"))
SINGLE_BODY = os.environ.get("BENCH_SINGLE_BODY", "") not in ("", "0")
MODEL = "gpt-4o-mini-2024-07-18"
HEADERS = [
    b"cf-aig-log-id: 01JBENCHLOGID0000000000000",
    b"cf-aig-cache-status: MISS",
    b"cf-aig-event-id: bench-event",
]
CHAT_USAGE_DETAILS = {
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def token(i: int) -> str:
    """The text of delta ``i``; a full stream's text ends with ``token(CHUNKS - 1)``."""
    return f"tok{i} "


def _chat_reply() -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": 1748658747,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "Hello! How can I help?",
                        "refusal": None,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": 8,
                "completion_tokens": 7,
                "total_tokens": 15,
                **CHAT_USAGE_DETAILS,
            },
            "service_tier": "default",
            "system_fingerprint": "fp_bench",
        }
    ).encode()


def _chat_events() -> list[bytes]:
    base = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1748658747,
        "model": MODEL,
        "service_tier": "default",
        "system_fingerprint": "fp_bench",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> bytes:
        choices = (
            []
            if usage
            else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        )
        return (
            b"data: " + json.dumps({**base, "choices": choices, "usage": usage}).encode() + b"\n\n"
        )

    events = [chunk({"role": "assistant", "content": "", "refusal": None})]
    events += [chunk({"content": token(i)}) for i in range(CHUNKS)]
    events.append(chunk({}, finish="stop"))
    events.append(
        chunk(
            {},
            usage={
                "prompt_tokens": 8,
                "completion_tokens": CHUNKS,
                "total_tokens": 8 + CHUNKS,
                **CHAT_USAGE_DETAILS,
            },
        )
    )
    events.append(b"data: [DONE]\n\n")
    return events


def _response(status: str, text: str | None, usage: Any) -> dict[str, Any]:
    output = []
    if text is not None:
        output = [
            {
                "id": "msg_bench",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "annotations": [], "text": text}],
            }
        ]
    return {
        "id": "resp_bench",
        "object": "response",
        "created_at": 1748658747,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


def _responses_usage(output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": 8,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 8 + output_tokens,
    }


def _responses_events() -> list[bytes]:
    bodies: list[dict[str, Any]] = []
    text = "".join(token(i) for i in range(CHUNKS))
    item = {
        "id": "msg_bench",
        "type": "message",
        "status": "in_progress",
        "content": [],
        "role": "assistant",
    }
    where = {"item_id": "msg_bench", "output_index": 0, "content_index": 0}
    bodies += [
        {"type": "response.created", "response": _response("in_progress", None, None)},
        {"type": "response.in_progress", "response": _response("in_progress", None, None)},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {
            "type": "response.content_part.added",
            **where,
            "part": {"type": "output_text", "annotations": [], "text": ""},
        },
    ]
    bodies += [
        {"type": "response.output_text.delta", **where, "delta": token(i), "logprobs": []}
        for i in range(CHUNKS)
    ]
    done_item = {
        **item,
        "status": "completed",
        "content": [{"type": "output_text", "annotations": [], "text": text}],
    }
    bodies += [
        {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
        {
            "type": "response.content_part.done",
            **where,
            "part": {"type": "output_text", "annotations": [], "text": text},
        },
        {"type": "response.output_item.done", "output_index": 0, "item": done_item},
        {
            "type": "response.completed",
            "response": _response("completed", text, _responses_usage(CHUNKS)),
        },
    ]
    events = []
    for seq, body in enumerate(bodies):
        body = {"type": body.pop("type"), "sequence_number": seq, **body}
        events.append(
            b"event: " + body["type"].encode() + b"\ndata: " + json.dumps(body).encode() + b"\n\n"
        )
    return events


def _reply(body: bytes, content_type: bytes) -> list[bytes]:
    """The bytes of one reply with a ``content-length``, as one write."""
    head = [
        b"HTTP/1.1 200 OK",
        b"content-type: " + content_type,
        b"content-length: %d" % len(body),
        *HEADERS,
    ]
    return [b"\r\n".join(head) + b"\r\n\r\n" + body]


def _stream(events: list[bytes]) -> list[bytes]:
    """The writes of one SSE stream: one HTTP chunk per event, or one body if ``SINGLE_BODY``."""
    if SINGLE_BODY:
        return _reply(b"".join(events), b"text/event-stream")
    head = [
        b"HTTP/1.1 200 OK",
        b"content-type: text/event-stream",
        b"cache-control: no-cache",
        b"transfer-encoding: chunked",
        *HEADERS,
    ]
    chunks = [b"%x\r\n%s\r\n" % (len(event), event) for event in events]
    return [b"\r\n".join(head) + b"\r\n\r\n", *chunks, b"0\r\n\r\n"]


REPLIES = {
    ("chat", False): _reply(_chat_reply(), b"application/json"),
    ("chat", True): _stream(_chat_events()),
    ("responses", False): _reply(
        json.dumps(_response("completed", "Hello! How can I help?", _responses_usage(7))).encode(),
        b"application/json",
    ),
    ("responses", True): _stream(_responses_events()),
}
QUICKACK = getattr(socket, "TCP_QUICKACK", None)
BAD_REQUEST = b"HTTP/1.1 411 Length Required\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: reads a request with a ``content-length`` body and
    writes the pre-encoded reply, one ``transport.write`` (one send) per HTTP chunk."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.socket = transport.get_extra_info("socket")
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        # Acknowledge at once: a client that writes a request's head and body in two sends
        # (httpx does) otherwise waits out the delayed ACK (up to 40 ms) before its body goes.
        if QUICKACK is not None:
            self.socket.setsockopt(socket.IPPROTO_TCP, QUICKACK, 1)
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            length = head.partition(b"content-length:")[2].partition(b"\r\n")[0]
            if not length.strip().isdigit():
                self.transport.write(BAD_REQUEST)
                self.transport.close()
                return
            size = end + 4 + int(length)
            if len(self.buffer) < size:
                return
            body, self.buffer = self.buffer[end + 4 : size], self.buffer[size:]
            path = head.partition(b" ")[2].partition(b" ")[0]
            streaming = b'"stream":true' in body.replace(b" ", b"")
            write = self.transport.write
            for part in REPLIES["responses" if path.endswith(b"/responses") else "chat", streaming]:
                write(part)


async def serve(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Connection, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """Runs this module's server in a subprocess; ``base_url`` is the ``/v1`` gateway root.

    ``chunks`` sets the deltas per stream (default ``BENCH_CHUNKS``, 200); ``single_body=True``
    sends each stream as one ``content-length`` body (default ``BENCH_SINGLE_BODY``, off).
    """

    def __init__(self, chunks: int | None = None, single_body: bool | None = None) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.chunks = CHUNKS if chunks is None else chunks
        self.single_body = SINGLE_BODY if single_body is None else single_body
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        here = os.path.dirname(os.path.abspath(__file__))
        env = {
            **os.environ,
            "BENCH_CHUNKS": str(self.chunks),
            "BENCH_SINGLE_BODY": "1" if self.single_body else "",
        }
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(here, "loopback_server.py"), str(self.port)], env=env
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("benchmark server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
