"""Benchmark: fan-out, N concurrent async 200-chunk streams, the core against raw httpx.

Run: ``python benchmarks/bench_fanout.py`` (``BENCH_FANOUT_N`` streams, default 1000;
``BENCH_FANOUT_ROUNDS`` rounds, default 3; ``BENCH_CHUNKS`` events per stream, default 200;
``BENCH_FANOUT_CONTENDERS``, default ``core,httpx``, where ``core@50`` is the core with
``max_connections=50``, to compare pool sizes).

The server is this file run with ``--serve``: a bare asyncio server in its own process that
writes each SSE event as its own HTTP chunk, one event per connection per turn of its loop (as a
streaming gateway flushes them), and counts the TCP connections that carried a stream. Each
contender runs in a fresh subprocess per round (so peak RSS is its own), and the contenders
alternate order round by round against the same server. A contender opens all N streams at
once, reads every event (SSE parsed, each ``data:`` JSON decoded) and reports throughput
(streams/s), the p50/p99 time from the start to the end of a stream, client CPU per chunk,
peak RSS and the connections opened. Both use a 300 s timeout, so no stream times out while
it waits for a connection; raw httpx keeps httpx's default pool limits (100 connections, 20
kept alive), the core its own defaults (``max_connections``/``max_keepalive``, which the
``CF_AIG_MAX_CONNECTIONS``/``CF_AIG_MAX_KEEPALIVE`` variables change). The summary gives the
median of the rounds with their spread (min-max).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

N = int(os.environ.get("BENCH_FANOUT_N", "1000"))
ROUNDS = int(os.environ.get("BENCH_FANOUT_ROUNDS", "3"))
CHUNKS = int(os.environ.get("BENCH_CHUNKS", "200"))
KEY = "sk-bench-0000000000000000"
BODY = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Say hello"}],
    "stream": True,
    "stream_options": {"include_usage": True},
}
# ``core@50`` is the core with max_connections=50 (to compare pool sizes).
CONTENDERS = tuple(os.environ.get("BENCH_FANOUT_CONTENDERS", "core,httpx").split(","))


# -- server ---------------------------------------------------------------------------------------
def _events() -> list[bytes]:
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000,
            "model": "gpt-4o-mini"}
    parts = [dict(base, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""},
                                  "finish_reason": None}])]
    parts += [dict(base, choices=[{"index": 0, "delta": {"content": f"tok{i} "}, "finish_reason": None}])
              for i in range(CHUNKS)]
    parts.append(dict(base, choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    parts.append(dict(base, choices=[], usage={"prompt_tokens": 12, "completion_tokens": CHUNKS,
                                               "total_tokens": 12 + CHUNKS}))
    events = [b"data: " + json.dumps(p).encode() + b"\n\n" for p in parts]
    events.append(b"data: [DONE]\n\n")
    return [b"%x\r\n%s\r\n" % (len(e), e) for e in events]


STATS = {"connections": 0, "accepted": 0, "requests": 0, "streaming": 0, "most_streaming": 0}
HEAD = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n"
        b"cf-aig-log-id: 01JBENCHLOG0000000000000000\r\ncf-aig-cache-status: MISS\r\n\r\n")


class _Connection(asyncio.Protocol):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.buffer = b""
        self.counted = False
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Future[None] | None = None  # the reply being streamed

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        STATS["accepted"] += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end].lower()
            length = 0
            for line in head.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            if head.startswith((b"get /_stats", b"post /_reset")):
                if head.startswith(b"post"):
                    STATS.update(connections=0, accepted=0, requests=0, most_streaming=0)
                body = json.dumps(STATS).encode()
                assert self.transport is not None
                self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                                     b"content-length: %d\r\n\r\n%s" % (len(body), body))
                continue
            if not self.counted:
                self.counted = True
                STATS["connections"] += 1
            STATS["requests"] += 1
            self.task = asyncio.ensure_future(self.stream())

    async def stream(self) -> None:
        transport = self.transport
        assert transport is not None
        transport.write(HEAD)
        STATS["streaming"] += 1
        STATS["most_streaming"] = max(STATS["most_streaming"], STATS["streaming"])
        try:
            for chunk in self.chunks:
                await asyncio.sleep(0)  # one event per connection per turn of the loop
                if transport.is_closing():
                    return
                transport.write(chunk)
            transport.write(b"0\r\n\r\n")
        finally:
            STATS["streaming"] -= 1


def serve(port: int) -> None:
    chunks = _events()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Connection(chunks), "127.0.0.1", port, backlog=4096)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- contenders -----------------------------------------------------------------------------------
async def _core(base_url: str) -> Any:
    from cf_ai_gateway import Gateway

    gw = Gateway(account_id="acct", api_key=KEY, base_url=base_url, timeout=300.0)

    async def one() -> int:
        async with gw.astream("chat/completions", BODY) as events:
            return sum([1 async for _ in events])

    return one, gw.aclose


async def _httpx(base_url: str) -> Any:
    import httpx

    client = httpx.AsyncClient(timeout=300.0)
    url = f"{base_url}/acct/default/openai/chat/completions"
    headers = {"authorization": f"Bearer {KEY}"}

    async def one() -> int:
        count = 0
        async with client.stream("POST", url, json=BODY, headers=headers) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    json.loads(line[6:])
                    count += 1
        return count

    return one, client.aclose


def run_client(name: str, base_url: str) -> None:
    import resource

    async def main() -> dict[str, Any]:
        make = _httpx if name == "httpx" else _core
        one, close = await make(base_url)
        await one()  # warm-up: imports and first-call costs, on a client then closed
        await close()
        one, close = await make(base_url)  # the measured client starts with an empty pool
        start = time.perf_counter()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = usage.ru_utime + usage.ru_stime

        async def timed() -> tuple[int, float]:
            count = await one()
            return count, time.perf_counter() - start

        results = await asyncio.gather(*(timed() for _ in range(N)))
        wall = time.perf_counter() - start
        usage = resource.getrusage(resource.RUSAGE_SELF)
        await close()
        latencies = sorted(t for _, t in results)
        events = sum(c for c, _ in results)
        if events != N * (CHUNKS + 3):
            raise SystemExit(f"{name}: {events} events, expected {N * (CHUNKS + 3)}")
        return {
            "throughput": N / wall,
            "p50": latencies[len(latencies) // 2],
            "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
            "cpu_us_per_chunk": (usage.ru_utime + usage.ru_stime - cpu0) / (N * CHUNKS) * 1e6,
            "rss_mb": usage.ru_maxrss / 1024,
        }

    print(json.dumps(asyncio.run(main())))


# -- driver ---------------------------------------------------------------------------------------
def _control(port: int, request: bytes) -> dict[str, int]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"}" not in data:
            data += sock.recv(4096)
    return json.loads(data.split(b"\r\n\r\n", 1)[1])  # type: ignore[no-any-return]


def _spread(values: list[float], fmt: str) -> str:
    return f"{format(statistics.median(values), fmt)} ({format(min(values), fmt)}-{format(max(values), fmt)})"


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    here = os.path.abspath(__file__)
    server = subprocess.Popen([sys.executable, here, "--serve", str(port)])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                _control(port, b"GET /_stats HTTP/1.1\r\nhost: x\r\n\r\n")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        base_url = f"http://127.0.0.1:{port}/v1"
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in CONTENDERS}
        print(f"{N} concurrent streams of {CHUNKS} chunks, {ROUNDS} rounds")
        for round_no in range(ROUNDS):
            order = CONTENDERS if round_no % 2 == 0 else tuple(reversed(CONTENDERS))
            for name in order:
                _control(port, b"POST /_reset HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n")
                env = dict(os.environ)
                if "@" in name:
                    env["CF_AIG_MAX_CONNECTIONS"] = name.split("@", 1)[1]
                out = subprocess.run([sys.executable, here, "--client", name, base_url],
                                     capture_output=True, text=True, check=True, env=env)
                row = json.loads(out.stdout.strip().splitlines()[-1])
                stats = _control(port, b"GET /_stats HTTP/1.1\r\nhost: x\r\n\r\n")
                row["connections"] = stats["connections"]
                row["most_streaming"] = stats["most_streaming"]
                rows[name].append(row)
                print(f"round {round_no + 1} {name:9} {row['throughput']:7.1f} streams/s  "
                      f"p50 {row['p50']:6.2f}s  p99 {row['p99']:6.2f}s  "
                      f"{row['cpu_us_per_chunk']:5.1f} us/chunk  {row['rss_mb']:5.1f} MB  "
                      f"{row['connections']} connections, at most {row['most_streaming']} streaming at once",
                      flush=True)
    finally:
        server.terminate()
        server.wait(10)

    print("\nmedian (min-max) over rounds")
    for key, fmt in (("throughput", ".1f"), ("p99", ".2f"), ("cpu_us_per_chunk", ".1f"),
                     ("rss_mb", ".1f"), ("connections", ".0f")):
        cells = "".join(f"{name} {_spread([r[key] for r in rows[name]], fmt):24}" for name in CONTENDERS)
        print(f"  {key:18} {cells}")
    if "httpx" not in rows:
        return
    for name in CONTENDERS:
        if name == "httpx":
            continue
        for key in ("throughput", "p99", "cpu_us_per_chunk"):
            values = [c[key] / h[key] for c, h in zip(rows[name], rows["httpx"], strict=True)]
            print(f"  {key} {name}/httpx: {_spread(values, '.2f')}x")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(int(sys.argv[2]))
    elif len(sys.argv) > 3 and sys.argv[1] == "--client":
        run_client(sys.argv[2], sys.argv[3])
    else:
        main()
