"""Real recorded OpenAI traffic replayed through ``CloudflareAIGatewayLLM`` over a real socket.

Every recorded reply in ``tests/fixtures/openai-recordings`` (the langchain-openai cassettes and the
openai-python fixtures) is served by the emulator, byte for byte, as the answer to one adapter
call on the matching endpoint (streamed when the recording is a stream). The expected text, tool
calls and token usage are read from the recording by this file's own small readers, and the
adapter's ``ChatResponse`` must match them; streams' deltas must add up to the final text. The
``incomplete`` Responses recording must keep its text (LlamaIndex's own ``OpenAIResponses``
returns an empty string there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.base.llms.types import ThinkingBlock, ToolCallBlock
from llama_index.core.llms import ChatMessage

from cf_ai_gateway import GatewayError
from cf_ai_gateway.emulator import Emulator
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

from ..fixtures import RECORDINGS
from .conftest import API_KEY

CASSETTES = RECORDINGS / "langchain-openai-cassettes"
FIXTURES = RECORDINGS / "openai-python-fixtures"
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:inspect")
QUESTION = [ChatMessage(role="user", content="Replay the recorded answer.")]


@dataclass
class Expected:
    text: str = ""
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    usage: tuple[int, int] | None = None
    status: str | None = None


def sse_events(text: str) -> list[dict[str, Any]]:
    """The JSON events of a recorded SSE text (``[DONE]`` dropped)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(
            line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")
        )
        if data and data != "[DONE]":
            events.append(json.loads(data))
    return events


def expect_chat_json(body: dict[str, Any]) -> Expected:
    message = body["choices"][0]["message"]
    calls = [
        (c["id"], c["function"]["name"], c["function"]["arguments"])
        for c in message.get("tool_calls") or []
    ]
    usage = body.get("usage")
    return Expected(
        message.get("content") or "",
        calls,
        (usage["prompt_tokens"], usage["completion_tokens"]) if usage else None,
    )


def expect_responses_json(body: dict[str, Any]) -> Expected:
    text = "".join(
        part.get("text", "")
        for item in body["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )
    calls = [
        (i["call_id"], i["name"], i["arguments"])
        for i in body["output"]
        if i["type"] == "function_call"
    ]
    usage = body.get("usage")
    pair = (usage["input_tokens"], usage["output_tokens"]) if usage else None
    return Expected(text, calls, pair, body.get("status"))


def expect_chat_sse(events: list[dict[str, Any]]) -> Expected:
    expected = Expected()
    calls: dict[int, list[str]] = {}
    for event in events:
        if event.get("usage"):
            expected.usage = (event["usage"]["prompt_tokens"], event["usage"]["completion_tokens"])
        for choice in event.get("choices") or []:
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            expected.text += delta.get("content") or ""
            for call in delta.get("tool_calls") or []:
                parts = calls.setdefault(call["index"], ["", "", ""])
                parts[0] = parts[0] or call.get("id") or ""
                parts[1] = parts[1] or (call.get("function") or {}).get("name") or ""
                parts[2] += (call.get("function") or {}).get("arguments") or ""
    expected.calls = [(p[0], p[1], p[2]) for _, p in sorted(calls.items())]
    return expected


def expect_responses_sse(events: list[dict[str, Any]]) -> Expected:
    expected = Expected()
    for event in events:
        kind = event.get("type")
        if kind == "response.output_text.delta":
            expected.text += event["delta"]
        elif kind == "response.output_item.done" and event["item"]["type"] == "function_call":
            item = event["item"]
            expected.calls.append((item["call_id"], item["name"], item["arguments"]))
        elif kind in ("response.completed", "response.incomplete"):
            usage = event["response"].get("usage")
            if usage:
                expected.usage = (usage["input_tokens"], usage["output_tokens"])
            expected.status = event["response"]["status"]
    return expected


def recorded_replies() -> list[Any]:
    """One param per recorded reply: (api, kind, body, status)."""
    params = []
    for path in sorted(CASSETTES.glob("*.json")):
        for number, item in enumerate(json.loads(path.read_text())["interactions"]):
            api = "chat" if item["api"] == "chat.completions" else "responses"
            response = item["response"]
            kind = "sse" if response.get("sse") else "json"
            params.append(
                pytest.param(
                    api, kind, response["body"], response["status"], id=f"{path.stem}#{number}"
                )
            )
    for path in sorted((FIXTURES / "json").glob("*.json")):
        api = "responses" if path.name.startswith("responses") else "chat"
        params.append(pytest.param(api, "json", json.loads(path.read_text()), 200, id=path.stem))
    for path in sorted((FIXTURES / "sse").glob("*.sse")):
        params.append(pytest.param("chat", "sse", path.read_text(), 200, id=path.stem))
    return params


def replay_llm(emulator: Emulator, api: str) -> CloudflareAIGatewayLLM:
    return CloudflareAIGatewayLLM(
        model="gpt-4o-mini",
        api=api,
        account_id=emulator.account_id,
        base_url=emulator.base_url,
        api_key=API_KEY,
        max_retries=0,
    )


@pytest.mark.parametrize(("api", "kind", "body", "status"), recorded_replies())
def test_replay(emulator: Emulator, api: str, kind: str, body: Any, status: int) -> None:
    llm = replay_llm(emulator, api)
    if status != 200:
        emulator.script(json=body, status=status)
        with pytest.raises(GatewayError) as info:
            llm.chat(QUESTION)
        assert info.value.status_code == status
        assert API_KEY not in f"{info.value} {info.value!r}"
        return
    if kind == "json":
        emulator.script(json=body)
        expected = (expect_chat_json if api == "chat" else expect_responses_json)(body)
        response = llm.chat(QUESTION)
        assert response.raw == body
    else:
        emulator.script(sse=body)
        events = sse_events(body)
        expected = (expect_chat_sse if api == "chat" else expect_responses_sse)(events)
        chunks = list(llm.stream_chat(QUESTION))
        assert chunks, "the stream yielded nothing"
        response = chunks[-1]
        assert "".join(c.delta or "" for c in chunks) == (response.message.content or "")
        for chunk in chunks:
            assert (response.message.content or "").startswith(chunk.message.content or "")
    assert (response.message.content or "") == expected.text
    selections = llm.get_tool_calls_from_response(response, error_on_no_tool_call=False)
    got = [(s.tool_id, s.tool_name) for s in selections]
    assert got == [(c[0], c[1]) for c in expected.calls]
    blocks = [b for b in response.message.blocks if isinstance(b, ToolCallBlock)]
    assert [b.tool_kwargs for b in blocks] == [c[2] for c in expected.calls]
    legacy = response.message.additional_kwargs.get("tool_calls") or []
    assert [(c["id"], c.function.name, c.function.arguments) for c in legacy] == expected.calls
    for call, selection in zip(expected.calls, selections, strict=True):
        if call[2]:
            assert selection.tool_kwargs == json.loads(call[2])
    if expected.usage is not None:
        kwargs = response.additional_kwargs
        assert (kwargs["prompt_tokens"], kwargs["completion_tokens"]) == expected.usage
    if expected.status == "incomplete":
        assert response.message.content
        assert response.additional_kwargs["finish_reason"] == "length"


def cassette(name: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((CASSETTES / f"{name}.json").read_text())[
        "interactions"
    ]
    return items


@pytest.mark.parametrize("stream", [False, True])
def test_incomplete_response_keeps_its_text(emulator: Emulator, stream: bool) -> None:
    reply = cassette("test_incomplete_response")[1 if stream else 0]["response"]["body"]
    llm = replay_llm(emulator, "responses")
    if stream:
        emulator.script(sse=reply)
        response = list(llm.stream_chat(QUESTION))[-1]
        text = expect_responses_sse(sse_events(reply)).text
    else:
        emulator.script(json=reply)
        response = llm.chat(QUESTION)
        text = expect_responses_json(reply).text
    assert text and response.message.content == text
    assert response.additional_kwargs["status"] == "incomplete"
    assert response.additional_kwargs["finish_reason"] == "length"


def test_reasoning_items_are_kept_for_the_next_turn(emulator: Emulator) -> None:
    body = cassette("test_reasoning")[0]["response"]["body"]
    emulator.script(json=body)
    llm = replay_llm(emulator, "responses")
    response = llm.chat(QUESTION)
    (thinking,) = [b for b in response.message.blocks if isinstance(b, ThinkingBlock)]
    items = thinking.additional_information["reasoning_items"]
    assert [i["id"] for i in items] == [i["id"] for i in body["output"] if i["type"] == "reasoning"]
    assert (
        response.additional_kwargs["reasoning_tokens"]
        == (body["usage"]["output_tokens_details"]["reasoning_tokens"])
    )
    llm.chat([*QUESTION, response.message, ChatMessage(role="user", content="And then?")])
    sent = emulator.last_request
    assert sent is not None
    kinds = [item.get("type") for item in sent.json["input"]]
    assert "reasoning" in kinds


async def test_function_agent_on_recorded_streams(emulator: Emulator) -> None:
    """A FunctionAgent loop driven by the recorded streaming agent loop (Responses)."""
    first, second = (i["response"]["body"] for i in cassette("test_agent_loop_streaming"))
    emulator.script(sse=first)
    emulator.script(sse=second)
    calls = expect_responses_sse(sse_events(first)).calls
    (call,) = calls
    seen: list[dict[str, Any]] = []

    def tool(**kwargs: Any) -> str:
        seen.append(kwargs)
        return "recorded tool output"

    from llama_index.core.tools import FunctionTool

    function = FunctionTool.from_defaults(fn=tool, name=call[1], description="recorded tool")
    agent = FunctionAgent(tools=[function], llm=replay_llm(emulator, "responses"))
    output = await agent.run("go")
    assert seen == [json.loads(call[2])]
    assert output.response.content == expect_responses_sse(sse_events(second)).text
    sent = emulator.requests[-1].json["input"]
    (result,) = [i for i in sent if i.get("type") == "function_call_output"]
    assert result["call_id"] == call[0] and result["output"] == "recorded tool output"


def test_streamed_reasoning_summary(emulator: Emulator) -> None:
    body = cassette("test_stream_reasoning_summary")[0]["response"]["body"]
    events = sse_events(body)
    summary = "".join(
        e["delta"] for e in events if e.get("type") == "response.reasoning_summary_text.delta"
    )
    reasoning_ids = [
        e["item"]["id"]
        for e in events
        if e.get("type") == "response.output_item.done" and e["item"]["type"] == "reasoning"
    ]
    assert summary and reasoning_ids
    emulator.script(sse=body)
    chunks = list(replay_llm(emulator, "responses").stream_chat(QUESTION))
    thinking = "".join(c.additional_kwargs.get("thinking_delta", "") for c in chunks)
    (block,) = [b for b in chunks[-1].message.blocks if isinstance(b, ThinkingBlock)]
    # Summary parts are joined by the core with a separator; every streamed piece is kept.
    assert block.content == thinking
    assert summary.replace("\n", "") in thinking.replace("\n", "")
    assert [i["id"] for i in block.additional_information["reasoning_items"]] == reasoning_ids


def test_streamed_refusal_is_kept(emulator: Emulator) -> None:
    body = (
        FIXTURES / "sse" / "chat_completions_stream__test_parse_pydantic_model_refusal.sse"
    ).read_text()
    refusal = "".join(
        (c.get("delta") or {}).get("refusal") or ""
        for e in sse_events(body)
        for c in e.get("choices") or []
    )
    assert refusal
    emulator.script(sse=body)
    last = list(replay_llm(emulator, "chat").stream_chat(QUESTION))[-1]
    assert last.message.additional_kwargs["refusal"] == refusal
    assert not last.message.content
