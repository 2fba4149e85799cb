"""`import cf_ai_gateway` loads httpx and the stdlib only: no framework, SDK or pydantic."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = ("langchain", "langchain_core", "llama_index", "openai", "pydantic", "starlette", "uvicorn")


def test_import_loads_no_framework() -> None:
    code = (
        "import sys, json, cf_ai_gateway; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "httpx" in loaded
    assert not loaded & set(FORBIDDEN), loaded & set(FORBIDDEN)
    assert "cf_ai_gateway" in loaded


def test_public_surface() -> None:
    import cf_ai_gateway

    for name in ("Gateway", "GatewayConfig", "GatewayOptions", "GatewayInfo", "GatewayError",
                 "ConfigurationError", "GatewayAuthenticationError", "GatewayRateLimitError",
                 "ProviderError", "GatewayTimeoutError", "GatewayConnectionError", "StreamError",
                 "available_adapters", "load_adapter"):
        assert name in cf_ai_gateway.__all__ and hasattr(cf_ai_gateway, name)
    assert issubclass(cf_ai_gateway.ConfigurationError, ValueError)
    assert issubclass(cf_ai_gateway.ConfigurationError, cf_ai_gateway.GatewayError)
