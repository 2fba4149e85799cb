"""Token log probabilities from the chat endpoint, replayed from recorded OpenAI replies.

The non-streamed reply is OpenAI's documented ``logprobs`` example (``top_logprobs=2``); the
streams are real recorded chunks and that example cut into one chunk per token. ``logprobs`` on
``ChatResponse``/``CompletionResponse`` must be LlamaIndex's ``list[list[LogProb]]`` in the shape
``llama_index.llms.openai`` gives (one list of alternatives per token); a stream's chunks carry
the log probabilities so far, so its last chunk matches the whole reply.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.base.llms.types import ChatResponse, LogProb
from llama_index.core.llms import ChatMessage

from cf_ai_gateway.emulator import Emulator
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

from ..fixtures import RECORDINGS
from .conftest import model_requests

EXAMPLES = RECORDINGS / "examples_chat_completions_and_responses.json"
RECORDED_STREAM = (
    RECORDINGS
    / "openai-python-fixtures"
    / "sse"
    / "chat_completions_stream__test_content_logprobs_events.sse"
)
QUESTION = [ChatMessage(role="user", content="Hello!")]


def example_reply() -> dict[str, Any]:
    """OpenAI's documented chat reply with ``logprobs`` (asked with ``top_logprobs=2``)."""
    examples = json.loads(EXAMPLES.read_text())["examples"]["/chat/completions"]
    for example in examples:
        response = example.get("response")
        if isinstance(response, dict) and response.get("object") == "chat.completion":
            logprobs = response["choices"][0].get("logprobs")
            if logprobs and logprobs.get("content"):
                return dict(response)
    raise AssertionError("no chat example with logprobs")


def expected_logprobs(content: list[dict[str, Any]]) -> list[list[LogProb]]:
    """One list of alternatives per token, tokens without alternatives left out."""
    return [
        [LogProb(token=t["token"], logprob=t["logprob"], bytes=t["bytes"] or []) for t in tops]
        for entry in content
        if (tops := entry["top_logprobs"])
    ]


def per_token_stream(reply: dict[str, Any]) -> list[Any]:
    """The example reply as a chat stream: one chunk per token, then finish and usage chunks."""
    base = {"id": reply["id"], "object": "chat.completion.chunk", "model": reply["model"]}
    events: list[Any] = []
    for entry in reply["choices"][0]["logprobs"]["content"]:
        choice = {
            "index": 0,
            "delta": {"content": entry["token"]},
            "logprobs": {"content": [entry], "refusal": None},
            "finish_reason": None,
        }
        events.append({**base, "choices": [choice]})
    finish = {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    events.append({**base, "choices": [finish]})
    events.append({**base, "choices": [], "usage": reply["usage"]})
    events.append("[DONE]")
    return events


def test_chat_and_complete_carry_the_token_logprobs(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    reply = example_reply()
    expected = expected_logprobs(reply["choices"][0]["logprobs"]["content"])
    assert len(expected) > 3 and all(len(tops) == 2 for tops in expected)
    emulator.script(json=reply, times=2)
    llm = make_llm(logprobs=True, top_logprobs=2)
    chat = llm.chat(QUESTION)
    completion = llm.complete("Hello!")
    assert chat.logprobs == expected
    assert completion.logprobs == expected
    assert ChatResponse.model_validate_json(chat.model_dump_json()).logprobs == expected
    assert chat.message.content == reply["choices"][0]["message"]["content"]
    body = model_requests(emulator)[0].json
    assert body["logprobs"] is True and body["top_logprobs"] == 2


async def test_streamed_chunks_carry_the_logprobs_so_far(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    reply = example_reply()
    expected = expected_logprobs(reply["choices"][0]["logprobs"]["content"])
    emulator.script(sse=per_token_stream(reply), times=4)
    llm = make_llm(logprobs=True, top_logprobs=2)
    streams = [
        list(llm.stream_chat(QUESTION)),
        [c async for c in await llm.astream_chat(QUESTION)],
        list(llm.stream_complete("Hello!")),
        [c async for c in await llm.astream_complete("Hello!")],
    ]
    for chunks in streams:
        assert len(chunks) == len(expected) + 1
        for count, chunk in enumerate(chunks[:-1], start=1):
            assert chunk.logprobs == expected[:count]
        assert chunks[-1].logprobs == expected
        assert chunks[-1].additional_kwargs["total_tokens"] == reply["usage"]["total_tokens"]


def test_streaming_field_returns_all_logprobs(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    reply = example_reply()
    emulator.script(sse=per_token_stream(reply))
    response = make_llm(streaming=True, logprobs=True, top_logprobs=2).chat(QUESTION)
    assert response.logprobs == expected_logprobs(reply["choices"][0]["logprobs"]["content"])


def test_recorded_stream_without_alternatives(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    """Recorded with ``logprobs=True`` only: tokens have no alternatives, so the lists are empty."""
    emulator.script(sse=RECORDED_STREAM.read_text())
    chunks = list(make_llm(logprobs=True).stream_chat(QUESTION))
    assert chunks[-1].message.content == "Foo!"
    assert chunks[-1].logprobs == []


def test_replies_without_logprobs_have_none(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    llm = make_llm()
    assert llm.chat(QUESTION).logprobs is None
    assert all(c.logprobs is None for c in llm.stream_complete("Hello!"))
    assert "logprobs" not in model_requests(emulator)[0].json


def test_same_logprobs_as_llama_index_openai(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    utils = pytest.importorskip("llama_index.llms.openai.utils")
    from openai.types.chat import ChatCompletion

    reply = example_reply()
    emulator.script(json=reply)
    ours = make_llm(logprobs=True, top_logprobs=2).chat(QUESTION).logprobs
    parsed = ChatCompletion.model_validate(reply).choices[0].logprobs
    assert parsed is not None and parsed.content
    assert ours == utils.from_openai_token_logprobs(parsed.content)
