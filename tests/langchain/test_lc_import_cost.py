"""Importing the chat model loads neither the embeddings class nor the core's failover machinery."""

from __future__ import annotations

import json
import subprocess
import sys


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_chat_model_import_defers_embeddings_and_failover() -> None:
    loaded = _loaded_after("from langchain_cf_ai_gateway import ChatCloudflareAIGateway")
    deferred = {
        "langchain_cf_ai_gateway.embeddings",
        "cf_ai_gateway.failover",
        "cf_ai_gateway.streams",
    }
    assert not loaded & deferred, sorted(loaded & deferred)


def test_embeddings_class_still_imports_from_the_package() -> None:
    import langchain_cf_ai_gateway
    from langchain_cf_ai_gateway import CloudflareAIGatewayEmbeddings
    from langchain_cf_ai_gateway.embeddings import CloudflareAIGatewayEmbeddings as defined

    assert CloudflareAIGatewayEmbeddings is defined
    assert set(langchain_cf_ai_gateway.__all__) == {
        "ChatCloudflareAIGateway",
        "CloudflareAIGatewayEmbeddings",
    }
