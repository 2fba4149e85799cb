"""Recorded OpenAI traffic replayed over a real socket through the Gateway's neutral calls.

The loopback server sends each recorded body or SSE text byte for byte, in uneven pieces. The
neutral result of ``Gateway.chat`` / ``chat_stream`` (sync and async) must equal what the pure
converters make of the same recording, so the transport, the SSE decoder and the stream objects
add nothing and lose nothing on the way.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cf_ai_gateway.wire import chat, responses
from cf_ai_gateway.wire.types import ChatRequest, ChatResult, Message

from .recordings import DONE, interaction_params, sse_items
from .testserver import Reply, TestServer

REQUEST = ChatRequest(model="gpt-4o-mini", messages=[Message(role="user", content="hi")])


def _pieces(text: str) -> list[bytes]:
    data = text.encode()
    sizes = [1, 7, 64, 3, 500, 11]
    out, i, k = [], 0, 0
    while i < len(data):
        out.append(data[i : i + sizes[k % len(sizes)]])
        i += sizes[k % len(sizes)]
        k += 1
    return out


def _expected_stream(api: str, text: str) -> ChatResult:
    handler = chat.StreamHandler() if api == "chat" else responses.StreamHandler()
    for item in sse_items(text):
        if item == DONE:
            handler.on_done()
        else:
            handler.on_event(item)  # type: ignore[arg-type]
    return handler.result()


def _comparable(result: ChatResult) -> dict[str, Any]:
    return {
        "text": result.text, "refusal": result.refusal, "reasoning": result.reasoning,
        "tool_calls": [(t.id, t.name, t.arguments) for t in result.tool_calls],
        "usage": result.usage, "finish_reason": result.finish_reason, "status": result.status,
        "model": result.model, "id": result.id,
    }


def _is_complete_stream(text: str) -> bool:
    items = sse_items(text)
    return DONE in items or any(
        isinstance(i, dict) and i.get("type") in ("response.completed", "response.incomplete", "response.failed")
        for i in items
    )


@pytest.mark.parametrize("interaction", interaction_params())
async def test_recorded_interaction_over_the_wire(
    interaction: dict[str, Any], make_gateway: Any, server: TestServer
) -> None:
    api = "chat" if interaction["api"] == "chat.completions" else "responses"
    response = interaction["response"]
    gw = make_gateway(max_retries=0)
    headers = {"cf-aig-log-id": "01JREPLAY", "cf-aig-cache-status": "MISS"}
    if response["status"] != 200:
        pytest.skip("error replies are covered by the error tests")
    if response["sse"]:
        text = response["body"]
        if not _is_complete_stream(text):
            pytest.skip("recording holds a partial stream")
        expected = _comparable(_expected_stream(api, text))
        server.queue(Reply(chunks=_pieces(text), headers=headers))
        with gw.chat_stream(REQUEST, api=api) as stream:
            assert stream.info.log_id == "01JREPLAY"
            deltas = list(stream)
        result = stream.result()
        assert _comparable(result) == expected
        assert "".join(d.text for d in deltas) == result.text
        assert result.info.cache_status == "MISS"
        server.queue(Reply(chunks=_pieces(text), headers=headers))
        async with gw.achat_stream(REQUEST, api=api) as astream:
            adeltas = [d async for d in astream]
        assert _comparable(astream.result()) == expected
        assert [d.text for d in adeltas] == [d.text for d in deltas]
        await gw.aclose()
    else:
        body = response["body"]
        wire = chat if api == "chat" else responses
        expected = _comparable(wire.parse_result(body))
        server.queue(Reply(body=json.dumps(body), headers=headers))
        result = gw.chat(REQUEST, api=api)
        assert _comparable(result) == expected and result.info.log_id == "01JREPLAY"
        assert result.raw == body
        server.queue(Reply(body=json.dumps(body), headers=headers))
        assert _comparable(await gw.achat(REQUEST, api=api)) == expected
        await gw.aclose()
    sent = server.requests[0].json()
    assert sent["model"] == "gpt-4o-mini"
    assert ("messages" in sent) if api == "chat" else ("input" in sent)
