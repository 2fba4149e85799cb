"""``CloudflareAIGatewayEmbedding`` against the emulator: every method, sync and async.

Also covered: stored-key (byok) headers, batch order, the content cache's HIT on a second
ingestion, the gateway-info instrumentation event, and use inside ``VectorStoreIndex``,
``IngestionPipeline`` and ``Settings.embed_model``.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.node_parser import SentenceSplitter

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.emulator import Emulator
from llama_index.embeddings.cf_ai_gateway import CloudflareAIGatewayEmbedding, GatewayInfoEvent

from .conftest import API_KEY, GATEWAY_TOKEN

MakeEmbedding = Callable[..., CloudflareAIGatewayEmbedding]


@pytest.fixture
def make_embedding(emulator: Emulator) -> MakeEmbedding:
    def make(**kwargs: Any) -> CloudflareAIGatewayEmbedding:
        settings: dict[str, Any] = {
            "account_id": emulator.account_id,
            "base_url": emulator.base_url,
            "api_key": API_KEY,
        }
        settings.update(kwargs)
        return CloudflareAIGatewayEmbedding(**settings)

    return make


def embed_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/embeddings")]


class _Collector(BaseEventHandler):
    events: list[Any] = []

    @classmethod
    def class_name(cls) -> str:
        return "Collector"

    def handle(self, event: Any, **kwargs: Any) -> None:
        if isinstance(event, GatewayInfoEvent):
            self.events.append(event)


@pytest.fixture
def gateway_events() -> Iterator[list[GatewayInfoEvent]]:
    root = get_dispatcher()
    handler = _Collector(events=[])
    root.add_event_handler(handler)
    try:
        yield handler.events
    finally:
        root.event_handlers.remove(handler)


def test_every_sync_method(make_embedding: MakeEmbedding, emulator: Emulator) -> None:
    embed = make_embedding(dimensions=32)
    query = embed.get_query_embedding("why do cats purr")
    text = embed.get_text_embedding("cats purr when happy")
    batch = embed.get_text_embedding_batch(["cats purr when happy", "rockets fly to orbit"])
    assert len(query) == len(text) == 32 and batch[0] == text
    assert embed.similarity(query, batch[0]) > embed.similarity(query, batch[1])
    assert [len(r.json["input"]) for r in embed_requests(emulator)] == [1, 1, 2]


async def test_every_async_method(make_embedding: MakeEmbedding) -> None:
    embed = make_embedding(dimensions=16)
    query = await embed.aget_query_embedding("q words")
    text = await embed.aget_text_embedding("q words")
    batch = await embed.aget_text_embedding_batch(["q words", "other"])
    assert query == text == batch[0] and len(batch) == 2
    assert embed.get_query_embedding("q words") == query
    await embed.aclose()


@pytest.mark.parametrize("use_async", [False, True])
async def test_batches_keep_input_order(make_embedding: MakeEmbedding, emulator: Emulator, use_async: bool) -> None:
    texts = [f"passage {i} on subject {i % 5}" for i in range(11)]
    whole = make_embedding(dimensions=24).get_text_embedding_batch(texts)
    embed = make_embedding(dimensions=24, batch_size=4)
    assert embed.embed_batch_size == embed.batch_size == 4
    batched = (
        await embed.aget_text_embedding_batch(texts) if use_async
        else embed.get_text_embedding_batch(texts)
    )
    assert batched == whole
    assert sorted(len(r.json["input"]) for r in embed_requests(emulator)[1:]) == [3, 4, 4]


def test_byok_sends_only_the_gateway_token(make_emulator: Any) -> None:
    emu = make_emulator(token=GATEWAY_TOKEN)
    embed = CloudflareAIGatewayEmbedding(
        account_id=emu.account_id, base_url=emu.base_url, cf_aig_token=GATEWAY_TOKEN
    )
    embed.get_query_embedding("stored keys")
    request = embed_requests(emu)[0]
    assert request.header("authorization") is None
    assert request.header("cf-aig-authorization") == f"Bearer {GATEWAY_TOKEN}"


@pytest.mark.parametrize("use_async", [False, True])
async def test_content_cache_hits_every_batch_on_a_second_ingestion(
    make_embedding: MakeEmbedding, gateway_events: list[GatewayInfoEvent], use_async: bool
) -> None:
    embed = make_embedding(cache="content", embed_batch_size=2)
    docs = [Document(text=f"Section {i}. The handbook explains topic {i} in detail.") for i in range(5)]
    for _ in range(2):  # a fresh pipeline each run, as in a new process: no local cache
        pipeline = IngestionPipeline(
            transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0), embed],
            disable_cache=True,
        )
        nodes = await pipeline.arun(documents=docs) if use_async else pipeline.run(documents=docs)
        assert all(node.embedding for node in nodes)
    statuses = [info["cache_status"] for event in gateway_events for info in event.gateway]
    assert statuses == ["MISS"] * 3 + ["HIT"] * 3
    assert all(event.model_name == "text-embedding-3-small" for event in gateway_events)
    assert [i.cache_status for i in embed.last_gateway_info] == ["HIT"]


def test_vector_store_index_and_settings(make_embedding: MakeEmbedding) -> None:
    embed = make_embedding()
    previous = Settings._embed_model
    Settings.embed_model = embed
    try:
        index = VectorStoreIndex.from_documents(
            [Document(text="Cats purr when they are content."),
             Document(text="Rockets burn fuel to reach orbit."),
             Document(text="Yeast makes bread dough rise.")]
        )
        hits = index.as_retriever(similarity_top_k=1).retrieve("why does bread rise")
    finally:
        Settings._embed_model = previous
    assert "Yeast" in hits[0].node.get_content()


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"dimensions": 0}, "dimensions"),
        ({"embed_batch_size": 0}, "batch_size"),
        ({"embed_batch_size": 5000}, "batch_size"),
        ({"provider": "workers-ai", "model": "@cf/baai/bge-base-en-v1.5", "embed_batch_size": 101},
         "batch_size"),
        ({"model": ""}, "model"),
        ({"cache": "sometimes"}, "cache"),
        ({"encoding_format": "hex"}, "encoding_format"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"timeout": -2}, "timeout"),
        ({"account_id": "../x"}, "account_id"),
        ({"gateway_options": {"max_attempts": 9}}, "max_attempts"),
        ({"api_base": "http://x"}, "api_base"),
    ],
)
def test_bad_settings_raise_configuration_error(
    make_embedding: MakeEmbedding, kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ConfigurationError, match=argument) as caught:
        make_embedding(**kwargs)
    assert API_KEY not in str(caught.value)


async def test_bad_texts_are_refused_before_sending(make_embedding: MakeEmbedding, emulator: Emulator) -> None:
    embed = make_embedding()
    with pytest.raises(ConfigurationError, match="inputs"):
        embed.get_text_embedding("")
    with pytest.raises(ConfigurationError, match="inputs"):
        await embed.aget_query_embedding("")
    with pytest.raises(ConfigurationError, match="inputs"):
        embed.get_text_embedding_batch(["fine", 3])  # type: ignore[list-item]
    assert embed_requests(emulator) == []


def test_secrets_stay_hidden_and_copies_work(make_emulator: Any) -> None:
    emu = make_emulator(token=GATEWAY_TOKEN)
    embed = CloudflareAIGatewayEmbedding(
        account_id=emu.account_id, base_url=emu.base_url, api_key=API_KEY, cf_aig_token=GATEWAY_TOKEN
    )
    vector = embed.get_query_embedding("warm up")
    for text in (repr(embed), str(embed), embed.to_json(), str(embed.to_dict()), str(embed.to_payload())):
        assert API_KEY not in text and GATEWAY_TOKEN not in text
    clone = pickle.loads(pickle.dumps(embed))
    assert clone.get_query_embedding("warm up") == vector
    embed.dimensions = 8
    assert len(embed.get_query_embedding("warm up")) == 8
    with pytest.raises(ConfigurationError, match="dimensions"):
        embed.dimensions = -1


def test_a_copy_with_new_connection_settings_sends_with_them(
    make_embedding: MakeEmbedding, emulator: Emulator
) -> None:
    embed = make_embedding()
    embed.get_query_embedding("warm up")  # the original has built its client
    copied = embed.model_copy(update={"gateway_id": "copied-gw", "dimensions": 8})
    assert len(copied.get_query_embedding("hello")) == 8
    first, second = embed_requests(emulator)
    assert "/copied-gw/" in second.path and "/copied-gw/" not in first.path
    assert second.json["dimensions"] == 8
    embed.get_query_embedding("again")  # the original keeps its own settings
    assert "/copied-gw/" not in embed_requests(emulator)[2].path


@pytest.mark.parametrize(
    "update",
    [{"dimensions": -1}, {"account_id": "../evil"}, {"api_key": 12345}, {"dimenshuns": 8}],
)
def test_a_copy_with_a_bad_update_is_refused(
    make_embedding: MakeEmbedding, emulator: Emulator, update: dict[str, Any]
) -> None:
    with pytest.raises(ConfigurationError, match=next(iter(update))) as err:
        make_embedding().model_copy(update=update)
    assert "CloudflareAIGatewayLLM" not in str(err.value)
    assert embed_requests(emulator) == []
