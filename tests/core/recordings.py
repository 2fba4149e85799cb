"""Locate, read and check the recorded OpenAI traffic that the wire replay tests feed through.

The recordings live in ``tests/fixtures/openai-recordings`` (source and licence noted in its
README). :func:`sse_items` is a deliberately tiny SSE splitter, independent of the library's own
decoder, that turns a recorded stream's text into event dicts and the ``[DONE]`` marker. The
``check_*`` functions replay one recorded body or stream through the converters and compare the
neutral result with what the recording says, recomputed here from the raw JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cf_ai_gateway.wire import chat, responses
from cf_ai_gateway.wire.types import ChatDelta, ChatResult

from ..fixtures import RECORDINGS

RECORDINGS_DIR = RECORDINGS
CASSETTES_DIR = RECORDINGS_DIR / "langchain-openai-cassettes"
FIXTURE_JSON_DIR = RECORDINGS_DIR / "openai-python-fixtures" / "json"
FIXTURE_SSE_DIR = RECORDINGS_DIR / "openai-python-fixtures" / "sse"

DONE = "[DONE]"


def _files(directory: Path, pattern: str) -> list[Path]:
    files = sorted(directory.glob(pattern))
    assert files, f"no {pattern} in {directory}"
    return files


def cassette_files() -> list[Path]:
    return _files(CASSETTES_DIR, "*.json")


def fixture_json_files() -> list[Path]:
    return _files(FIXTURE_JSON_DIR, "*.json")


def fixture_sse_files() -> list[Path]:
    return _files(FIXTURE_SSE_DIR, "*.sse")


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def cassette(name: str) -> list[dict[str, Any]]:
    """The interactions of one cassette, by file stem."""
    interactions: list[dict[str, Any]] = load_json(CASSETTES_DIR / f"{name}.json")["interactions"]
    return interactions


def interaction_params() -> list[Any]:
    """One ``pytest.param`` per recorded interaction of every cassette."""
    params = []
    for path in cassette_files():
        for number, interaction in enumerate(load_json(path)["interactions"]):
            params.append(pytest.param(interaction, id=f"{path.stem}#{number}"))
    return params


def sse_items(text: str) -> list[dict[str, Any] | str]:
    """The events of a recorded SSE text, in order: parsed dicts and :data:`DONE`."""
    items: list[dict[str, Any] | str] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [
            line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")
        ]
        if not data:
            continue
        payload = "\n".join(data)
        items.append(DONE if payload == DONE else json.loads(payload))
    return items


def sse_events(text: str) -> list[dict[str, Any]]:
    """Only the event dicts of a recorded SSE text."""
    return [item for item in sse_items(text) if isinstance(item, dict)]


# --- feeding streams -------------------------------------------------------------------------


def feed_chat(text: str) -> tuple[chat.StreamHandler, list[ChatDelta], list[dict[str, Any]]]:
    handler = chat.StreamHandler()
    deltas: list[ChatDelta] = []
    events: list[dict[str, Any]] = []
    for item in sse_items(text):
        if item == DONE:
            handler.on_done()
            continue
        assert isinstance(item, dict)
        events.append(item)
        delta = handler.on_event(item)
        if delta is not None:
            deltas.append(delta)
    return handler, deltas, events


def feed_responses(
    events: list[dict[str, Any]],
) -> tuple[responses.StreamHandler, list[ChatDelta]]:
    handler = responses.StreamHandler()
    deltas = [d for d in (handler.on_event(event) for event in events) if d is not None]
    return handler, deltas


def merged_chunks(deltas: list[ChatDelta]) -> dict[int, dict[str, str]]:
    """Tool-call chunks merged by index the way a consumer concatenates them."""
    merged: dict[int, dict[str, str]] = {}
    for delta in deltas:
        for chunk in delta.tool_call_chunks:
            entry = merged.setdefault(chunk.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] += chunk.id or ""
            entry["name"] += chunk.name or ""
            entry["arguments"] += chunk.arguments
    return merged


# --- chat/completions expectations recomputed from the raw events -----------------------------


def chat_stream_expectations(events: list[dict[str, Any]]) -> dict[str, Any]:
    text, refusal, finish, usage = "", "", None, None
    calls: dict[int, dict[str, str]] = {}
    for event in events:
        if event.get("usage"):
            usage = event["usage"]
        for choice in event.get("choices") or []:
            if choice["index"] != 0:
                continue
            delta = choice.get("delta") or {}
            text += delta.get("content") or ""
            refusal += delta.get("refusal") or ""
            for call in delta.get("tool_calls") or []:
                entry = calls.setdefault(call["index"], {"id": "", "name": "", "arguments": ""})
                entry["id"] = entry["id"] or call.get("id") or ""
                function = call.get("function") or {}
                entry["name"] = entry["name"] or function.get("name") or ""
                entry["arguments"] += function.get("arguments") or ""
            finish = choice.get("finish_reason") or finish
    return {"text": text, "refusal": refusal, "finish": finish, "usage": usage, "calls": calls}


def assert_chat_usage(result_usage: Any, usage: dict[str, Any]) -> None:
    assert result_usage is not None
    assert result_usage.input_tokens == usage["prompt_tokens"]
    assert result_usage.output_tokens == usage["completion_tokens"]
    assert result_usage.total_tokens == usage["total_tokens"]
    details = usage.get("completion_tokens_details") or {}
    assert result_usage.reasoning_tokens == (details.get("reasoning_tokens") or 0)
    prompt_details = usage.get("prompt_tokens_details") or {}
    assert result_usage.cached_tokens == (prompt_details.get("cached_tokens") or 0)


def check_chat_stream(text: str) -> ChatResult:
    handler = chat.StreamHandler()
    deltas: list[ChatDelta] = []
    events: list[dict[str, Any]] = []
    finish_seen = False
    for item in sse_items(text):
        if item == DONE:
            assert not handler.done
            handler.on_done()
            continue
        assert isinstance(item, dict)
        events.append(item)
        delta = handler.on_event(item)
        if delta is not None:
            deltas.append(delta)
            finish_seen = finish_seen or delta.finish_reason is not None
        # A chunk with finish_reason is not terminal: only [DONE] is.
        assert not handler.done
    assert finish_seen
    assert handler.done
    expected = chat_stream_expectations(events)
    result = handler.result()

    assert result.text == expected["text"]
    assert "".join(d.text for d in deltas) == expected["text"]
    assert (result.refusal or "") == expected["refusal"]
    assert "".join(d.refusal for d in deltas) == expected["refusal"]
    assert result.finish_reason == expected["finish"]
    assert result.id == events[0]["id"]
    assert result.model == events[0]["model"]
    assert result.created == events[0]["created"]
    assert deltas[0].id == events[0]["id"]

    assert len(result.tool_calls) == len(expected["calls"])
    merged = merged_chunks(deltas)
    for index, want in sorted(expected["calls"].items()):
        got = result.tool_calls[index]
        assert (got.id, got.name) == (want["id"], want["name"])
        assert json.loads(got.arguments) == json.loads(want["arguments"])
        assert merged[index] == want

    if expected["usage"] is not None:
        assert_chat_usage(result.usage, expected["usage"])
        usage_deltas = [d.usage for d in deltas if d.usage is not None]
        assert usage_deltas == [result.usage]  # reported exactly once
    return result


# --- responses expectations recomputed from the raw objects -----------------------------------


def output_text(response: dict[str, Any]) -> str:
    return "".join(
        part["text"]
        for item in response["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )


def function_calls(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in response["output"] if item["type"] == "function_call"]


def assert_responses_usage(result_usage: Any, usage: dict[str, Any]) -> None:
    assert result_usage is not None
    assert result_usage.input_tokens == usage["input_tokens"]
    assert result_usage.output_tokens == usage["output_tokens"]
    assert result_usage.total_tokens == usage["total_tokens"]
    assert result_usage.cached_tokens == usage["input_tokens_details"]["cached_tokens"]
    assert result_usage.reasoning_tokens == usage["output_tokens_details"]["reasoning_tokens"]


def check_responses_object(body: dict[str, Any]) -> ChatResult:
    result = responses.parse_result(body)
    assert result.text == output_text(body)
    calls = function_calls(body)
    assert [(c.id, c.name, c.item_id) for c in result.tool_calls] == [
        (c["call_id"], c["name"], c["id"]) for c in calls
    ]
    for got, want in zip(result.tool_calls, calls, strict=True):
        assert json.loads(got.arguments) == json.loads(want["arguments"])
    reasoning = [item for item in body["output"] if item["type"] == "reasoning"]
    assert result.reasoning_items == reasoning
    summaries = [s["text"] for item in reasoning for s in item["summary"]]
    assert result.reasoning == ("\n\n".join(summaries) or None)
    others = [
        i for i in body["output"] if i["type"] not in ("message", "function_call", "reasoning")
    ]
    assert result.output_items == others
    assert result.status == body["status"]
    if body["status"] == "completed":
        assert result.finish_reason == ("tool_calls" if calls else "stop")
    assert_responses_usage(result.usage, body["usage"])
    assert (result.id, result.model, result.created) == (
        body["id"],
        body["model"],
        body["created_at"],
    )
    assert result.raw is body
    return result


def check_responses_stream(text: str) -> ChatResult:
    events = sse_events(text)
    final = events[-1]
    assert final["type"] in ("response.completed", "response.incomplete", "response.failed")
    final_response = final["response"]
    handler = responses.StreamHandler()
    deltas: list[ChatDelta] = []
    for event in events:
        assert not handler.done
        delta = handler.on_event(event)
        if delta is not None:
            deltas.append(delta)
    assert handler.done
    result = handler.result()

    # The final object is the source of truth: the streamed result equals its parse.
    assert result == responses.parse_result(final_response)
    check_responses_object(final_response)

    streamed_text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert streamed_text == output_text(final_response)
    assert "".join(d.text for d in deltas) == streamed_text

    created = events[0]["response"]
    assert (deltas[0].id, deltas[0].model) == (created["id"], created["model"])

    calls = function_calls(final_response)
    merged = merged_chunks(deltas)
    assert sorted(merged) == list(range(len(calls)))
    for index, want in enumerate(calls):
        assert merged[index]["id"] == want["call_id"]
        assert merged[index]["name"] == want["name"]
        assert json.loads(merged[index]["arguments"]) == json.loads(want["arguments"])

    reasoning = "".join(d.reasoning for d in deltas)
    assert reasoning == (result.reasoning or "")

    last = deltas[-1]
    assert last.event is final
    assert last.finish_reason == result.finish_reason
    assert_responses_usage(last.usage, final_response["usage"])

    # Without the terminal event the deltas alone rebuild the same content.
    partial, _ = feed_responses(events[:-1])
    assert not partial.done
    cut = partial.result()
    assert cut.text == result.text
    assert cut.tool_calls == result.tool_calls
    assert cut.reasoning == result.reasoning
    assert cut.reasoning_items == result.reasoning_items
    assert cut.finish_reason is None
    assert cut.status == "in_progress"
    assert cut.id == result.id
    return result


def check_chat_object(body: dict[str, Any]) -> ChatResult:
    result = chat.parse_result(body)
    choice = next(c for c in body["choices"] if c["index"] == 0)
    message = choice["message"]
    assert result.text == (message.get("content") or "")
    assert result.refusal == message.get("refusal")
    calls = message.get("tool_calls") or []
    assert [(c.id, c.name) for c in result.tool_calls] == [
        (c["id"], c["function"]["name"]) for c in calls
    ]
    for got, want in zip(result.tool_calls, calls, strict=True):
        assert json.loads(got.arguments) == json.loads(want["function"]["arguments"])
    assert result.finish_reason == choice["finish_reason"]
    assert_chat_usage(result.usage, body["usage"])
    assert (result.id, result.model, result.created) == (body["id"], body["model"], body["created"])
    assert result.system_fingerprint == body.get("system_fingerprint")
    assert result.raw is body
    return result
