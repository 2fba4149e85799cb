"""Failure semantics through the LlamaIndex adapter, against a scriptable loopback server:
``timeout`` is a deadline, an answered request is never sent again, and a stream left early
releases its connection at once."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage

from cf_ai_gateway import GatewayConnectionError, GatewayTimeoutError, StreamError
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM
from tests.core.testserver import Reply, TestServer, sse

from .conftest import API_KEY, MODEL

CHUNK = {"choices": [{"index": 0, "delta": {"content": "hi"}}]}
MESSAGES = [ChatMessage(role="user", content="hi")]


@pytest.fixture(scope="module")
def _server() -> Iterator[TestServer]:
    server = TestServer().start()
    yield server
    server.stop()


@pytest.fixture
def server(_server: TestServer) -> Iterator[TestServer]:
    _server.reset()
    yield _server
    _server.reset()


def make(server: TestServer, **kwargs: Any) -> CloudflareAIGatewayLLM:
    return CloudflareAIGatewayLLM(
        model=MODEL, account_id="acct", base_url=server.base_url, api_key=API_KEY, **kwargs
    )


def test_chat_ends_at_its_deadline(server: TestServer) -> None:
    body = json.dumps({"id": "x", "pad": "y" * 40}).encode()
    server.queue(Reply(body=body, headers={"content-type": "application/json"}, trickle=0.25))
    with pytest.raises(GatewayTimeoutError):
        make(server, timeout=0.5, max_retries=2).chat(MESSAGES)
    assert len(server.requests) == 1


async def test_a_cut_reply_is_not_sent_again(server: TestServer) -> None:
    server.queue(*[Reply(body={"id": "x", "choices": []}, cut=True) for _ in range(3)])
    with pytest.raises((GatewayConnectionError, StreamError)):
        await make(server, max_retries=2).achat(MESSAGES)
    assert len(server.requests) == 1


def test_leaving_astream_chat_early_releases_the_connection(server: TestServer) -> None:
    server.queue(Reply(chunks=sse(CHUNK, done=False), hold=True))
    llm = make(server)

    async def run() -> bool:
        async for response in await llm.astream_chat(MESSAGES):
            assert response.delta == "hi"
            break
        return await asyncio.to_thread(server.disconnected.wait, 2.0)

    gc.disable()
    try:
        assert asyncio.run(run())
    finally:
        gc.enable()


def test_leaving_stream_chat_early_releases_the_connection(server: TestServer) -> None:
    server.queue(Reply(chunks=sse(CHUNK, done=False), hold=True))
    gc.disable()
    try:
        for response in make(server).stream_chat(MESSAGES):
            assert response.delta == "hi"
            break
        assert server.disconnected.wait(2.0)
    finally:
        gc.enable()
