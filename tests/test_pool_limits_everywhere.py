"""``max_connections`` and ``max_keepalive`` reach the connection pool through both adapters'
chat and embedding classes, from arguments or from ``CF_AIG_MAX_CONNECTIONS`` /
``CF_AIG_MAX_KEEPALIVE``, and bad values are refused when the object is built, naming the
argument and its variable. A fan-out through each chat class stays within its pool at a real
loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cf_ai_gateway import ConfigurationError, Gateway

from .core.fanout_server import FanoutServer

ACCOUNT = "acct123"
API_KEY = "sk-test-provider-key-0123456789"


def _langchain_chat(**kwargs: Any) -> Any:
    from langchain_cf_ai_gateway import ChatCloudflareAIGateway

    return ChatCloudflareAIGateway(model="gpt-4o-mini", **kwargs)


def _langchain_embeddings(**kwargs: Any) -> Any:
    from langchain_cf_ai_gateway import CloudflareAIGatewayEmbeddings

    return CloudflareAIGatewayEmbeddings(**kwargs)


def _llama_llm(**kwargs: Any) -> Any:
    from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

    return CloudflareAIGatewayLLM(**kwargs)


def _llama_embedding(**kwargs: Any) -> Any:
    from llama_index.embeddings.cf_ai_gateway import CloudflareAIGatewayEmbedding

    return CloudflareAIGatewayEmbedding(**kwargs)


CLASSES: dict[str, Callable[..., Any]] = {
    "ChatCloudflareAIGateway": _langchain_chat,
    "CloudflareAIGatewayEmbeddings": _langchain_embeddings,
    "CloudflareAIGatewayLLM": _llama_llm,
    "CloudflareAIGatewayEmbedding": _llama_embedding,
}


@pytest.fixture(autouse=True)
def _no_pool_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CF_AIG_MAX_CONNECTIONS", raising=False)
    monkeypatch.delenv("CF_AIG_MAX_KEEPALIVE", raising=False)


@pytest.fixture(scope="module")
def fanout() -> Iterator[FanoutServer]:
    server = FanoutServer().start()
    yield server
    server.stop()


def limits(obj: Any) -> tuple[int, int]:
    gateway: Gateway = obj.gateway
    return gateway.transport.max_connections, gateway.transport.max_keepalive


@pytest.mark.parametrize("name", CLASSES)
def test_the_limits_reach_the_pool(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    make = CLASSES[name]
    given = make(account_id=ACCOUNT, api_key=API_KEY, max_connections=7, max_keepalive=3)
    assert limits(given) == (7, 3)
    assert limits(make(account_id=ACCOUNT, api_key=API_KEY)) == (100, 100)
    monkeypatch.setenv("CF_AIG_MAX_CONNECTIONS", "40")
    assert limits(make(account_id=ACCOUNT, api_key=API_KEY)) == (40, 40)


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize(
    ("kwargs", "environ", "named"),
    [
        ({"max_connections": 0}, {}, "CF_AIG_MAX_CONNECTIONS"),
        ({"max_connections": "ten"}, {}, "CF_AIG_MAX_CONNECTIONS"),
        ({"max_keepalive": -1}, {}, "CF_AIG_MAX_KEEPALIVE"),
        ({"max_connections": 2, "max_keepalive": 3}, {}, "at most max_connections"),
        ({}, {"CF_AIG_MAX_CONNECTIONS": "lots"}, "CF_AIG_MAX_CONNECTIONS"),
    ],
)
def test_bad_limits_are_refused_when_built(
    name: str,
    kwargs: dict[str, Any],
    environ: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable, value in environ.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as caught:
        CLASSES[name](account_id=ACCOUNT, api_key=API_KEY, **kwargs)
    assert named in str(caught.value)
    assert "max_" in str(caught.value)


async def test_a_langchain_fan_out_stays_within_the_pool(fanout: FanoutServer) -> None:
    fanout.reset()
    model = _langchain_chat(
        account_id=ACCOUNT, api_key=API_KEY, base_url=fanout.base_url, max_connections=3
    )

    async def one() -> str:
        return "".join([str(chunk.content) async for chunk in model.astream("hi")])

    replies = await asyncio.gather(*(one() for _ in range(12)))
    await model.aclose()
    assert replies == ["hi" * fanout.chunks] * 12
    assert fanout.max_in_flight <= 3 and fanout.connections <= 3


async def test_a_llama_index_fan_out_stays_within_the_pool(fanout: FanoutServer) -> None:
    fanout.reset()
    llm = _llama_llm(
        account_id=ACCOUNT, api_key=API_KEY, base_url=fanout.base_url, max_connections=3
    )

    async def one() -> str:
        text = ""
        async for chunk in await llm.astream_complete("hi"):
            text = chunk.text
        return text

    replies = await asyncio.gather(*(one() for _ in range(12)))
    await llm.gateway.aclose()
    assert replies == ["hi" * fanout.chunks] * 12
    assert fanout.max_in_flight <= 3 and fanout.connections <= 3
