"""Benchmark: the core client against raw httpx and the openai SDK, on one loopback server.

Run: ``python benchmarks/bench_core.py``. It serves a fixed chat completion and a 200-chunk
stream from a separate process, then times, in one run and on the same server, a non-streamed
call and a full streamed call for raw httpx (the floor), the core (raw ``create``/``stream`` and
the neutral ``chat``/``chat_stream``) and the openai SDK, and the import time of the core and of
httpx. It prints medians in microseconds and the ratios against raw httpx.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable

import httpx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback_server import ServerProcess, import_time  # noqa: E402

from cf_ai_gateway import Gateway  # noqa: E402
from cf_ai_gateway.wire.types import ChatRequest, Message  # noqa: E402

CALLS = int(os.environ.get("BENCH_CALLS", "400"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "150"))
KEY = "sk-bench-0000000000000000"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}
STREAM_BODY = {**BODY, "stream": True, "stream_options": {"include_usage": True}}


def median_us(fn: Callable[[], object], n: int) -> float:
    for _ in range(min(20, n)):
        fn()
    samples = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6


def main() -> None:
    with ServerProcess() as server:
        url = f"{server.base_url}/acct/default/openai/chat/completions"
        headers = {"authorization": f"Bearer {KEY}"}
        raw = httpx.Client()

        def httpx_call() -> object:
            return json.loads(raw.post(url, json=BODY, headers=headers).content)

        def httpx_stream() -> object:
            out = []
            with raw.stream("POST", url, json=STREAM_BODY, headers=headers) as r:
                for line in r.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        out.append(json.loads(line[6:]))
            return out

        gw = Gateway(account_id="acct", api_key=KEY, base_url=server.base_url)
        req = ChatRequest(model="gpt-4o-mini", messages=[Message(role="user", content="Say hello")])

        def core_create() -> object:
            return gw.create("chat/completions", BODY).body

        def core_stream() -> object:
            with gw.stream("chat/completions", STREAM_BODY) as events:
                return list(events)

        def core_chat() -> object:
            return gw.chat(req)

        def core_chat_stream() -> object:
            with gw.chat_stream(req) as stream:
                for _ in stream:
                    pass
                return stream.result()

        rows: dict[str, float] = {}
        rows["httpx create"] = median_us(httpx_call, CALLS)
        rows["core create"] = median_us(core_create, CALLS)
        rows["core chat (neutral)"] = median_us(core_chat, CALLS)
        rows["httpx stream"] = median_us(httpx_stream, STREAMS)
        rows["core stream"] = median_us(core_stream, STREAMS)
        rows["core chat_stream (neutral)"] = median_us(core_chat_stream, STREAMS)
        try:
            import openai

            sdk = openai.OpenAI(api_key=KEY, base_url=f"{server.base_url}/acct/default/openai")

            def sdk_call() -> object:
                return sdk.chat.completions.create(model="gpt-4o-mini", messages=BODY["messages"])  # type: ignore[arg-type]

            def sdk_stream() -> object:
                return list(sdk.chat.completions.create(
                    model="gpt-4o-mini", messages=BODY["messages"], stream=True,  # type: ignore[arg-type]
                    stream_options={"include_usage": True},
                ))

            rows["openai create"] = median_us(sdk_call, CALLS)
            rows["openai stream"] = median_us(sdk_stream, STREAMS)
        except ImportError:
            pass

    rows["import httpx"] = import_time("httpx") * 1e6
    rows["import cf_ai_gateway"] = import_time("cf_ai_gateway") * 1e6

    print(f"{'measure':32} {'median us':>12} {'ratio':>8}")
    anchors = {"create": "httpx create", "chat (neutral)": "httpx create", "stream": "httpx stream",
               "chat_stream": "httpx stream", "import": "import httpx"}
    for name, value in rows.items():
        anchor = next((a for k, a in anchors.items() if k in name), None)
        ratio = value / rows[anchor] if anchor else float("nan")
        print(f"{name:32} {value:12.0f} {ratio:8.2f}x")


if __name__ == "__main__":
    main()
