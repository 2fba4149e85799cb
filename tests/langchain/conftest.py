"""Fixtures for the LangChain adapter's tests: a clean environment and emulator-backed models."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fixture_files import FixtureFileServer, LocalDownloads

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


@pytest.fixture(scope="session")
def fixture_file_server() -> Iterator[FixtureFileServer]:
    server = FixtureFileServer().start()
    yield server
    server.stop()


@pytest.fixture
def local_fixture_downloads(
    fixture_file_server: FixtureFileServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Serve the standard suite's image/PDF/audio downloads from 127.0.0.1 (no internet)."""
    from langchain_tests.integration_tests import chat_models as suite

    monkeypatch.setattr(suite, "httpx", LocalDownloads(fixture_file_server))
    # The suite asks for a user agent before its audio download; this one names the local server.
    monkeypatch.setenv("LANGCHAIN_TESTS_USER_AGENT", "cf-ai-gateway-tests (loopback fixture server)")
