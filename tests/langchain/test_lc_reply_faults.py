"""Faulty successful replies through the LangChain adapter, against a real loopback server: a 2xx
error envelope, a reply of the wrong shape, an SSE error event, a Responses stream without its
terminal event or whose text only the final event holds, and a stream answered with one JSON
reply (the gateway buffers streams when Guardrails are on)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from cf_ai_gateway import GatewayBadRequestError, MalformedResponseError, StreamError
from langchain_cf_ai_gateway import ChatCloudflareAIGateway
from tests.core.replies import FUNCTION_CALL, reply, responses_reply
from tests.core.testserver import Reply, TestServer, sse

from .conftest import ACCOUNT, API_KEY

LOG = {"cf-aig-log-id": "log-lc"}
API = pytest.mark.parametrize("api", ["chat", "responses"])


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


def model(server: TestServer, api: str, **kwargs: Any) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(
        model="m",
        account_id=ACCOUNT,
        base_url=server.base_url,
        api_key=API_KEY,
        api=api,
        max_retries=0,
        **kwargs,
    )


def joined(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


async def streamed(llm: ChatCloudflareAIGateway, how: str) -> AIMessage:
    if how == "stream":
        return joined(list(llm.stream("hi")))
    if how == "astream":
        return joined([chunk async for chunk in llm.astream("hi")])
    if how == "invoke-streaming":
        return llm.invoke("hi")
    return await llm.ainvoke("hi")


HOW = pytest.mark.parametrize("how", ["stream", "astream", "invoke-streaming", "ainvoke-streaming"])


@API
@pytest.mark.parametrize("sync", [True, False], ids=["invoke", "ainvoke"])
async def test_2xx_error_envelope_raises_the_typed_error(
    server: TestServer, api: str, sync: bool
) -> None:
    body = {"error": [{"code": 2005, "message": "Failed to route the request"}]}
    server.queue(Reply(body=body, headers=LOG))
    llm = model(server, api)
    with pytest.raises(GatewayBadRequestError, match="Failed to route") as err:
        llm.invoke("hi") if sync else await llm.ainvoke("hi")
    assert (err.value.code, err.value.log_id) == (2005, "log-lc")
    assert len(server.requests) == 1


@API
@pytest.mark.parametrize("sync", [True, False], ids=["invoke", "ainvoke"])
async def test_reply_of_the_wrong_shape_is_malformed(
    server: TestServer, api: str, sync: bool
) -> None:
    server.queue(Reply(body={}, headers=LOG))
    llm = model(server, api)
    with pytest.raises(MalformedResponseError) as err:
        llm.invoke("hi") if sync else await llm.ainvoke("hi")
    assert err.value.log_id == "log-lc"


@API
@HOW
async def test_sse_error_event_keeps_its_code(server: TestServer, api: str, how: str) -> None:
    chunk = b'event: error\ndata: {"error": [{"code": 2005, "message": "Route failed"}]}\n\n'
    server.queue(Reply(chunks=[chunk], headers=LOG))
    llm = model(server, api, streaming=True)
    with pytest.raises(StreamError, match="Route failed") as err:
        await streamed(llm, how)
    assert err.value.code == 2005


@HOW
async def test_responses_done_without_terminal_event_is_an_error(
    server: TestServer, how: str
) -> None:
    delta = {"type": "response.output_text.delta", "output_index": 0, "delta": "Hel"}
    server.queue(Reply(chunks=sse(delta, done=True)))
    with pytest.raises(StreamError, match=r"without response\.completed"):
        await streamed(model(server, "responses", streaming=True), how)


@HOW
async def test_responses_text_only_in_completed_event(server: TestServer, how: str) -> None:
    final = responses_reply("Only in the final event", [FUNCTION_CALL])
    server.queue(Reply(chunks=sse({"type": "response.completed", "response": final}, done=False)))
    message = await streamed(model(server, "responses", streaming=True), how)
    assert message.content == "Only in the final event"
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("get", {"a": 1})]
    assert message.usage_metadata is not None and message.usage_metadata["total_tokens"] == 5


@API
@HOW
async def test_buffered_stream_is_re_emitted(server: TestServer, api: str, how: str) -> None:
    server.queue(Reply(body=reply(api, "Guarded answer", tools=True), headers=LOG))
    message = await streamed(model(server, api, streaming=True), how)
    assert message.content == "Guarded answer"
    assert [(c["name"], c["args"]) for c in message.tool_calls] == [("get", {"a": 1})]
    assert message.usage_metadata is not None and message.usage_metadata["total_tokens"] == 5
    assert message.response_metadata["finish_reason"] == "tool_calls"
    assert message.response_metadata["gateway"]["buffered"] is True


@API
@HOW
async def test_buffered_error_body_raises_the_typed_error(
    server: TestServer, api: str, how: str
) -> None:
    body = {"error": [{"code": 2005, "message": "Failed to route the request"}]}
    server.queue(Reply(body=body, headers=LOG))
    with pytest.raises(GatewayBadRequestError, match="Failed to route"):
        await streamed(model(server, api, streaming=True), how)
