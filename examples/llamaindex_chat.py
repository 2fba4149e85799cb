"""LlamaIndex chat through Cloudflare AI Gateway: chat, streaming, completion and gateway info.

With ``CF_ACCOUNT_ID`` and ``OPENAI_API_KEY`` (or ``CF_AIG_TOKEN`` for stored keys / Unified
Billing) set, this talks to your real gateway. Without them it starts the local emulator and
talks to that, so it runs anywhere: ``python examples/llamaindex_chat.py``.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any

from llama_index.core.llms import ChatMessage

from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM


def connection(stack: ExitStack) -> dict[str, Any]:
    """Real gateway settings from the environment, else a local emulator's."""
    has_secret = os.environ.get("OPENAI_API_KEY") or os.environ.get("CF_AIG_TOKEN")
    if os.environ.get("CF_ACCOUNT_ID") and has_secret:
        return {}
    from cf_ai_gateway.emulator import Emulator

    emulator = stack.enter_context(Emulator())
    print(f"(no credentials set: using the local emulator at {emulator.base_url})\n")
    return {
        "account_id": emulator.account_id,
        "base_url": emulator.base_url,
        "api_key": "sk-emulator-example",
    }


def main() -> None:
    with ExitStack() as stack:
        llm = CloudflareAIGatewayLLM(
            model=os.environ.get("CF_AIG_MODEL", "gpt-4o-mini"),
            api="chat",  # or "responses"
            gateway_options={"metadata": {"example": "llamaindex_chat"}},
            **connection(stack),
        )
        messages = [
            ChatMessage(role="system", content="You answer in one short sentence."),
            ChatMessage(role="user", content="What is Cloudflare AI Gateway for?"),
        ]

        # One call; the gateway's response headers come back in additional_kwargs["gateway"].
        response = llm.chat(messages, gateway_options={"cache_ttl": 3600})
        print("chat:", response.message.content)
        print("  gateway:", response.additional_kwargs["gateway"])
        print("  tokens:", response.additional_kwargs.get("total_tokens"))

        # The same request again is served from the gateway's cache.
        again = llm.chat(messages, gateway_options={"cache_ttl": 3600})
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
