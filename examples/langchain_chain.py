"""An LCEL chain (prompt | model | parser) through Cloudflare AI Gateway, invoked and streamed.

It prints the reply, the gateway's log id and cache status, and token usage, then streams a
second reply on the Responses endpoint. Without ``CF_ACCOUNT_ID`` and a provider key or gateway
token in the environment it runs against the local emulator: ``python examples/langchain_chain.py``.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from langchain_cf_ai_gateway import ChatCloudflareAIGateway


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
        settings = connection(stack)
        model = ChatCloudflareAIGateway(model="gpt-4o-mini", temperature=0, **settings)
        prompt = ChatPromptTemplate.from_messages(
            [("system", "You answer in one sentence."), ("human", "Tell me about {topic}.")]
        )

        reply = (prompt | model).invoke({"topic": "lighthouses"})
        gateway = reply.response_metadata["gateway"]
        print("reply:", reply.text)
        print("log id:", gateway.get("log_id"), "| cache:", gateway.get("cache_status"))
        print("usage:", reply.usage_metadata)

        responses_model = model.model_copy(update={"api": "responses"})
        chain = prompt | responses_model | StrOutputParser()
        print("\nstreamed (responses endpoint): ", end="")
        for piece in chain.stream({"topic": "tide pools"}):
            print(piece, end="", flush=True)
        print()


if __name__ == "__main__":
    main()
