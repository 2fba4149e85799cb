"""Benchmark: the emulator's request latency against a bare starlette app on the same server setup.

Run: ``python benchmarks/bench_emulator.py``. Both apps are served by uvicorn (h11) in a
background thread of this process on 127.0.0.1, as the emulator always is, and one
keep-alive ``httpx.Client`` sends sequential requests: a non-streamed chat completion through the
emulator (authenticated gateway, provider key, logged) and a POST that the bare app answers with a
fixed JSON body of similar size. The rounds alternate between the two servers so that machine
noise hits both alike. It prints, per server, the median over rounds of each round's p50 (and the
spread of those p50s), then the difference, and the CPU time per request of this process (client
and server), which a busy machine disturbs far less than wall-clock time. ``BENCH_ROUNDS`` and ``BENCH_CALLS`` change the sizes;
``BENCH_FRESH=1`` opens a new connection for every request instead (Nagle's cost shows there).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from collections.abc import Callable

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from cf_ai_gateway.emulator import Emulator

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
CALLS = int(os.environ.get("BENCH_CALLS", "300"))
FRESH = os.environ.get("BENCH_FRESH") == "1"
KEY = "sk-bench-0000000000000000"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}


class BareServer:
    """A bare starlette app answering every POST with a fixed JSON body, served by uvicorn as usual.

    uvicorn binds its own socket here (``host``/``port``), in a background thread, with the
    emulator's server options.
    """

    def __init__(self, reply: bytes) -> None:
        async def answer(request: Request) -> Response:
            await request.body()
            return Response(reply, media_type="application/json")

        app = Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None, log_level="warning",
                                access_log=False, lifespan="off", loop="asyncio", http="h11", ws="none",
                                timeout_keep_alive=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = 0

    def __enter__(self) -> BareServer:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def p50_ms(call: Callable[[], object], n: int) -> tuple[float, float]:
    """The p50 wall-clock latency and the mean CPU time per request of this process, in ms."""
    for _ in range(min(30, n)):
        call()
    samples = []
    cpu_started = time.process_time()
    for _ in range(n):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    cpu = (time.process_time() - cpu_started) / n
    return statistics.median(samples) * 1e3, cpu * 1e3


def caller(url: str, headers: dict[str, str]) -> Callable[[], object]:
    if FRESH:
        def fresh() -> object:
            with httpx.Client() as client:
                return client.post(url, json=BODY, headers=headers).raise_for_status()
        return fresh
    client = httpx.Client()
    return lambda: client.post(url, json=BODY, headers=headers).raise_for_status()


def summary(name: str, values: list[float]) -> str:
    return (f"{name:<12} p50 {statistics.median(values):7.3f} ms  "
            f"(rounds: min {min(values):.3f}, max {max(values):.3f})")


def main() -> None:
    with Emulator() as emu:
        headers = {"authorization": f"Bearer {KEY}", "cf-aig-authorization": f"Bearer {emu.token}"}
        emulator_url = f"{emu.gateway_url()}/chat/completions"
        sample = httpx.post(emulator_url, json=BODY, headers=headers).content
        with BareServer(json.dumps(json.loads(sample)).encode()) as bare:
            bare_url = f"http://127.0.0.1:{bare.port}/v1/acct/default/openai/chat/completions"
            call_emulator, call_bare = caller(emulator_url, headers), caller(bare_url, headers)
            emulator_p50s: list[float] = []
            bare_p50s: list[float] = []
            emulator_cpu: list[float] = []
            bare_cpu: list[float] = []
            for _ in range(ROUNDS):
                wall, cpu = p50_ms(call_bare, CALLS)
                bare_p50s.append(wall)
                bare_cpu.append(cpu)
                wall, cpu = p50_ms(call_emulator, CALLS)
                emulator_p50s.append(wall)
                emulator_cpu.append(cpu)
                emu.reset()
    mode = "a new connection per request" if FRESH else "one keep-alive connection"
    print(f"{ROUNDS} interleaved rounds of {CALLS} sequential requests, {mode}:")
    print(summary("bare app", bare_p50s))
    print(summary("emulator", emulator_p50s))
    gaps = [e - b for e, b in zip(emulator_p50s, bare_p50s, strict=True)]
    print(f"difference   p50 {statistics.median(gaps):7.3f} ms  (rounds: min {min(gaps):.3f}, max {max(gaps):.3f})")
    # CPU time per request (client and server share this process) hardly depends on other load.
    cpu_gaps = [e - b for e, b in zip(emulator_cpu, bare_cpu, strict=True)]
    print(f"CPU/request  bare {statistics.median(bare_cpu):.3f} ms, emulator {statistics.median(emulator_cpu):.3f} ms, "
          f"difference {statistics.median(cpu_gaps):.3f} ms (rounds: min {min(cpu_gaps):.3f}, max {max(cpu_gaps):.3f})")


if __name__ == "__main__":
    main()
