"""Benchmark: the core client against raw httpx and the openai SDK, on one loopback server.

Run: ``python benchmarks/bench_core.py [--quick]`` (knobs in ``harness.py``). It serves a fixed
chat completion and a 200-chunk stream, one HTTP chunk per event, from a separate process, then
times, interleaved round by round on the same server: a non-streamed call and a full streamed
call for raw httpx (the floor), the core on the httpx wire (raw ``create``/``stream`` and the
neutral ``chat``/``chat_stream``), the core on the ``fast`` extra's sync wire (sockets, "core
[fast]") when aiohttp is installed, and the openai SDK; an async stream for raw ``httpx.AsyncClient``, the
core, and the core on aiohttp's transport ("core [fast]") when aiohttp is installed; and the
import time of the core against httpx in fresh interpreters. It prints each ratio against raw httpx as
the median of the rounds with their spread.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import sys
from collections.abc import Callable
from typing import Any

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Row, Settings, import_samples, interleave, print_rows, row, settings
from loopback_server import ServerProcess

from cf_ai_gateway import ConfigurationError, Gateway
from cf_ai_gateway.wire.types import ChatRequest, Message

KEY = "sk-bench-0000000000000000"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}
STREAM_BODY = {**BODY, "stream": True, "stream_options": {"include_usage": True}}


def async_gateways(base_url: str) -> tuple[dict[str, Gateway], httpx.AsyncClient | None]:
    """The core's async contenders: on httpx, and on aiohttp's C HTTP parser as "core [fast]".

    Where ``Gateway`` has a ``transport`` setting (the ``fast`` extra), both wires are chosen by
    it; otherwise "core [fast]" is the core given an ``httpx.AsyncClient`` on
    ``httpx_aiohttp.AiohttpTransport``, returned too since the caller must close it. Without
    aiohttp there is no "core [fast]".
    """
    common: dict[str, Any] = {"account_id": "acct", "api_key": KEY, "base_url": base_url}
    if "transport" in inspect.signature(Gateway).parameters:
        gateways = {"core": Gateway(**common, transport="httpx")}
        with contextlib.suppress(ConfigurationError):  # raised when aiohttp is not installed
            gateways["core [fast]"] = Gateway(**common, transport="aiohttp")
        return gateways, None
    gateways = {"core": Gateway(**common)}
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:
        return gateways, None
    client = httpx.AsyncClient(transport=AiohttpTransport())
    gateways["core [fast]"] = Gateway(**common, async_http_client=client)
    return gateways, client


def measure(s: Settings) -> list[Row]:
    rows: list[Row] = []
    with ServerProcess(chunks=s.chunks) as server:
        url = f"{server.base_url}/acct/default/openai/chat/completions"
        headers = {"authorization": f"Bearer {KEY}"}
        raw = httpx.Client()
        common: dict[str, Any] = {"account_id": "acct", "api_key": KEY, "base_url": server.base_url}
        # "core": the httpx wire; "core [fast]": the fast extra's wires (sync: sockets).
        gw = Gateway(**common, transport="httpx")
        fast: Gateway | None = None
        with contextlib.suppress(ConfigurationError):  # raised when aiohttp is not installed
            fast = Gateway(**common, transport="aiohttp")
        req = ChatRequest(model="gpt-4o-mini", messages=[Message(role="user", content="Say hello")])

        def httpx_call() -> object:
            return json.loads(raw.post(url, json=BODY, headers=headers).content)

        def httpx_stream() -> object:
            out = []
            with raw.stream("POST", url, json=STREAM_BODY, headers=headers) as r:
                for line in r.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        out.append(json.loads(line[6:]))
            return out

        def core_stream(on: Gateway) -> Callable[[], object]:
            def run() -> object:
                with on.stream("chat/completions", STREAM_BODY) as events:
                    return list(events)

            return run

        def core_chat_stream() -> object:
            with gw.chat_stream(req) as stream:
                for _ in stream:
                    pass
                return stream.result()

        calls: dict[str, Callable[[], object]] = {
            "httpx": httpx_call,
            "core": lambda: gw.create("chat/completions", BODY).body,
            "core chat": lambda: gw.chat(req),
        }
        streams: dict[str, Callable[[], object]] = {
            "httpx": httpx_stream,
            "core": core_stream(gw),
            "core chat_stream": core_chat_stream,
        }
        if fast is not None:
            calls["core [fast]"] = lambda: fast.create("chat/completions", BODY).body
            streams["core [fast]"] = core_stream(fast)
        try:
            import openai

            sdk = openai.OpenAI(api_key=KEY, base_url=f"{server.base_url}/acct/default/openai")
            messages = BODY["messages"]
            calls["openai"] = lambda: sdk.chat.completions.create(
                model="gpt-4o-mini", messages=messages
            )  # type: ignore[arg-type]
            streams["openai"] = lambda: list(
                sdk.chat.completions.create(
                    model="gpt-4o-mini",
                    messages=messages,
                    stream=True,  # type: ignore[arg-type]
                    stream_options={"include_usage": True},
                )
            )
        except ImportError:
            pass

        samples = interleave(calls, calls=s.calls, rounds=s.rounds)
        rows.append(row("core `create` vs raw httpx", samples, "core", "httpx"))
        rows.append(row("core `chat` (neutral) vs raw httpx", samples, "core chat", "httpx"))
        if "core [fast]" in samples:
            rows.append(
                row("core [fast] `create` (sockets) vs raw httpx", samples, "core [fast]", "httpx")
            )
        if "openai" in samples:
            rows.append(row("openai SDK create vs raw httpx", samples, "openai", "httpx"))
        samples = interleave(streams, calls=s.streams, rounds=s.rounds)
        rows.append(row(f"core {s.chunks}-chunk `stream` vs raw httpx", samples, "core", "httpx"))
        rows.append(
            row("core `chat_stream` (neutral) vs raw httpx", samples, "core chat_stream", "httpx")
        )
        if "core [fast]" in samples:
            rows.append(
                row(
                    f"core [fast] {s.chunks}-chunk `stream` (sockets) vs raw httpx",
                    samples,
                    "core [fast]",
                    "httpx",
                )
            )
        if "openai" in samples:
            rows.append(row("openai SDK stream vs raw httpx", samples, "openai", "httpx"))
        rows += _async_streams(s, server.base_url, url, headers)
        gw.close()
        if fast is not None:
            fast.close()
        raw.close()

    samples = import_samples(
        {"core": "import cf_ai_gateway", "httpx": "import httpx"}, s.import_runs
    )
    rows.append(row("`import cf_ai_gateway` vs `import httpx`", samples, "core", "httpx"))
    return rows


def _async_streams(s: Settings, base_url: str, url: str, headers: dict[str, str]) -> list[Row]:
    """The async stream: raw ``httpx.AsyncClient``, the core, and the core on aiohttp if installed."""
    loop = asyncio.new_event_loop()
    raw = httpx.AsyncClient()
    gateways, fast = async_gateways(base_url)

    async def httpx_stream() -> object:
        out = []
        async with raw.stream("POST", url, json=STREAM_BODY, headers=headers) as r:
            async for line in r.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    out.append(json.loads(line[6:]))
        return out

    def core_stream(gw: Gateway) -> Callable[[], object]:
        async def run() -> object:
            async with gw.astream("chat/completions", STREAM_BODY) as events:
                return [event async for event in events]

        return lambda: loop.run_until_complete(run())

    streams: dict[str, Callable[[], object]] = {
        "httpx": lambda: loop.run_until_complete(httpx_stream())
    }
    streams.update({name: core_stream(gw) for name, gw in gateways.items()})
    try:
        samples = interleave(streams, calls=s.streams, rounds=s.rounds)
    finally:
        loop.run_until_complete(raw.aclose())
        for gw in gateways.values():
            loop.run_until_complete(gw.aclose())
        if fast is not None:  # an injected client stays open after the Gateway closes
            loop.run_until_complete(fast.aclose())
        loop.close()
    return [
        row(f"{name} async {s.chunks}-chunk stream vs raw httpx async", samples, name, "httpx")
        for name in gateways
    ]


def main() -> None:
    print_rows("core vs raw httpx (median of rounds, lowest-highest)", measure(settings(__doc__)))


if __name__ == "__main__":
    main()
