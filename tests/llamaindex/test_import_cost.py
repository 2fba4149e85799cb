"""Importing the LLM or embedding class loads neither the core's client and HTTP stack nor its
stream classes; building an instance loads the client."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

CLASSES = pytest.mark.parametrize(
    "module, name",
    [
        ("llama_index.llms.cf_ai_gateway", "CloudflareAIGatewayLLM"),
        ("llama_index.embeddings.cf_ai_gateway", "CloudflareAIGatewayEmbedding"),
    ],
)


@CLASSES
def test_class_import_defers_the_client_failover_and_streams(module: str, name: str) -> None:
    code = f"import sys, json; from {module} import {name}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    deferred = {"cf_ai_gateway.client", "cf_ai_gateway.failover", "cf_ai_gateway.streams"}
    assert not loaded & deferred, sorted(loaded & deferred)
    assert "httpx" not in loaded and "openai" not in loaded


@CLASSES
def test_an_instance_loads_the_client(module: str, name: str) -> None:
    code = (
        f"import sys; from {module} import {name}; "
        f"model = {name}(account_id='0' * 32, api_key='k'); "
        "print(type(model.gateway).__module__, 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["cf_ai_gateway.client", "True"]
