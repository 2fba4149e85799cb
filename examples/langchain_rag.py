"""Retrieval-augmented answers with LangChain, embeddings and chat both through Cloudflare AI Gateway.

It indexes a few documents in an in-memory vector store with ``CloudflareAIGatewayEmbeddings``
(``cache="content"``, so indexing the same documents again is a gateway cache hit on every
batch), retrieves the best match for a question and asks ``ChatCloudflareAIGateway`` to answer
from it. Without ``CF_ACCOUNT_ID`` and a provider key or gateway token in the environment it
runs against the local emulator: ``python examples/langchain_rag.py``.

Extras: ``emulator`` and ``langchain`` (from a clone: ``pip install -e '.[emulator,langchain]'``).
"""

from __future__ import annotations

from contextlib import ExitStack

from langchain_core.documents import Document
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.vectorstores import InMemoryVectorStore

from cf_ai_gateway.emulator import real_or_emulated
from langchain_cf_ai_gateway import ChatCloudflareAIGateway, CloudflareAIGatewayEmbeddings

DOCUMENTS = [
    "AI Gateway caches responses when a request sends cf-aig-cache-key, for the TTL it asks.",
    "Rate limiting on a gateway returns HTTP 429 once a client exceeds the configured budget.",
    "Logs record each request's model, tokens, cost and cache status for later analysis.",
    "Workers AI runs open models such as bge-base-en-v1.5 on Cloudflare's network.",
]
QUESTION = "How does the gateway decide to cache a response?"


def main() -> None:
    with ExitStack() as stack:
        settings = stack.enter_context(real_or_emulated())
        embeddings = CloudflareAIGatewayEmbeddings(
            model="text-embedding-3-small", cache="content", batch_size=2, **settings
        )
        model = ChatCloudflareAIGateway(model="gpt-4o-mini", temperature=0, **settings)

        for run in ("first", "second"):
            store = InMemoryVectorStore(embeddings)
            store.add_documents([Document(page_content=text) for text in DOCUMENTS])
            statuses = [info.cache_status for info in embeddings.last_gateway_info]
            print(f"{run} indexing, cache per batch: {', '.join(map(str, statuses))}")

        best = store.similarity_search(QUESTION, k=1)[0]
        print("retrieved:", best.page_content)

        prompt = ChatPromptTemplate.from_messages(
            [
                ("system", "Answer in one sentence using only this context:\n{context}"),
                ("human", "{question}"),
            ]
        )
        reply = (prompt | model).invoke({"context": best.page_content, "question": QUESTION})
        print("answer:", reply.text)
        print("chat log id:", reply.response_metadata["gateway"].get("log_id"))


if __name__ == "__main__":
    main()
