"""Benchmark: the core's wires against raw httpx, on a server that flushes one HTTP chunk per event.

Run: ``python benchmarks/bench_fast.py`` (``pip install -e '.[bench,fast]'`` first). A bare ASGI
app on uvicorn, in its own process, answers a chat completion, or a 200-event chat stream sent
as one HTTP chunk per SSE event (as a streaming gateway flushes them). In interleaved rounds on
one event loop it times raw httpx (``AsyncClient.stream`` + ``aiter_lines`` + ``json.loads``: the
floor the README compares with) and the core's ``astream`` / ``acreate`` on the httpx wire with
``json``, on the httpx wire with orjson, and on the aiohttp wire with orjson (the ``fast``
extra), then the sync ``stream`` / ``create`` on the httpx wire (``json``, orjson) and on the
sockets of the ``fast`` extra, against raw sync httpx. Each round takes the median
of its calls and the client process's CPU time per call; the script prints, per contender, the
median over rounds of its ratio to raw httpx and the spread (min-max) of that ratio, for both.
CPU time leaves out the waits for the server, which on a loaded machine swamp wall time. ``BENCH_ROUNDS`` (5), ``BENCH_STREAMS`` (30) and
``BENCH_CALLS`` (100) set the work.
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
from collections.abc import Awaitable, Callable
from typing import Any

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "30"))
CALLS = int(os.environ.get("BENCH_CALLS", "100"))
EVENTS = 200
KEY = "sk-bench-0000000000000000"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}
STREAM_BODY = {**BODY, "stream": True, "stream_options": {"include_usage": True}}

_BASE = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1700000000,
         "model": "gpt-4o-mini", "system_fingerprint": "fp_bench"}
_PARTS = [dict(_BASE, choices=[{"index": 0, "delta": {"role": "assistant", "content": ""},
                                "logprobs": None, "finish_reason": None}])]
_PARTS += [dict(_BASE, choices=[{"index": 0, "delta": {"content": f"tok{i} "}, "logprobs": None,
                                 "finish_reason": None}]) for i in range(EVENTS)]
_PARTS += [dict(_BASE, choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}]),
           dict(_BASE, choices=[], usage={"prompt_tokens": 12, "completion_tokens": EVENTS,
                                          "total_tokens": 12 + EVENTS})]
STREAM_CHUNKS = [b"data: " + json.dumps(p).encode() + b"\n\n" for p in _PARTS] + [b"data: [DONE]\n\n"]
REPLY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the benchmark server."},
                 "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
}).encode()
HEADERS = [(b"cf-aig-log-id", b"01JBENCHLOG0000000000000000"), (b"cf-aig-cache-status", b"MISS")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Per-event chunks for ``stream: true`` requests, one JSON body otherwise."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if b'"stream":true' in body.replace(b" ", b""):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), *HEADERS]})
        for chunk in STREAM_CHUNKS:  # no content-length: one HTTP chunk per event
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(REPLY)).encode()), *HEADERS]})
    await send({"type": "http.response.body", "body": REPLY})


class Server:
    def __enter__(self) -> Server:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        here = os.path.dirname(os.path.abspath(__file__))
        self.proc = subprocess.Popen([sys.executable, "-c", (
            f"import sys; sys.path.insert(0, {here!r}); import uvicorn, bench_fast; "
            f"uvicorn.run(bench_fast.app, host='127.0.0.1', port={self.port}, log_level='error', access_log=False)")])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("benchmark server did not start")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)


Sample = tuple[float, float]  # (median wall-clock us per call, client CPU us per call) of a round


def _report(title: str, rounds: dict[str, list[Sample]], floor: str) -> None:
    print(f"\n{title}: ratio to {floor}, median of {len(rounds[floor])} rounds (min-max)")
    print(f"  {'':34} {'wall us':>9} {'wall ratio':>18} {'CPU us':>9} {'CPU ratio':>18}")
    for name, values in rounds.items():
        cells = []
        for i in (0, 1):
            ratios = [v[i] / f[i] for v, f in zip(values, rounds[floor], strict=True)]
            cells.append(f"{statistics.median(v[i] for v in values):9.0f} "
                         f"{statistics.median(ratios):6.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
        print(f"  {name:34} {'  '.join(cells)}")


async def _median_us(call: Callable[[], Awaitable[object]], n: int) -> Sample:
    samples = []
    cpu = time.process_time()
    for _ in range(n):
        t = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6, (time.process_time() - cpu) / n * 1e6


def _sync_median_us(call: Callable[[], object], n: int) -> Sample:
    samples = []
    cpu = time.process_time()
    for _ in range(n):
        t = time.perf_counter()
        call()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6, (time.process_time() - cpu) / n * 1e6


def _use_orjson(on: bool) -> None:
    from cf_ai_gateway import jsontext

    if on:
        import orjson

        jsontext._fast = orjson.loads
    else:
        jsontext._fast = None


async def _async_rounds(base_url: str) -> None:
    import httpx

    from cf_ai_gateway import Gateway

    url = f"{base_url}/acct/default/openai/chat/completions"
    headers = {"authorization": f"Bearer {KEY}"}
    raw = httpx.AsyncClient()

    async def httpx_stream() -> object:
        out = []
        async with raw.stream("POST", url, json=STREAM_BODY, headers=headers) as r:
            async for line in r.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    out.append(json.loads(line[6:]))
        return out

    async def httpx_create() -> object:
        return json.loads((await raw.post(url, json=BODY, headers=headers)).content)

    on_httpx = Gateway(account_id="acct", api_key=KEY, base_url=base_url, transport="httpx")
    on_aiohttp = Gateway(account_id="acct", api_key=KEY, base_url=base_url, transport="aiohttp")

    def stream_on(gw: Gateway, orjson: bool) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            _use_orjson(orjson)
            return [event async for event in gw.astream("chat/completions", STREAM_BODY)]
        return call

    def create_on(gw: Gateway, orjson: bool) -> Callable[[], Awaitable[object]]:
        async def call() -> object:
            _use_orjson(orjson)
            return (await gw.acreate("chat/completions", BODY)).body
        return call

    streams = {
        "raw httpx": httpx_stream,
        "core, httpx wire, json": stream_on(on_httpx, False),
        "core, httpx wire, orjson": stream_on(on_httpx, True),
        "core, aiohttp wire, orjson [fast]": stream_on(on_aiohttp, True),
    }
    creates = {
        "raw httpx": httpx_create,
        "core, httpx wire, json": create_on(on_httpx, False),
        "core, httpx wire, orjson": create_on(on_httpx, True),
        "core, aiohttp wire, orjson [fast]": create_on(on_aiohttp, True),
    }
    for table in (streams, creates):  # warm up every client and connection
        for call in table.values():
            for _ in range(5):
                await call()
    stream_rounds: dict[str, list[Sample]] = {name: [] for name in streams}
    create_rounds: dict[str, list[Sample]] = {name: [] for name in creates}
    for _ in range(ROUNDS):
        for name, call in streams.items():
            stream_rounds[name].append(await _median_us(call, STREAMS))
        for name, call in creates.items():
            create_rounds[name].append(await _median_us(call, CALLS))
    _report(f"async {EVENTS}-event stream, one HTTP chunk per event", stream_rounds, "raw httpx")
    _report("async create", create_rounds, "raw httpx")
    await raw.aclose()
    await on_httpx.aclose()
    await on_aiohttp.aclose()


def _sync_rounds(base_url: str) -> None:
    import httpx

    from cf_ai_gateway import Gateway

    url = f"{base_url}/acct/default/openai/chat/completions"
    headers = {"authorization": f"Bearer {KEY}"}
    raw = httpx.Client()
    gw = Gateway(account_id="acct", api_key=KEY, base_url=base_url, transport="httpx")
    fast = Gateway(account_id="acct", api_key=KEY, base_url=base_url, transport="aiohttp")

    def httpx_stream() -> object:
        out = []
        with raw.stream("POST", url, json=STREAM_BODY, headers=headers) as r:
            for line in r.iter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    out.append(json.loads(line[6:]))
        return out

    def core_stream(on: Gateway, orjson: bool) -> Callable[[], object]:
        def call() -> object:
            _use_orjson(orjson)
            with on.stream("chat/completions", STREAM_BODY) as events:
                return list(events)
        return call

    def core_create(on: Gateway, orjson: bool) -> Callable[[], object]:
        def call() -> object:
            _use_orjson(orjson)
            return on.create("chat/completions", BODY).body
        return call

    streams = {
        "raw httpx": httpx_stream,
        "core httpx wire, json": core_stream(gw, False),
        "core httpx wire, orjson": core_stream(gw, True),
        "core sockets + orjson (fast)": core_stream(fast, True),
    }
    creates = {
        "raw httpx": lambda: json.loads(raw.post(url, json=BODY, headers=headers).content),
        "core httpx wire, json": core_create(gw, False),
        "core httpx wire, orjson": core_create(gw, True),
        "core sockets + orjson (fast)": core_create(fast, True),
    }
    for table in (streams, creates):
        for call in table.values():
            for _ in range(5):
                call()
    stream_rounds: dict[str, list[Sample]] = {name: [] for name in streams}
    create_rounds: dict[str, list[Sample]] = {name: [] for name in creates}
    for _ in range(ROUNDS):
        for name, call in streams.items():
            stream_rounds[name].append(_sync_median_us(call, STREAMS))
        for name, call in creates.items():
            create_rounds[name].append(_sync_median_us(call, CALLS))
    _report(f"sync {EVENTS}-event stream, one HTTP chunk per event", stream_rounds, "raw httpx")
    _report("sync create", create_rounds, "raw httpx")
    raw.close()
    gw.close()
    fast.close()


def main() -> None:
    with Server() as server:
        base_url = f"http://127.0.0.1:{server.port}/v1"
        asyncio.run(_async_rounds(base_url))
        _sync_rounds(base_url)


if __name__ == "__main__":
    main()
