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


def stalled() -> Reply:
    """One chunk, then a chunk that trickles in for ~6 s without completing an event."""
    late = b'data: {"choices": [{"index": 0, "delta": {"content": "' + b"z" * 20 + b'"}}]}\n\n'
    return Reply(chunks=[*sse(CHUNK, done=False), late], trickle=0.2, trickle_after=1)


async def test_a_stalled_astream_chat_ends_at_its_deadline(server: TestServer) -> None:
    server.queue(stalled())
    got = []
    with pytest.raises(GatewayTimeoutError):
        async for response in await make(server, timeout=0.5).astream_chat(MESSAGES):
            got.append(response.delta)
    assert got == ["hi"]


def test_one_llm_across_many_event_loops_leaves_no_socket_open(server: TestServer) -> None:
    llm = make(server)
    reply = {"id": "c", "object": "chat.completion", "model": MODEL,
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                          "finish_reason": "stop"}]}

    async def run() -> None:
        assert (await llm.achat(MESSAGES)).message.content == "ok"
        async for response in await llm.astream_chat(MESSAGES):  # left early
            assert response.delta == "hi"
            break

    gc.disable()
    try:
        for _ in range(10):
            server.queue(Reply(body=reply), Reply(chunks=sse(CHUNK, done=False), hold=True))
            asyncio.run(run())
            assert server.wait_idle(2.0), "a connection outlived its event loop"
    finally:
        gc.enable()
