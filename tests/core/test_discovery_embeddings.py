"""The embedding adapters are discoverable: ``langchain_embeddings`` and ``llama_index_embeddings``.

``load_adapter`` builds each one from arguments and the environment (``CF_AIG_<OPTION>``
gateway options included), and the built object embeds through the emulator.
"""

from __future__ import annotations

from typing import Any

import pytest

from cf_ai_gateway import ConfigurationError, available_adapters, load_adapter
from cf_ai_gateway.emulator import Emulator

from .test_discovery import run_python

TARGETS = {
    "langchain_embeddings": "langchain_cf_ai_gateway:CloudflareAIGatewayEmbeddings",
    "llama_index_embeddings": "llama_index.embeddings.cf_ai_gateway:CloudflareAIGatewayEmbedding",
}


def test_embedding_adapters_are_registered() -> None:
    adapters = available_adapters()
    for name, target in TARGETS.items():
        assert adapters[name] == target


@pytest.mark.parametrize("name", list(TARGETS))
def test_load_adapter_builds_a_working_embedding_model(
    name: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CF_AIG_COLLECT_LOG", "false")
    model: Any = load_adapter(name, model="text-embedding-3-small", dimensions=12)
    if name == "langchain_embeddings":
        vectors = model.embed_documents(["alpha", "beta"])
    else:
        vectors = model.get_text_embedding_batch(["alpha", "beta"])
    assert len(vectors) == 2 and len(vectors[0]) == 12
    request = [r for r in emulator.requests if r.path.endswith("/embeddings")][-1]
    assert request.header("cf-aig-collect-log") == "false"


@pytest.mark.parametrize(
    ("name", "hidden", "extra"),
    [
        ("langchain_embeddings", ("langchain_core",), "langchain"),
        ("llama_index_embeddings", ("llama_index.core",), "llamaindex"),
    ],
)
def test_missing_framework_names_the_pip_command(name: str, hidden: tuple[str, ...], extra: str) -> None:
    result = run_python(
        f"""
        import json
        from cf_ai_gateway import ConfigurationError, load_adapter
        try:
            load_adapter({name!r}, account_id="acct", api_key="sk-test-0123456789")
        except ConfigurationError as exc:
            print(json.dumps(str(exc)))
        else:
            print(json.dumps(None))
        """,
        hidden=hidden,
    )
    assert result is not None and f"pip install 'cf-ai-gateway[{extra}]'" in result
    assert "sk-test-0123456789" not in result


def test_bad_arguments_name_the_argument() -> None:
    with pytest.raises(ConfigurationError, match="dimensions"):
        load_adapter("langchain_embeddings", account_id="acct", api_key="sk-x-0123", dimensions=-1)
