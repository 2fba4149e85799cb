"""Benchmark: cost per chunk of long LangChain streams, ``ChatCloudflareAIGateway`` vs ``ChatOpenAI``.

A tiny stdlib server (own process) answers every ``chat/completions`` stream with N text
deltas, the finish and usage events and ``[DONE]``, one HTTP chunk per SSE event, flushed
event by event as a streaming gateway does. N comes from the URL (``/n<N>/v1``), so both
clients hit the same bytes. For N = 2,000 and 20,000 it drains ``model.stream(...)`` with each
client, alternating them round by round, and prints the median microseconds per chunk with the
min-max spread, plus the share of that time spent in garbage collection (``gc.callbacks``).
A flat curve (the same cost per chunk at 20,000 as at 2,000) means nothing grows per chunk.

Run ``python benchmarks/bench_long_stream.py [--rounds 3] [--sizes 2000 20000]`` (needs the
``bench`` extra). Not part of the test run.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import socket
import statistics
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT = "0123456789abcdef0123456789abcdef"
GATEWAY = "bench"
MODEL = "gpt-4o-mini"


def _events(count: int) -> list[bytes]:
    base = {"id": "chatcmpl-long", "object": "chat.completion.chunk", "created": 1700000000,
            "model": MODEL}
    parts: list[dict[str, Any]] = [
        dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""},
                             "finish_reason": None}])
    ]
    parts += [
        dict(base, choices=[{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}])
        for i in range(count)
    ]
    parts.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    parts.append(dict(base, choices=[], usage={"prompt_tokens": 12, "completion_tokens": count,
                                               "total_tokens": 12 + count}))
    events = [b"data: " + json.dumps(part).encode() + b"\n\n" for part in parts]
    events.append(b"data: [DONE]\n\n")
    return [b"%x\r\n%s\r\n" % (len(event), event) for event in events]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cache: dict[int, list[bytes]] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        count = int(self.path.split("/n", 1)[1].split("/", 1)[0])
        chunks = self.cache.get(count) or self.cache.setdefault(count, _events(count))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cf-aig-log-id", "01JLONGSTREAM000000000000000")
        self.send_header("cf-aig-cache-status", "MISS")
        self.end_headers()
        self.wfile.flush()
        conn = self.connection
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for chunk in chunks:
            conn.sendall(chunk)
        conn.sendall(b"0\r\n\r\n")


def _serve(port_queue: Any) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port_queue.put(server.server_address[1])
    server.serve_forever()


class _GCTimer:
    """Seconds spent in garbage collection while active (``gc.callbacks``)."""

    def __init__(self) -> None:
        self.total = 0.0
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._start


def _drain(model: Any) -> int:
    count = 0
    for _ in model.stream("Write a long story."):
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    args = parser.parse_args()

    port_queue: Any = multiprocessing.Queue()
    server = multiprocessing.Process(target=_serve, args=(port_queue,), daemon=True)
    server.start()
    port = port_queue.get(timeout=30)

    from langchain_openai import ChatOpenAI

    from langchain_cf_ai_gateway import ChatCloudflareAIGateway

    def models(count: int) -> dict[str, Any]:
        root = f"http://127.0.0.1:{port}/n{count}/v1"
        return {
            "ours": ChatCloudflareAIGateway(
                model=MODEL, account_id=ACCOUNT, gateway_id=GATEWAY, api_key="sk-bench",
                base_url=root, stream_usage=True, max_retries=0, timeout=600,
            ),
            "ChatOpenAI": ChatOpenAI(
                model=MODEL, api_key="sk-bench",  # type: ignore[arg-type]
                base_url=f"{root}/{ACCOUNT}/{GATEWAY}/openai", stream_usage=True, max_retries=0,
                timeout=600,
            ),
        }

    timer = _GCTimer()
    print(f"{'chunks':>7} {'client':<11}{'us/chunk':>10}  {'spread':<13}{'gc share':>9}")
    try:
        for count in args.sizes:
            contenders = models(count)
            for model in models(20).values():  # warm up lazy imports and schemas
                _drain(model)
            per_chunk: dict[str, list[float]] = {name: [] for name in contenders}
            gc_share: dict[str, list[float]] = {name: [] for name in contenders}
            for number in range(args.rounds):
                order = list(contenders) if number % 2 == 0 else list(reversed(contenders))
                for name in order:
                    gc.collect()
                    timer.total = 0.0
                    gc.callbacks.append(timer)
                    start = time.perf_counter()
                    chunks = _drain(contenders[name])
                    elapsed = time.perf_counter() - start
                    gc.callbacks.remove(timer)
                    assert chunks >= count, (name, chunks)
                    per_chunk[name].append(elapsed / count * 1e6)
                    gc_share[name].append(timer.total / elapsed)
            for name in contenders:
                values = per_chunk[name]
                print(f"{count:>7} {name:<11}{statistics.median(values):>10.1f}  "
                      f"{min(values):.1f}-{max(values):.1f}".ljust(37)
                      + f"{statistics.median(gc_share[name]):>8.0%}")
    finally:
        server.terminate()
        server.join()
    print(f"(medians of {args.rounds} interleaved rounds; one HTTP chunk per SSE event)")


if __name__ == "__main__":
    main()
