"""Replay real recorded OpenAI traffic through the adapter, served by the emulator.

Every recorded reply (langchain-openai's VCR cassettes and the OpenAI Python SDK's fixtures, in
``tests/fixtures/openai-recordings``) is queued on the emulator with its scripting, byte for
byte, and fetched through ``ChatCloudflareAIGateway`` on the endpoint it was recorded from:
non-streamed bodies with ``invoke``, SSE streams with ``stream``. The expected text, tool calls,
usage, refusal and reasoning items are recomputed here from the raw recording, independently of
the library, and compared with the LangChain message the adapter produced.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk

from cf_ai_gateway import ProviderError
from langchain_cf_ai_gateway import ChatCloudflareAIGateway

from ..fixtures import RECORDINGS

CASSETTES = RECORDINGS / "langchain-openai-cassettes"
SDK_JSON = RECORDINGS / "openai-python-fixtures" / "json"
SDK_SSE = RECORDINGS / "openai-python-fixtures" / "sse"


def _recordings() -> list[Any]:
    """``(api, status, body, is_sse)`` for every recorded reply, as pytest params."""
    params = []
    for path in sorted(CASSETTES.glob("*.json")):
        for number, item in enumerate(json.loads(path.read_text())["interactions"]):
            api = "chat" if item["api"] == "chat.completions" else "responses"
            response = item["response"]
            params.append(
                pytest.param(api, response["status"], response["body"], response["sse"],
                             id=f"{path.stem}#{number}")
            )
    for path in sorted(SDK_JSON.glob("*.json")):
        api = "responses" if path.name.startswith("responses") else "chat"
        params.append(pytest.param(api, 200, json.loads(path.read_text()), False, id=path.stem))
    for path in sorted(SDK_SSE.glob("*.sse")):
        params.append(pytest.param("chat", 200, path.read_text(), True, id=path.stem))
    return params


# -- expectations, recomputed from the raw recordings ------------------------------------------


def _sse_events(text: str) -> list[dict[str, Any]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = "\n".join(
            line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")
        )
        if data and data != "[DONE]":
            events.append(json.loads(data))
    return events


def _usage(usage: dict[str, Any] | None, chat: bool) -> dict[str, int] | None:
    if not usage:
        return None
    if chat:
        inp, out = usage["prompt_tokens"], usage["completion_tokens"]
        cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    else:
        inp, out = usage["input_tokens"], usage["output_tokens"]
        cached = (usage.get("input_tokens_details") or {}).get("cached_tokens") or 0
        reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens") or 0
    return {"input": inp, "output": out, "total": usage["total_tokens"], "cached": cached,
            "reasoning": reasoning}


def _expect_chat_json(body: dict[str, Any]) -> dict[str, Any]:
    message = body["choices"][0]["message"]
    calls = [(c["id"], c["function"]["name"], c["function"]["arguments"])
             for c in message.get("tool_calls") or []]
    return {"text": message.get("content") or "", "calls": calls,
            "refusal": message.get("refusal") or "", "usage": _usage(body.get("usage"), True),
            "reasoning_ids": [], "finish": body["choices"][0]["finish_reason"]}


def _expect_chat_sse(text: str) -> dict[str, Any]:
    content, refusal, usage, finish = "", "", None, None
    calls: dict[int, list[str]] = {}
    for event in _sse_events(text):
        usage = event.get("usage") or usage
        for choice in event.get("choices") or []:
            if choice["index"] != 0:
                continue
            delta = choice.get("delta") or {}
            content += delta.get("content") or ""
            refusal += delta.get("refusal") or ""
            for call in delta.get("tool_calls") or []:
                entry = calls.setdefault(call["index"], ["", "", ""])
                entry[0] = entry[0] or call.get("id") or ""
                entry[1] = entry[1] or (call.get("function") or {}).get("name") or ""
                entry[2] += (call.get("function") or {}).get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    return {"text": content, "calls": [tuple(calls[i]) for i in sorted(calls)], "refusal": refusal,
            "usage": _usage(usage, True), "reasoning_ids": [], "finish": finish}


def _expect_response(response: dict[str, Any], streamed_text: str | None = None) -> dict[str, Any]:
    text, refusal, calls, reasoning_ids = "", "", [], []
    for item in response.get("output") or []:
        if item["type"] == "message":
            for part in item.get("content") or []:
                if part["type"] == "output_text":
                    text += part["text"]
                elif part["type"] == "refusal":
                    refusal += part["refusal"]
        elif item["type"] == "function_call":
            calls.append((item["call_id"], item["name"], item["arguments"]))
        elif item["type"] == "reasoning":
            reasoning_ids.append(item["id"])
    status = response.get("status")
    if streamed_text is not None:
        text = streamed_text
    finish = "length" if status == "incomplete" else ("tool_calls" if calls else "stop")
    return {"text": text, "calls": calls, "refusal": refusal,
            "usage": _usage(response.get("usage"), False), "reasoning_ids": reasoning_ids,
            "finish": finish}


def _expect_responses_sse(text: str) -> dict[str, Any]:
    events = _sse_events(text)
    streamed = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    terminal = next(e for e in reversed(events) if e["type"] in
                    ("response.completed", "response.incomplete", "response.failed"))
    response = dict(terminal["response"])
    if not response.get("output"):  # some backends send the items only as item events
        response["output"] = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    return _expect_response(response, streamed)


def _expectations(api: str, body: Any, sse: bool) -> dict[str, Any]:
    if api == "chat":
        return _expect_chat_sse(body) if sse else _expect_chat_json(body)
    return _expect_responses_sse(body) if sse else _expect_response(body)


# -- the replay -------------------------------------------------------------------------------


def _check(message: AIMessage, expected: dict[str, Any]) -> None:
    assert message.text == expected["text"]
    got_calls = [(c["id"], c["name"], c["args"]) for c in message.tool_calls]
    got_invalid = [(c["id"], c["name"], c["args"]) for c in message.invalid_tool_calls]
    want_calls, want_invalid = [], []
    for call_id, name, arguments in expected["calls"]:
        try:
            want_calls.append((call_id, name, json.loads(arguments) if arguments else {}))
        except ValueError:
            want_invalid.append((call_id, name, arguments))
    assert got_calls == want_calls
    assert got_invalid == want_invalid
    assert (message.additional_kwargs.get("refusal") or "") == expected["refusal"]
    reasoning = message.additional_kwargs.get("reasoning_items") or []
    assert [item["id"] for item in reasoning] == expected["reasoning_ids"]
    assert message.response_metadata["finish_reason"] == expected["finish"]
    usage = expected["usage"]
    if usage is None:
        assert message.usage_metadata is None
        return
    assert message.usage_metadata is not None
    got = message.usage_metadata
    assert (got["input_tokens"], got["output_tokens"], got["total_tokens"]) == (
        usage["input"], usage["output"], usage["total"]
    )
    assert got.get("input_token_details", {}).get("cache_read") == usage["cached"]
    assert got.get("output_token_details", {}).get("reasoning") == usage["reasoning"]


@pytest.mark.parametrize(("api", "status", "body", "sse"), _recordings())
def test_replay(emulator: Any, api: str, status: int, body: Any, sse: bool) -> None:
    endpoint = "chat/completions" if api == "chat" else "responses"
    model = ChatCloudflareAIGateway(
        model="gpt-4o-mini", api=api, account_id=emulator.account_id,
        base_url=emulator.base_url, api_key="sk-replay", max_retries=0,
    )
    if status != 200:
        emulator.script(json=body, status=status, endpoint=endpoint)
        with pytest.raises(ProviderError) as info:
            model.invoke("hi")
        assert info.value.status_code == status
        return
    expected = _expectations(api, body, sse)
    if sse:
        emulator.script(sse=body, endpoint=endpoint)
        chunks = list(model.stream("hi"))
        assert chunks[-1].chunk_position == "last"
        full: AIMessageChunk = chunks[0]
        for chunk in chunks[1:]:
            full = full + chunk
        message: AIMessage = full
        assert sum("gateway" in c.response_metadata for c in chunks) == 1
    else:
        emulator.script(json=body, endpoint=endpoint)
        message = model.invoke("hi")
    assert message.response_metadata["gateway"]["log_id"]
    _check(message, expected)


@pytest.mark.parametrize(
    "name", ["test_function_calling", "test_reasoning", "test_agent_loop_streaming"]
)
async def test_replay_async(emulator: Any, name: str) -> None:
    model = ChatCloudflareAIGateway(
        model="gpt-4o-mini", api="responses", account_id=emulator.account_id,
        base_url=emulator.base_url, api_key="sk-replay",
    )
    for item in json.loads((CASSETTES / f"{name}.json").read_text())["interactions"]:
        response = item["response"]
        expected = _expectations("responses", response["body"], response["sse"])
        if response["sse"]:
            emulator.script(sse=response["body"], endpoint="responses")
            chunks = [c async for c in model.astream("hi")]
            message: AIMessage = chunks[0]
            for chunk in chunks[1:]:
                message = message + chunk  # type: ignore[assignment]
        else:
            emulator.script(json=response["body"], endpoint="responses")
            message = await model.ainvoke("hi")
        _check(message, expected)
