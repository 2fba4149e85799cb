"""Benchmark: what OpenTelemetry tracing costs per call of the core.

Run: ``python benchmarks/bench_otel.py`` (needs ``opentelemetry-sdk``, in the ``dev`` extra). On
one loopback server it times a non-streamed ``create``, a neutral ``chat`` and a 200-chunk
``stream`` three ways: tracing off; ``otel.instrument()`` with the API alone (no SDK configured,
so no span records); and ``otel.instrument()`` with an SDK ``TracerProvider`` exporting to an
in-memory exporter. It prints medians in microseconds and the overhead per call against
tracing off.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loopback_server import ServerProcess

from cf_ai_gateway import Gateway, otel
from cf_ai_gateway.wire.types import ChatRequest, Message

CALLS = int(os.environ.get("BENCH_CALLS", "400"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "150"))
KEY = "sk-bench-0000000000000000"
BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}
STREAM_BODY = {**BODY, "stream": True, "stream_options": {"include_usage": True}}


def interleaved_us(fn: Callable[[], object], modes: dict[str, Callable[[], None]], n: int) -> dict[str, float]:
    """Median time of ``fn`` under each mode, switching modes every call (the machine's drift
    then hits every mode alike)."""
    samples: dict[str, list[float]] = {name: [] for name in modes}
    for i in range(n + 20):
        for name, enter in modes.items():
            enter()
            t = time.perf_counter()
            fn()
            if i >= 20:
                samples[name].append(time.perf_counter() - t)
    otel.uninstrument()
    return {name: statistics.median(values) * 1e6 for name, values in samples.items()}


def main() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    modes: dict[str, Callable[[], None]] = {
        "tracing off": otel.uninstrument,
        # The API alone: no SDK provider is configured, so no span records.
        "instrumented, no SDK": lambda: otel.instrument(),
        "instrumented, in-memory SDK": lambda: (otel.instrument(tracer_provider=provider), exporter.clear())[0],
    }
    req = ChatRequest(model="gpt-4o-mini", messages=[Message(role="user", content="Say hello")])
    with ServerProcess() as server:
        gw = Gateway(account_id="acct", api_key=KEY, base_url=server.base_url)

        def create() -> object:
            return gw.create("chat/completions", BODY).body

        def chat() -> object:
            return gw.chat(req)

        def stream() -> object:
            with gw.stream("chat/completions", STREAM_BODY) as events:
                return list(events)

        results = {
            "create": interleaved_us(create, modes, CALLS),
            "chat": interleaved_us(chat, modes, CALLS),
            "stream (200 chunks)": interleaved_us(stream, modes, STREAMS),
        }

    # The tracing work alone, without the network: open a span, attach its context, end it.
    from opentelemetry.trace import use_span

    def bookkeeping() -> object:
        span, headers = otel._start(gw, "chat/completions", BODY)
        with use_span(span, end_on_exit=True):
            return headers

    loops = 2000
    alone = {}
    for name in ("instrumented, no SDK", "instrumented, in-memory SDK"):
        modes[name]()
        t = time.perf_counter()
        for _ in range(loops):
            bookkeeping()
        alone[name] = (time.perf_counter() - t) / loops * 1e6
    otel.uninstrument()
    for name, value in alone.items():
        print(f"span bookkeeping alone, {name}: {value:.1f} us per call")

    print(f"{'call':20} {'run':30} {'median us':>10} {'overhead us':>12} {'ratio':>7}")
    for call, runs in results.items():
        base = runs["tracing off"]
        for run, value in runs.items():
            print(f"{call:20} {run:30} {value:10.0f} {value - base:12.0f} {value / base:6.2f}x")


if __name__ == "__main__":
    main()
