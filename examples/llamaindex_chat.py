"""LlamaIndex chat through Cloudflare AI Gateway: chat, streaming, completion and gateway info.

With ``CF_ACCOUNT_ID`` and ``OPENAI_API_KEY`` (or ``CF_AIG_TOKEN`` for stored keys / Unified
Billing) set, this talks to your real gateway. Without them it starts the local emulator and
talks to that, so it runs anywhere: ``python examples/llamaindex_chat.py``.

Extras: ``emulator`` and ``llamaindex`` (from a clone: ``pip install -e '.[emulator,llamaindex]'``).
"""

from __future__ import annotations

import os
from contextlib import ExitStack

from llama_index.core.llms import ChatMessage

from cf_ai_gateway.emulator import real_or_emulated
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM


def main() -> None:
    with ExitStack() as stack:
        llm = CloudflareAIGatewayLLM(
            model=os.environ.get("CF_AIG_MODEL", "gpt-4o-mini"),
            api="chat",  # or "responses"
            gateway_options={"metadata": {"example": "llamaindex_chat"}},
            **stack.enter_context(real_or_emulated()),
        )
        messages = [
            ChatMessage(role="system", content="You answer in one short sentence."),
            ChatMessage(role="user", content="What is Cloudflare AI Gateway for?"),
        ]

        # One call; the gateway's response headers come back in additional_kwargs["gateway"].
        # Caching is off unless a call opts in with a cache key (the TTL only says for how long).
        cached = {"cache_key": "what-is-ai-gateway", "cache_ttl": 3600}
        response = llm.chat(messages, gateway_options=cached)
        print("chat:", response.message.content)
        print("  gateway:", response.additional_kwargs["gateway"])
        print("  tokens:", response.additional_kwargs.get("total_tokens"))

        # The same request again is served from the gateway's cache.
        again = llm.chat(messages, gateway_options=cached)
        print("cached call, cache status:", again.additional_kwargs["gateway"].get("cache_status"))

        # Streaming: each chunk has the new text in .delta and the whole text so far in .message.
        print("stream: ", end="")
        for chunk in llm.stream_chat(messages):
            print(chunk.delta, end="", flush=True)
        print()

        print("complete:", llm.complete("Name one gateway feature.").text)
        llm.close()


if __name__ == "__main__":
    main()
