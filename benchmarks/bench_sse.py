"""Benchmark: the SSE decoder's cost per megabyte, from 1 MB to 50 MB of stream.

Run: ``python benchmarks/bench_sse.py``. It feeds the decoder the bytes of a stream in 64 KiB
reads (what a socket delivers), for two shapes of stream: chat-completion events of ~150 bytes,
and one event with no newline at all (a stalled or hostile server; the event size limit is
raised above 50 MB for this run, so the whole stream is buffered). For each size it prints the
median cost in milliseconds per MB over several runs and the spread (min–max). A decoder that
is linear in its input shows the same cost per MB at every size. ``BENCH_RUNS`` sets the runs
per size (default 5), ``BENCH_SIZES`` the sizes in MB (default ``1,5,10,25,50``).
"""

from __future__ import annotations

import json
import os
import statistics
import time
from collections.abc import Callable

from cf_ai_gateway.sse import SSEDecoder

MB = 1_000_000
READ = 65536
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
SIZES = [int(s) for s in os.environ.get("BENCH_SIZES", "1,5,10,25,50").split(",")]
EVENT = (
    b"data: "
    + json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {"content": "hello"}, "finish_reason": None}],
        }
    ).encode()
    + b"\n\n"
)


def chat_stream(size: int) -> bytes:
    return (EVENT * (size // len(EVENT) + 1))[:size]


def one_event(size: int) -> bytes:
    return b"data: " + b"x" * (size - 6)


def decode(data: bytes) -> None:
    decoder = SSEDecoder(max_event_size=100 * MB)
    feed = decoder.feed
    view = memoryview(data)
    for start in range(0, len(data), READ):
        feed(bytes(view[start : start + READ]))
    decoder.flush()


def ms_per_mb(make: Callable[[int], bytes], megabytes: int) -> list[float]:
    data = make(megabytes * MB)
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        decode(data)
        samples.append((time.perf_counter() - start) * 1000 / megabytes)
    return samples


def main() -> None:
    print(f"SSE decoder, {READ // 1024} KiB reads, median of {RUNS} runs (min-max), ms per MB")
    print(f"{'size':>6}  {'chat events':>26}  {'one event, no newline':>26}")
    for megabytes in SIZES:
        cells = []
        for make in (chat_stream, one_event):
            samples = ms_per_mb(make, megabytes)
            med, low, high = statistics.median(samples), min(samples), max(samples)
            cells.append(f"{med:8.2f} ({low:6.2f}-{high:6.2f})")
        print(f"{megabytes:>4}MB  {cells[0]:>26}  {cells[1]:>26}")


if __name__ == "__main__":
    main()
