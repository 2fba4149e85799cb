"""Benchmark: ``CloudflareAIGatewayLLM`` against LlamaIndex's ``OpenAILike`` and ``OpenAIResponses``.

All models talk to the same loopback server (``loopback_server.py``), which runs in its own
process and answers every request with the same pre-rendered bytes: a JSON reply, or a
200-delta SSE stream in the real OpenAI shape with ``cf-aig-*`` headers. The server's cost is
the same for every client, so what is measured is the client side: request building, HTTP,
parsing and LlamaIndex objects.

Measured (median per call, calls interleaved in rounds so drift hits both sides alike):

- ``chat``: one short reply, ours (``api="chat"``) vs ``OpenAILike`` and ours
  (``api="responses"``) vs ``OpenAIResponses``;
- ``stream_chat``: a 200-chunk reply, consumed to the end;
- ``import``: ``import llama_index.llms.cf_ai_gateway`` (the class loads on first access) and
  ``from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM`` vs
  ``import llama_index.llms.openai`` / ``from llama_index.llms.openai import OpenAI``, each in a
  fresh interpreter; ``import llama_index.core`` alone is printed as the floor that every
  LlamaIndex integration pays.

Run ``python benchmarks/bench_llamaindex.py`` (needs the ``bench`` extra). It prints medians and
the ratio ours / theirs (lower is better). Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from loopback_server import ServerProcess

ACCOUNT = "0123456789abcdef0123456789abcdef"
GATEWAY = "bench"
MODEL = "gpt-4o-mini"


def _per_call(fns: dict[str, Callable[[], Any]], calls: int, rounds: int) -> dict[str, float]:
    """Median seconds per call of each function, measured in interleaved rounds."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():  # warm up connections, caches and lazy imports
        for _ in range(max(3, calls // 5)):
            fn()
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            samples[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(values) for name, values in samples.items()}


def _import_time(statement: str, runs: int) -> float:
    """Median seconds to run an import statement in a fresh interpreter."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        samples.append(float(out.stdout.strip()))
    return statistics.median(samples)


def _drain(stream: Any) -> None:
    text = ""
    for chunk in stream:
        text = chunk.message.content
    assert text and text.endswith("tok199 "), text[-40:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40, help="calls per round (chat)")
    parser.add_argument("--stream-calls", type=int, default=8, help="streams per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--import-runs", type=int, default=7)
    args = parser.parse_args()

    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai import OpenAIResponses
    from llama_index.llms.openai_like import OpenAILike

    from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

    messages = [ChatMessage(role="user", content="Say hello.")]
    results: list[tuple[str, float, float, str]] = []
    with ServerProcess() as server:
        provider_base = f"{server.base_url}/{ACCOUNT}/{GATEWAY}/openai"
        common: dict[str, Any] = {
            "model": MODEL,
            "account_id": ACCOUNT,
            "gateway_id": GATEWAY,
            "api_key": "sk-bench",
            "base_url": server.base_url,
        }
        ours_chat = CloudflareAIGatewayLLM(**common)
        ours_responses = CloudflareAIGatewayLLM(api="responses", **common)
        like = OpenAILike(
            model=MODEL,
            api_base=provider_base,
            api_key="sk-bench",
            is_chat_model=True,
            is_function_calling_model=True,
            context_window=128000,
        )
        responses = OpenAIResponses(model=MODEL, api_base=provider_base, api_key="sk-bench")

        # Context: a bare httpx POST of the same request, the part of the floor that no client
        # can avoid (LlamaIndex's own per-call instrumentation comes on top of it).
        import json

        import httpx

        raw_client = httpx.Client()
        raw_body = json.dumps(
            {"model": MODEL, "messages": [{"role": "user", "content": "Say hello."}]}
        )
        raw_headers = {"authorization": "Bearer sk-bench", "content-type": "application/json"}

        def raw_post() -> Any:
            return raw_client.post(
                f"{provider_base}/chat/completions", content=raw_body, headers=raw_headers
            ).json()

        med = _per_call(
            {"raw": raw_post, "theirs": lambda: like.chat(messages)}, args.calls, args.rounds
        )
        results.append(("raw httpx POST (floor part)", med["raw"], med["theirs"], "OpenAILike"))

        for label, ours, theirs, name in (
            ("chat", ours_chat, like, "OpenAILike"),
            ("chat (responses)", ours_responses, responses, "OpenAIResponses"),
        ):
            med = _per_call(
                {
                    "ours": lambda o=ours: o.chat(messages),
                    "theirs": lambda t=theirs: t.chat(messages),
                },
                args.calls,
                args.rounds,
            )
            results.append((label, med["ours"], med["theirs"], name))
            med = _per_call(
                {
                    "ours": lambda o=ours: _drain(o.stream_chat(messages)),
                    "theirs": lambda t=theirs: _drain(t.stream_chat(messages)),
                },
                args.stream_calls,
                args.rounds,
            )
            results.append(
                (
                    f"stream_chat 200 {label[4:].strip() or ''}".strip(),
                    med["ours"],
                    med["theirs"],
                    name,
                )
            )

    imports = [
        (
            "import module",
            "import llama_index.llms.cf_ai_gateway",
            "import llama_index.llms.openai",
        ),
        (
            "import class",
            "from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM",
            "from llama_index.llms.openai import OpenAI",
        ),
        # The floor of any LlamaIndex integration: llama_index.core itself.
        ("import llama_index.core", "import llama_index.core", "import llama_index.llms.openai"),
    ]
    for label, ours_stmt, theirs_stmt in imports:
        results.append(
            (
                label,
                _import_time(ours_stmt, args.import_runs),
                _import_time(theirs_stmt, args.import_runs),
                "llama_index.llms.openai",
            )
        )

    print(f"{'measure':<30}{'ours (ms)':>11}{'theirs (ms)':>13}{'ratio':>8}  against")
    for label, ours_s, theirs_s, name in results:
        print(
            f"{label:<30}{ours_s * 1e3:>11.3f}{theirs_s * 1e3:>13.3f}{ours_s / theirs_s:>8.2f}  {name}"
        )


if __name__ == "__main__":
    main()
