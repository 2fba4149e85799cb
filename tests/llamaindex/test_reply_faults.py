"""Faulty successful replies through the LlamaIndex adapter, against a real loopback server: a 2xx
error envelope, a reply of the wrong shape, an SSE error event, a Responses stream without its
terminal event or whose text only the final event holds, and a stream answered with one JSON
reply (the gateway buffers streams when Guardrails are on)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse

from cf_ai_gateway import GatewayBadRequestError, MalformedResponseError, StreamError
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM
from tests.core.replies import FUNCTION_CALL, reply, responses_reply
from tests.core.testserver import Reply, TestServer, sse

from .conftest import API_KEY

LOG = {"cf-aig-log-id": "log-li"}
MESSAGES = [ChatMessage(role="user", content="hi")]
API = pytest.mark.parametrize("api", ["chat", "responses"])
SYNC = pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])


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


def make(server: TestServer, api: str) -> CloudflareAIGatewayLLM:
    return CloudflareAIGatewayLLM(
        model="m",
        account_id="acct123",
        base_url=server.base_url,
        api_key=API_KEY,
        api=api,
        max_retries=0,
    )


async def chat(llm: CloudflareAIGatewayLLM, sync: bool) -> ChatResponse:
    return llm.chat(MESSAGES) if sync else await llm.achat(MESSAGES)


async def stream(llm: CloudflareAIGatewayLLM, sync: bool) -> list[ChatResponse]:
    if sync:
        return list(llm.stream_chat(MESSAGES))
    return [chunk async for chunk in await llm.astream_chat(MESSAGES)]


def calls(response: ChatResponse) -> list[tuple[str, str]]:
    return [
        (c["function"]["name"], c["function"]["arguments"])
        for c in response.message.additional_kwargs.get("tool_calls", [])
    ]


@API
@SYNC
async def test_2xx_error_envelope_raises_the_typed_error(
    server: TestServer, api: str, sync: bool
) -> None:
    body = {"error": [{"code": 2005, "message": "Failed to route the request"}]}
    server.queue(Reply(body=body, headers=LOG))
    with pytest.raises(GatewayBadRequestError, match="Failed to route") as err:
        await chat(make(server, api), sync)
    assert (err.value.code, err.value.log_id) == (2005, "log-li")
    assert len(server.requests) == 1


@API
@SYNC
@pytest.mark.parametrize("body", [{}, {"choices": [{"message": "hi"}], "output": ["hi"]}])
async def test_reply_of_the_wrong_shape_is_malformed(
    server: TestServer, api: str, sync: bool, body: Any
) -> None:
    server.queue(Reply(body=body, headers=LOG))
    with pytest.raises(MalformedResponseError) as err:
        await chat(make(server, api), sync)
    assert err.value.log_id == "log-li"


@API
@SYNC
async def test_sse_error_event_keeps_its_code(server: TestServer, api: str, sync: bool) -> None:
    chunk = b'event: error\ndata: {"error": [{"code": 2005, "message": "Route failed"}]}\n\n'
    server.queue(Reply(chunks=[chunk], headers=LOG))
    with pytest.raises(StreamError, match="Route failed") as err:
        await stream(make(server, api), sync)
    assert err.value.code == 2005


@SYNC
async def test_responses_done_without_terminal_event_is_an_error(
    server: TestServer, sync: bool
) -> None:
    delta = {"type": "response.output_text.delta", "output_index": 0, "delta": "Hel"}
    server.queue(Reply(chunks=sse(delta, done=True)))
    with pytest.raises(StreamError, match=r"without response\.completed"):
        await stream(make(server, "responses"), sync)


@SYNC
async def test_responses_text_only_in_completed_event(server: TestServer, sync: bool) -> None:
    final = responses_reply("Only in the final event", [FUNCTION_CALL])
    server.queue(Reply(chunks=sse({"type": "response.completed", "response": final}, done=False)))
    chunks = await stream(make(server, "responses"), sync)
    assert "".join(c.delta or "" for c in chunks) == "Only in the final event"
    last = chunks[-1]
    assert last.message.content == "Only in the final event"
    assert calls(last) == [("get", '{"a":1}')]
    assert last.additional_kwargs["total_tokens"] == 5


@API
@SYNC
async def test_buffered_stream_is_re_emitted(server: TestServer, api: str, sync: bool) -> None:
    server.queue(Reply(body=reply(api, "Guarded answer", tools=True), headers=LOG))
    chunks = await stream(make(server, api), sync)
    assert "".join(c.delta or "" for c in chunks) == "Guarded answer"
    last = chunks[-1]
    assert last.message.content == "Guarded answer"
    assert calls(last) == [("get", '{"a":1}')]
    assert last.additional_kwargs["total_tokens"] == 5
    assert last.additional_kwargs["finish_reason"] == "tool_calls"
    assert last.additional_kwargs["gateway"]["buffered"] is True


@API
@SYNC
async def test_buffered_error_body_raises_the_typed_error(
    server: TestServer, api: str, sync: bool
) -> None:
    body = {"error": [{"code": 2005, "message": "Failed to route the request"}]}
    server.queue(Reply(body=body, headers=LOG))
    with pytest.raises(GatewayBadRequestError, match="Failed to route"):
        await stream(make(server, api), sync)
