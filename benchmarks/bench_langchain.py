"""Benchmark: ``ChatCloudflareAIGateway`` against ``langchain_openai.ChatOpenAI``.

Both models talk to the same loopback server (``loopback_server.py``, its own process), which
answers every request with pre-encoded bytes in the shape of recorded OpenAI traffic and
flushes one HTTP chunk per SSE event, as a streaming gateway does. The server's cost is the same
for both, so what is measured is the client side: request building, HTTP, parsing and
LangChain objects. The two models alternate round by round; each ratio is the median of the
per-round ratios, with their spread.

Measured, on both endpoints (``chat/completions`` and ``responses``):

- ``invoke``: one short reply per call;
- ``stream``: a 200-chunk reply, ``stream_usage`` on for both models;
- long streams (chat endpoint): 2,000 and 20,000 chunks (``BENCH_LONG_CHUNKS``), in
  microseconds per chunk, to show whether the cost per chunk stays flat as a stream grows;
- ``import``: ``from langchain_cf_ai_gateway import ChatCloudflareAIGateway`` vs
  ``from langchain_openai import ChatOpenAI``, each in a fresh interpreter, bytecode cached.

Run ``python benchmarks/bench_langchain.py [--quick]`` (needs the ``bench`` extra; knobs in
``harness.py``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Row, Settings, import_samples, interleave, print_rows, row, settings
from loopback_server import ServerProcess

ACCOUNT = "0123456789abcdef0123456789abcdef"
GATEWAY = "bench"
MODEL = "gpt-4o-mini"


def _models(base_url: str, api: str) -> tuple[Any, Any]:
    from langchain_openai import ChatOpenAI

    from langchain_cf_ai_gateway import ChatCloudflareAIGateway

    ours = ChatCloudflareAIGateway(
        model=MODEL,
        account_id=ACCOUNT,
        gateway_id=GATEWAY,
        api_key="sk-bench",
        base_url=base_url,
        api=api,
        stream_usage=True,
        max_retries=0,
    )
    theirs = ChatOpenAI(
        model=MODEL,
        api_key="sk-bench",  # type: ignore[arg-type]
        base_url=f"{base_url}/{ACCOUNT}/{GATEWAY}/openai",
        stream_usage=True,
        use_responses_api=api == "responses",
        max_retries=0,
    )
    return ours, theirs


def _drain(model: Any, chunks: int) -> None:
    count = 0
    for _ in model.stream("Write a story about a cat."):
        count += 1
    assert count >= chunks, f"{count} chunks streamed, {chunks} sent"


def measure(s: Settings) -> list[Row]:
    rows: list[Row] = []
    with ServerProcess(chunks=s.chunks) as server:
        for api in ("chat", "responses"):
            ours, theirs = _models(server.base_url, api)
            samples = interleave(
                {
                    "ours": lambda m=ours: m.invoke("Hello"),
                    "theirs": lambda m=theirs: m.invoke("Hello"),
                },
                calls=s.calls,
                rounds=s.rounds,
            )
            rows.append(
                row(f"LangChain `invoke` vs `ChatOpenAI` ({api})", samples, "ours", "theirs")
            )
            samples = interleave(
                {
                    "ours": lambda m=ours: _drain(m, s.chunks),
                    "theirs": lambda m=theirs: _drain(m, s.chunks),
                },
                calls=s.streams,
                rounds=s.rounds,
            )
            rows.append(
                row(
                    f"LangChain {s.chunks}-chunk `stream` vs `ChatOpenAI` ({api})",
                    samples,
                    "ours",
                    "theirs",
                )
            )
    rows += measure_long_streams(s)
    samples = import_samples(
        {
            "ours": "from langchain_cf_ai_gateway import ChatCloudflareAIGateway",
            "theirs": "from langchain_openai import ChatOpenAI",
        },
        s.import_runs,
    )
    rows.append(
        row(
            "import `ChatCloudflareAIGateway` vs `ChatOpenAI` (from their packages)",
            samples,
            "ours",
            "theirs",
        )
    )
    return rows


def measure_long_streams(s: Settings) -> list[Row]:
    """Microseconds per chunk of one long LangChain stream (chat endpoint), ours and ChatOpenAI."""
    rows = []
    for chunks in s.long_chunks:
        with ServerProcess(chunks=chunks) as server:
            ours, theirs = _models(server.base_url, "chat")
            samples = interleave(
                {
                    "ours": lambda m=ours, n=chunks: _drain(m, n),
                    "theirs": lambda m=theirs, n=chunks: _drain(m, n),
                },
                calls=1,
                rounds=s.rounds,
                warmup=1,
            )
            rows.append(
                row(
                    f"LangChain `stream`, {chunks:,} chunks, per chunk, vs `ChatOpenAI`",
                    samples,
                    "ours",
                    "theirs",
                    scale=1e6 / chunks,
                    unit="µs",
                )
            )
    return rows


def main() -> None:
    print_rows(
        "LangChain: ChatCloudflareAIGateway vs ChatOpenAI (median of rounds, lowest-highest)",
        measure(settings(__doc__)),
    )


if __name__ == "__main__":
    main()
