"""Benchmark: ``CloudflareAIGatewayLLM`` against LlamaIndex's ``OpenAILike`` and ``OpenAIResponses``.

All models talk to the same loopback server (``loopback_server.py``, its own process), which
answers every request with pre-encoded bytes in the shape of recorded OpenAI traffic and
flushes one HTTP chunk per SSE event, as a streaming gateway does. The server's cost is the
same for every client, so what is measured is the client side: request building, HTTP, parsing
and LlamaIndex objects. The two sides of a figure alternate round by round; each ratio is the
median of the per-round ratios, with their spread.

Measured:

- ``chat``: one short reply, ours (``api="chat"``) vs ``OpenAILike`` and ours
  (``api="responses"``) vs ``OpenAIResponses``;
- ``stream_chat``: a 200-chunk reply, consumed to the end, against the same two;
- import: ``from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM`` vs
  ``from llama_index.llms.openai_like import OpenAILike``, each in a fresh interpreter,
  bytecode cached.

Run ``python benchmarks/bench_llamaindex.py [--quick]`` (needs the ``bench`` extra; knobs in
``harness.py``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Row, Settings, import_samples, interleave, print_rows, row, settings
from loopback_server import ServerProcess, token

ACCOUNT = "0123456789abcdef0123456789abcdef"
GATEWAY = "bench"
MODEL = "gpt-4o-mini"


def _drain(stream: Any, last: str) -> None:
    text = ""
    for chunk in stream:
        text = chunk.message.content
    assert text and text.endswith(last), text[-40:]


def measure(s: Settings) -> list[Row]:
    from llama_index.core.llms import ChatMessage
    from llama_index.llms.openai import OpenAIResponses
    from llama_index.llms.openai_like import OpenAILike

    from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

    messages = [ChatMessage(role="user", content="Say hello.")]
    last = token(s.chunks - 1)
    rows: list[Row] = []
    with ServerProcess(chunks=s.chunks) as server:
        provider_base = f"{server.base_url}/{ACCOUNT}/{GATEWAY}/openai"
        common: dict[str, Any] = {
            "model": MODEL,
            "account_id": ACCOUNT,
            "gateway_id": GATEWAY,
            "api_key": "sk-bench",
            "base_url": server.base_url,
        }
        like = OpenAILike(
            model=MODEL,
            api_base=provider_base,
            api_key="sk-bench",
            is_chat_model=True,
            is_function_calling_model=True,
            context_window=128000,
        )
        responses = OpenAIResponses(model=MODEL, api_base=provider_base, api_key="sk-bench")
        for ours, theirs, name in (
            (CloudflareAIGatewayLLM(**common), like, "OpenAILike"),
            (CloudflareAIGatewayLLM(api="responses", **common), responses, "OpenAIResponses"),
        ):
            samples = interleave(
                {
                    "ours": lambda o=ours: o.chat(messages),
                    "theirs": lambda t=theirs: t.chat(messages),
                },
                calls=s.calls,
                rounds=s.rounds,
            )
            rows.append(row(f"LlamaIndex `chat` vs `{name}`", samples, "ours", "theirs"))
            samples = interleave(
                {
                    "ours": lambda o=ours: _drain(o.stream_chat(messages), last),
                    "theirs": lambda t=theirs: _drain(t.stream_chat(messages), last),
                },
                calls=s.streams,
                rounds=s.rounds,
            )
            rows.append(
                row(
                    f"LlamaIndex {s.chunks}-chunk `stream_chat` vs `{name}`",
                    samples,
                    "ours",
                    "theirs",
                )
            )
    samples = import_samples(
        {
            "ours": "from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM",
            "theirs": "from llama_index.llms.openai_like import OpenAILike",
        },
        s.import_runs,
    )
    rows.append(
        row(
            "import `CloudflareAIGatewayLLM` vs `OpenAILike` (from their packages)",
            samples,
            "ours",
            "theirs",
        )
    )
    return rows


def main() -> None:
    print_rows(
        "LlamaIndex: CloudflareAIGatewayLLM vs OpenAILike / OpenAIResponses "
        "(median of rounds, lowest-highest)",
        measure(settings(__doc__)),
    )


if __name__ == "__main__":
    main()
