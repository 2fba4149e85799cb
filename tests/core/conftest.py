"""Fixtures for the core's tests: a scriptable loopback server and a client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.register_assert_rewrite("tests.core.recordings")

from cf_ai_gateway import Gateway  # noqa: E402

from .testserver import TestServer  # noqa: E402

ACCOUNT = "acct123"
API_KEY = "sk-test-provider-key-0123456789"
TOKEN = "cfaig-test-gateway-token-abcdef"


@pytest.fixture(scope="session")
def _server() -> Iterator[TestServer]:
    server = TestServer().start()
    yield server
    server.stop()


@pytest.fixture
def server(_server: TestServer) -> Iterator[TestServer]:
    _server.reset()
    yield _server
    _server.reset()


@pytest.fixture
def make_gateway(server: TestServer) -> Iterator[object]:
    made: list[Gateway] = []

    def make(**kwargs: object) -> Gateway:
        kwargs.setdefault("account_id", ACCOUNT)
        kwargs.setdefault("base_url", server.base_url)
        kwargs.setdefault("retry_base_delay", 0.001)
        if "api_key" not in kwargs and "cf_aig_token" not in kwargs:
            kwargs["api_key"] = API_KEY
        gw = Gateway(**kwargs)  # type: ignore[arg-type]
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.close()


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID", "CF_AIG_GATEWAY_ID", "OPENAI_API_KEY",
        "CF_AIG_TOKEN", "CF_AIG_BASE_URL", "CF_API_TOKEN", "CF_API_BASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


def _aiohttp_missing() -> bool:
    import importlib.util

    return importlib.util.find_spec("aiohttp") is None


WIRES = [
    pytest.param("httpx", id="httpx"),
    pytest.param(
        "aiohttp",
        id="aiohttp",
        marks=pytest.mark.skipif(_aiohttp_missing(), reason="aiohttp (the fast extra) is missing"),
    ),
]


@pytest.fixture(params=WIRES)
def wire(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each async transport in turn (``CF_AIG_TRANSPORT``), for the modules that use it.

    Plain tests run on both too: many of them drive event loops of their own.
    """
    name: str = request.param
    monkeypatch.setenv("CF_AIG_TRANSPORT", name)
    return name
