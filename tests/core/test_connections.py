"""No socket outlives its use: streams left early release their connection at once, and the
async clients of finished event loops are closed, not forgotten.

The test server notes when a client hangs up on a stream it holds open and counts its open
connections, so each test observes the release from the server's side. Garbage collection is
switched off around the early exits, so nothing waits for the collector to break a cycle.
"""

from __future__ import annotations

import asyncio
import gc
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cf_ai_gateway.wire.types import ChatRequest, Message

from .testserver import Reply, TestServer, sse

# Every async test runs on both async transports (httpx, and aiohttp where installed).
pytestmark = pytest.mark.usefixtures("wire")

CHAT_EVENT = {"choices": [{"index": 0, "delta": {"content": "hi"}}]}
RESPONSES_EVENT = {"type": "response.output_text.delta", "delta": "hi", "output_index": 0,
                   "content_index": 0, "item_id": "m"}
REQUEST = ChatRequest(model="m", messages=[Message(role="user", content="hi")])


@pytest.fixture
def no_gc() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def held(*events: Any) -> Reply:
    return Reply(chunks=sse(*events, done=False), hold=True)


def test_breaking_out_of_a_raw_stream_releases_it(make_gateway: Any, server: TestServer, no_gc: None) -> None:
    server.queue(held({"a": 1}))
    for _event in make_gateway().stream("chat/completions", {}):
        break
    assert server.disconnected.wait(2.0)


def test_leaving_a_chat_stream_early_releases_it(make_gateway: Any, server: TestServer, no_gc: None) -> None:
    server.queue(held(CHAT_EVENT))
    for delta in make_gateway().chat_stream(REQUEST):
        assert delta.text == "hi"
        break
    assert server.disconnected.wait(2.0)


def test_next_then_drop_releases_it(make_gateway: Any, server: TestServer, no_gc: None) -> None:
    server.queue(held({"a": 1}))
    stream = make_gateway().stream("chat/completions", {})
    assert next(stream) == {"a": 1}
    del stream
    assert server.disconnected.wait(2.0)


@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_async_leaving_streams_early_releases_them(
    make_gateway: Any, server: TestServer, no_gc: None, api: str
) -> None:
    gw = make_gateway()
    server.queue(held({"a": 1}))
    async for _event in gw.astream("chat/completions", {}):
        break
    assert await asyncio.to_thread(server.disconnected.wait, 2.0)
    server.disconnected.clear()
    server.queue(held(CHAT_EVENT if api == "chat" else RESPONSES_EVENT))
    async for delta in gw.achat_stream(REQUEST, api=api):  # type: ignore[arg-type]
        assert delta.text == "hi"
        break
    assert await asyncio.to_thread(server.disconnected.wait, 2.0)
    await gw.aclose()


def test_one_gateway_across_many_event_loops(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()

    async def call() -> Any:
        return (await gw.acreate("chat/completions", {"model": "m"})).body

    for _ in range(20):
        assert asyncio.run(call()) == {"ok": True}
        assert server.wait_idle(2.0), "a connection of a finished event loop is still open"
    assert len(server.requests) == 20


def test_no_resource_warning(server: TestServer, tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import asyncio, gc
        from cf_ai_gateway import Gateway

        gw = Gateway(account_id="acct", api_key="sk-test-0123456789", base_url={server.base_url!r})

        async def call():
            await gw.acreate("chat/completions", {{}})
            async for _ in gw.astream("chat/completions", {{}}):
                break

        for _ in range(5):
            asyncio.run(call())
        for _ in gw.stream("chat/completions", {{}}):
            break
        gw.create("chat/completions", {{}})
        del gw
        gc.collect()
        """
    )
    replies = []
    for _ in range(5):
        replies += [Reply(body={"ok": True}), Reply(chunks=sse({"a": 1}, {"a": 2}))]
    server.queue(*replies, Reply(chunks=sse({"a": 1}, {"a": 2})))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-W", "error::ResourceWarning", "-X", "dev", "-c", script],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr
    assert "unclosed" not in done.stderr, done.stderr
