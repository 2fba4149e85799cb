"""Per-call gateway options from LangChain: caching, cache keys, log metadata and bound options.

Caching is off on a new gateway: a call opts in with ``cache_key`` (``cf-aig-cache-key``), and
``cache_ttl`` only says for how long (five minutes without it). The first call is a cache MISS and
the second identical call a HIT; ``skip_cache`` bypasses the cache for one call; options bound with
``.bind(...)`` apply to every call of that runnable; metadata lands in the gateway's log. Without ``CF_ACCOUNT_ID`` and a
provider key or gateway token in the environment it runs against the local emulator:
``python examples/langchain_cache_options.py``.

Extras: ``emulator`` and ``langchain`` (from a clone: ``pip install -e '.[emulator,langchain]'``).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from cf_ai_gateway import GatewayOptions
from cf_ai_gateway.emulator import real_or_emulated
from langchain_cf_ai_gateway import ChatCloudflareAIGateway


def cache_status(message: Any) -> str:
    return str(message.response_metadata["gateway"].get("cache_status"))


def main() -> None:
    with ExitStack() as stack:
        model = ChatCloudflareAIGateway(
            model="gpt-4o-mini",
            temperature=0,
            # For every call: log metadata; per-call options merge over these.
            gateway_options=GatewayOptions(metadata={"app": "examples", "team": "docs"}),
            **stack.enter_context(real_or_emulated()),
        )
        question = "What is the capital of Portugal?"

        cached = {"cache_ttl": 3600, "cache_key": "capital-of-portugal"}
        first = model.invoke(question, gateway_options=cached)
        second = model.invoke(question, gateway_options=cached)
        log_id = first.response_metadata["gateway"]["log_id"]
        print("first call: ", cache_status(first), "| log id:", log_id)
        print("second call:", cache_status(second))

        fresh = model.invoke(question, gateway_options={"skip_cache": True})
        print("skip_cache: ", cache_status(fresh))

        # A cache key groups every request that sends it: give each question its own.
        bound = model.bind(gateway_options={"cache_key": "portuguese-poet", "cache_ttl": 600,
                                            "metadata": {"user": "u-42"}})
        bound.invoke("Name one Portuguese poet.")
        print("bound, again:", cache_status(bound.invoke("Name one Portuguese poet.")))

        user = model.bind(gateway_options={"metadata": {"user": "u-42"}})
        for chunk in user.stream("Name one Portuguese painter."):
            if "gateway" in chunk.response_metadata:  # on the first chunk, before any text
                print("streamed:   ", cache_status(chunk), "| log id:",
                      chunk.response_metadata["gateway"]["log_id"])


if __name__ == "__main__":
    main()
