"""A minimal loopback OpenAI-wire server for benchmarks, run in its own process.

It answers ``POST .../chat/completions`` and ``POST .../responses`` with a fixed reply, or, when
the body asks for ``stream: true``, with a stream of ``CHUNKS`` events (default 200) followed by
the usage event and ``[DONE]``. It is a bare ASGI app on uvicorn, so the server's cost is small
and equal for every client measured against it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

CHUNKS = int(os.environ.get("BENCH_CHUNKS", "200"))
HEADERS = [
    (b"cf-aig-log-id", b"01JBENCHLOG0000000000000000"),
    (b"cf-aig-cache-status", b"MISS"),
    (b"cf-aig-step", b"0"),
]

CHAT_REPLY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the benchmark server."},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19,
              "prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}},
}).encode()


def _chat_stream() -> bytes:
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000, "model": "gpt-4o-mini"}
    parts = []
    first = dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
    parts.append(first)
    for i in range(CHUNKS):
        parts.append(dict(base, choices=[{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}]))
    parts.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    parts.append(dict(base, choices=[], usage={"prompt_tokens": 12, "completion_tokens": CHUNKS, "total_tokens": 12 + CHUNKS}))
    return b"".join(b"data: " + json.dumps(p).encode() + b"\n\n" for p in parts) + b"data: [DONE]\n\n"


def _response_obj(text: str, status: str = "completed") -> dict[str, Any]:
    return {
        "id": "resp_bench", "object": "response", "created_at": 1700000000, "status": status, "model": "gpt-4o-mini",
        "output": [{"type": "message", "id": "msg_bench", "status": "completed", "role": "assistant",
                    "content": [{"type": "output_text", "text": text, "annotations": []}]}],
        "usage": {"input_tokens": 12, "output_tokens": 7, "total_tokens": 19,
                  "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}},
    }


RESPONSES_REPLY = json.dumps(_response_obj("Hello from the benchmark server.")).encode()


def _responses_stream() -> bytes:
    events: list[dict[str, Any]] = []
    created = _response_obj("", "in_progress")
    created["output"] = []
    events.append({"type": "response.created", "sequence_number": 0, "response": created})
    events.append({"type": "response.output_item.added", "sequence_number": 1, "output_index": 0,
                   "item": {"type": "message", "id": "msg_bench", "status": "in_progress", "role": "assistant", "content": []}})
    events.append({"type": "response.content_part.added", "sequence_number": 2, "item_id": "msg_bench", "output_index": 0,
                   "content_index": 0, "part": {"type": "output_text", "text": "", "annotations": []}})
    text = []
    for i in range(CHUNKS):
        text.append(f"tok{i} ")
        events.append({"type": "response.output_text.delta", "sequence_number": 3 + i, "item_id": "msg_bench",
                       "output_index": 0, "content_index": 0, "delta": f"tok{i} ", "logprobs": []})
    full = "".join(text)
    n = 3 + CHUNKS
    events.append({"type": "response.output_text.done", "sequence_number": n, "item_id": "msg_bench", "output_index": 0,
                   "content_index": 0, "text": full, "logprobs": []})
    events.append({"type": "response.content_part.done", "sequence_number": n + 1, "item_id": "msg_bench",
                   "output_index": 0, "content_index": 0, "part": {"type": "output_text", "text": full, "annotations": []}})
    final = _response_obj(full)
    events.append({"type": "response.output_item.done", "sequence_number": n + 2, "output_index": 0, "item": final["output"][0]})
    events.append({"type": "response.completed", "sequence_number": n + 3, "response": final})
    return b"".join(b"event: " + e["type"].encode() + b"\ndata: " + json.dumps(e).encode() + b"\n\n" for e in events)


CHAT_STREAM = _chat_stream()
RESPONSES_STREAM = _responses_stream()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    streaming = b'"stream":true' in body.replace(b" ", b"")
    responses = scope["path"].endswith("/responses")
    if streaming:
        payload, ctype = (RESPONSES_STREAM if responses else CHAT_STREAM), b"text/event-stream"
    else:
        payload, ctype = (RESPONSES_REPLY if responses else CHAT_REPLY), b"application/json"
    headers = [(b"content-type", ctype), (b"content-length", str(len(payload)).encode()), *HEADERS]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """Runs this module's server in a subprocess; ``base_url`` is the ``/v1`` gateway root."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        here = os.path.dirname(os.path.abspath(__file__))
        self.proc = subprocess.Popen(
            [sys.executable, "-c",
             f"import sys; sys.path.insert(0, {here!r}); import uvicorn, loopback_server; "
             f"uvicorn.run(loopback_server.app, host='127.0.0.1', port={self.port}, log_level='error', access_log=False)"],
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("benchmark server did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def import_time(module: str, runs: int = 7) -> float:
    """Median seconds to import ``module`` in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip()))
    samples.sort()
    return samples[len(samples) // 2]
