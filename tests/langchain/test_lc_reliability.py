"""Failure semantics through the LangChain adapter, against a scriptable loopback server:
``timeout`` is a deadline, an answered request is never sent again, and a stream left early
releases its connection at once."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import Iterator
from typing import Any

import pytest

from cf_ai_gateway import GatewayConnectionError, GatewayTimeoutError, StreamError
from langchain_cf_ai_gateway import ChatCloudflareAIGateway
from tests.core.testserver import Reply, TestServer, sse

from .conftest import API_KEY

CHUNK = {"choices": [{"index": 0, "delta": {"content": "hi"}}]}


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


def make(server: TestServer, **kwargs: Any) -> ChatCloudflareAIGateway:
    kwargs.setdefault("model", "gpt-4o-mini")
    return ChatCloudflareAIGateway(
        account_id="acct", base_url=server.base_url, api_key=API_KEY, **kwargs
    )


def test_invoke_ends_at_its_deadline(server: TestServer) -> None:
    body = json.dumps({"id": "x", "pad": "y" * 40}).encode()
    server.queue(Reply(body=body, headers={"content-type": "application/json"}, trickle=0.25))
    with pytest.raises(GatewayTimeoutError):
        make(server, timeout=0.5, max_retries=2).invoke("hi")
    assert len(server.requests) == 1


def test_a_cut_reply_is_not_sent_again(server: TestServer) -> None:
    server.queue(*[Reply(body={"id": "x", "choices": []}, cut=True) for _ in range(3)])
    with pytest.raises((GatewayConnectionError, StreamError)):
        make(server, max_retries=2).invoke("hi")
    assert len(server.requests) == 1


def stalled() -> Reply:
    """One chunk, then a chunk that trickles in for ~6 s without completing an event."""
    late = b'data: {"choices": [{"index": 0, "delta": {"content": "' + b"z" * 20 + b'"}}]}\n\n'
    return Reply(chunks=[*sse(CHUNK, done=False), late], trickle=0.2, trickle_after=1)


def test_a_stalled_stream_ends_at_its_deadline(server: TestServer) -> None:
    server.queue(stalled())
    got = []
    with pytest.raises(GatewayTimeoutError):
        for chunk in make(server, timeout=0.5).stream("hi"):
            got.append(chunk.content)
    assert got == ["hi"]


def test_one_model_across_many_event_loops_leaves_no_socket_open(server: TestServer) -> None:
    model = make(server)
    reply = {"id": "c", "object": "chat.completion", "model": "gpt-4o-mini",
             "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                          "finish_reason": "stop"}]}

    async def run() -> None:
        assert (await model.ainvoke("hi")).content == "ok"
        async for chunk in model.astream("hi"):  # left early, without a context manager
            assert chunk.content == "hi"
            break

    gc.disable()
    try:
        for _ in range(10):
            server.queue(Reply(body=reply), Reply(chunks=sse(CHUNK, done=False), hold=True))
            asyncio.run(run())
            assert server.wait_idle(2.0), "a connection outlived its event loop"
    finally:
        gc.enable()
