"""An LCEL chain (prompt | model | parser) through Cloudflare AI Gateway, invoked and streamed.

It prints the reply, the gateway's log id and cache status, and token usage, then streams a
second reply on the Responses endpoint. Without ``CF_ACCOUNT_ID`` and a provider key or gateway
token in the environment it runs against the local emulator: ``python examples/langchain_chain.py``.

Extras: ``emulator`` and ``langchain`` (from a clone: ``pip install -e '.[emulator,langchain]'``).
"""

from __future__ import annotations

from contextlib import ExitStack

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate

from cf_ai_gateway.emulator import real_or_emulated
from langchain_cf_ai_gateway import ChatCloudflareAIGateway


def main() -> None:
    with ExitStack() as stack:
        settings = stack.enter_context(real_or_emulated())
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
