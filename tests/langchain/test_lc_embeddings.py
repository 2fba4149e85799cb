"""``CloudflareAIGatewayEmbeddings``: langchain-tests' standard embeddings suites and our own.

The standard integration suite and the behaviour tests run against the emulator (a real local
gateway), so every request crosses a real socket, the gateway's auth and routing, and the
``embeddings`` wire format.
"""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from langchain_core.vectorstores import InMemoryVectorStore
from langchain_tests.integration_tests import EmbeddingsIntegrationTests
from langchain_tests.unit_tests import EmbeddingsUnitTests

from cf_ai_gateway import ConfigurationError, GatewayInfo
from cf_ai_gateway.emulator import Emulator
from langchain_cf_ai_gateway import CloudflareAIGatewayEmbeddings

from .conftest import ACCOUNT, API_KEY, TOKEN


class TestEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[CloudflareAIGatewayEmbeddings]:
        return CloudflareAIGatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"account_id": ACCOUNT, "api_key": API_KEY, "base_url": "http://127.0.0.1:9/v1"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {
                "CF_ACCOUNT_ID": "acct-from-env",
                "CF_AIG_GATEWAY_ID": "gw-from-env",
                "OPENAI_API_KEY": "sk-from-env",
                "CF_AIG_TOKEN": "cfaig-from-env",
                "CF_AIG_BASE_URL": "http://127.0.0.1:9/v1",
            },
            {"model": "text-embedding-3-large"},
            {
                "account_id": "acct-from-env",
                "gateway_id": "gw-from-env",
                "api_key": "sk-from-env",
                "cf_aig_token": "cfaig-from-env",
                "base_url": "http://127.0.0.1:9/v1",
                "model": "text-embedding-3-large",
            },
        )


class TestEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @pytest.fixture(autouse=True)
    def _point_at_emulator(self, _clean_env: None, emulator: Emulator) -> None:
        """Environment (account, base URL, key) pointing at the session's emulator."""

    @property
    def embeddings_class(self) -> type[CloudflareAIGatewayEmbeddings]:
        return CloudflareAIGatewayEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": "text-embedding-3-small"}


def _requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/embeddings")]


def test_documents_and_query_share_a_vector_space(emulator: Emulator) -> None:
    embeddings = CloudflareAIGatewayEmbeddings(dimensions=64)
    store = InMemoryVectorStore.from_texts(
        ["Cats purr when they are happy.", "Rockets need fuel to reach orbit.",
         "Bread rises because of yeast."],
        embeddings,
    )
    best = store.similarity_search("why do cats purr", k=1)[0]
    assert "Cats" in best.page_content
    assert all(r.json["dimensions"] == 64 for r in _requests(emulator))


def test_last_gateway_info_lists_every_batch(emulator: Emulator) -> None:
    embeddings = CloudflareAIGatewayEmbeddings(batch_size=3, dimensions=8)
    assert embeddings.last_gateway_info == []
    vectors = embeddings.embed_documents([f"text {i}" for i in range(7)])
    assert len(vectors) == 7
    infos = embeddings.last_gateway_info
    assert len(infos) == 3 and all(isinstance(i, GatewayInfo) and i.log_id for i in infos)
    embeddings.embed_query("one query")
    assert len(embeddings.last_gateway_info) == 1


async def test_content_cache_hits_on_a_second_ingestion(emulator: Emulator) -> None:
    embeddings = CloudflareAIGatewayEmbeddings(cache="content", batch_size=2)
    texts = ["alpha doc", "beta doc", "gamma doc"]
    first = await embeddings.aembed_documents(texts)
    assert [i.cache_status for i in embeddings.last_gateway_info] == ["MISS", "MISS"]
    second = embeddings.embed_documents(texts)
    assert [i.cache_status for i in embeddings.last_gateway_info] == ["HIT", "HIT"]
    assert second == first
    await embeddings.aclose()


def test_per_call_gateway_options_and_byok(make_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    emu = make_emulator(token=TOKEN)
    embeddings = CloudflareAIGatewayEmbeddings(
        account_id=emu.account_id, base_url=emu.base_url, cf_aig_token=TOKEN,
        gateway_options={"metadata": {"team": "search"}},
    )
    embeddings.embed_query("q", gateway_options={"collect_log": False})
    request = _requests(emu)[0]
    assert request.header("authorization") is None
    assert request.header("cf-aig-authorization") == f"Bearer {TOKEN}"
    assert request.header("cf-aig-metadata") == '{"team":"search"}'
    assert request.header("cf-aig-collect-log") == "false"
    assert request.json["encoding_format"] == "float" and request.json["input"] == ["q"]


def test_workers_ai_uses_its_own_key_variable_and_batch_limit(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CF_API_TOKEN", "cf-workers-token-0123456789")
    embeddings = CloudflareAIGatewayEmbeddings(provider="workers-ai", model="@cf/baai/bge-small-en-v1.5")
    vectors = embeddings.embed_documents([f"w{i}" for i in range(150)])
    assert len(vectors) == 150 and len(vectors[0]) == 384
    sent = _requests(emulator)
    assert sorted(len(r.json["input"]) for r in sent) == [50, 100]
    assert all(r.header("authorization") == "Bearer cf-workers-token-0123456789" for r in sent)
    with pytest.raises(ConfigurationError, match="batch_size"):
        CloudflareAIGatewayEmbeddings(provider="workers-ai", model="@cf/baai/bge-small-en-v1.5",
                                      batch_size=500)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"dimensions": 0}, "dimensions"),
        ({"dimensions": "8"}, "dimensions"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 4096}, "batch_size"),
        ({"max_concurrency": -1}, "max_concurrency"),
        ({"model": ""}, "model"),
        ({"cache": "always"}, "cache"),
        ({"encoding_format": "hex"}, "encoding_format"),
        ({"account_id": "bad/id"}, "account_id"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"gateway_options": {"cache_ttl": 1}}, "cache_ttl"),
    ],
)
def test_bad_settings_raise_configuration_error(kwargs: dict[str, Any], argument: str) -> None:
    base = {"account_id": ACCOUNT, "api_key": API_KEY}
    with pytest.raises(ConfigurationError, match=argument) as caught:
        CloudflareAIGatewayEmbeddings(**{**base, **kwargs})
    assert API_KEY not in str(caught.value)


@pytest.mark.parametrize(
    "texts", [[], [""], ["ok", 5], "a bare string"],
)
async def test_bad_texts_are_refused_before_sending(emulator: Emulator, texts: Any) -> None:
    embeddings = CloudflareAIGatewayEmbeddings()
    with pytest.raises(ConfigurationError, match="inputs"):
        embeddings.embed_documents(texts)
    with pytest.raises(ConfigurationError, match="inputs"):
        await embeddings.aembed_documents(texts)
    with pytest.raises(ConfigurationError):
        embeddings.embed_query(5)  # type: ignore[arg-type]
    assert _requests(emulator) == []


def test_secrets_stay_hidden_and_copies_work(make_emulator: Any) -> None:
    emu = make_emulator(token=TOKEN)
    embeddings = CloudflareAIGatewayEmbeddings(
        account_id=emu.account_id, base_url=emu.base_url, api_key=API_KEY, cf_aig_token=TOKEN
    )
    embeddings.embed_query("warm the client")
    for text in (repr(embeddings), str(embeddings), embeddings.model_dump_json()):
        assert API_KEY not in text and TOKEN not in text
    clone = pickle.loads(pickle.dumps(embeddings))
    assert clone.embed_query("again") == embeddings.embed_query("again")
    other = embeddings.model_copy(update={"dimensions": 16})
    assert len(other.embed_query("short")) == 16
    with pytest.raises(ConfigurationError, match="dimensions"):
        embeddings.model_copy(update={"dimensions": -1})
