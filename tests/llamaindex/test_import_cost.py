"""Importing the LLM class does not load the core's failover machinery or stream classes."""

from __future__ import annotations

import json
import subprocess
import sys


def test_llm_import_defers_failover_and_streams() -> None:
    code = (
        "import sys, json; from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    deferred = {"cf_ai_gateway.failover", "cf_ai_gateway.streams"}
    assert not loaded & deferred, sorted(loaded & deferred)
