"""Retrieval-augmented answers with LlamaIndex, embeddings and chat both through Cloudflare AI Gateway.

``Settings.embed_model`` is a ``CloudflareAIGatewayEmbedding`` (``cache="content"``) and
``Settings.llm`` a ``CloudflareAIGatewayLLM``. An ``IngestionPipeline`` embeds a few documents
twice (the second run is a gateway cache hit on every batch, seen through the
``GatewayInfoEvent`` instrumentation events), a ``VectorStoreIndex`` holds the nodes, and a
query engine answers a question from the best match. Without ``CF_ACCOUNT_ID`` and a provider
key or gateway token it runs against the local emulator: ``python examples/llamaindex_rag.py``.

Extras: ``emulator`` and ``llamaindex`` (from a clone: ``pip install -e '.[emulator,llamaindex]'``).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler

from cf_ai_gateway.emulator import real_or_emulated
from llama_index.embeddings.cf_ai_gateway import CloudflareAIGatewayEmbedding, GatewayInfoEvent
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

DOCUMENTS = [
    "AI Gateway caches responses when a request sends cf-aig-cache-key, for the TTL it asks.",
    "Rate limiting on a gateway returns HTTP 429 once a client exceeds the configured budget.",
    "Logs record each request's model, tokens, cost and cache status for later analysis.",
    "Workers AI runs open models such as bge-base-en-v1.5 on Cloudflare's network.",
]
QUESTION = "How does the gateway decide to cache a response?"


class CacheStatuses(BaseEventHandler):
    """Collects the cache status of every embeddings request from the instrumentation events."""

    statuses: list[str] = []

    @classmethod
    def class_name(cls) -> str:
        return "CacheStatuses"

    def handle(self, event: Any, **kwargs: Any) -> None:
        if isinstance(event, GatewayInfoEvent):
            self.statuses.extend(str(info.get("cache_status")) for info in event.gateway)


def main() -> None:
    handler = CacheStatuses(statuses=[])
    get_dispatcher().add_event_handler(handler)
    with ExitStack() as stack:
        settings = stack.enter_context(real_or_emulated())
        Settings.embed_model = CloudflareAIGatewayEmbedding(
            model="text-embedding-3-small", cache="content", embed_batch_size=2, **settings
        )
        Settings.llm = CloudflareAIGatewayLLM(model="gpt-4o-mini", **settings)

        documents = [Document(text=text) for text in DOCUMENTS]
        for run in ("first", "second"):
            handler.statuses.clear()
            pipeline = IngestionPipeline(transformations=[Settings.embed_model], disable_cache=True)
            nodes = pipeline.run(documents=documents)
            print(f"{run} ingestion, cache per batch: {', '.join(handler.statuses)}")

        index = VectorStoreIndex(nodes)
        best = index.as_retriever(similarity_top_k=1).retrieve(QUESTION)[0]
        print("retrieved:", best.node.get_content())
        answer = index.as_query_engine(similarity_top_k=1).query(QUESTION)
        print("answer:", str(answer).strip())


if __name__ == "__main__":
    main()
