"""Fixtures for the LangChain adapter's tests: a clean environment and emulator-backed models."""

from __future__ import annotations

import pytest

ACCOUNT = "acct123"
API_KEY = "sk-test-provider-key-0123456789"
TOKEN = "cfaig-test-gateway-token-abcdef"

_ENV_VARS = (
    "CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID", "CF_AIG_GATEWAY_ID", "OPENAI_API_KEY", "CF_AIG_TOKEN",
    "CF_AIG_BASE_URL", "CF_API_TOKEN", "CF_API_BASE_URL", "GROQ_API_KEY", "CF_AIG_PROVIDER_API_KEY",
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
