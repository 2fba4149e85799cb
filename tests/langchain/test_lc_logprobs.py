"""Token logprobs through the LangChain adapter, as ChatOpenAI reports them.

Real recorded replies are served by the emulator: OpenAI's published non-streamed "Logprobs"
example and the OpenAI SDK's recorded stream with content logprobs. ``invoke`` puts them in
``response_metadata["logprobs"] = {"content": [...]}``; each streamed chunk carries its own
tokens' logprobs (so merged chunks hold them all, once) and hands them to ``on_llm_new_token``
when langchain-core gives the stream its run manager.
The same replies fetched with ``langchain_openai.ChatOpenAI`` through the emulator give the
same token lists.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessageChunk

from langchain_cf_ai_gateway import ChatCloudflareAIGateway

from ..fixtures import RECORDINGS

EXAMPLES = RECORDINGS / "examples_chat_completions_and_responses.json"
LOGPROBS_SSE = (
    RECORDINGS / "openai-python-fixtures" / "sse"
    / "chat_completions_stream__test_content_logprobs_events.sse"
)


@pytest.fixture(autouse=True)
def _emulator(_clean_env: None, emulator: Any) -> Any:
    return emulator


def make(emulator: Any, **kwargs: Any) -> ChatCloudflareAIGateway:
    return ChatCloudflareAIGateway(
        model="gpt-4o-mini", account_id=emulator.account_id, base_url=emulator.base_url,
        api_key="sk-logprobs", **kwargs,
    )


def logprobs_example() -> dict[str, Any]:
    examples = json.loads(EXAMPLES.read_text())["examples"]["/chat/completions"]
    reply: dict[str, Any] = next(e for e in examples if e["title"] == "Logprobs")["response"]
    return reply


def streamed_token_logprobs(sse: str) -> list[list[dict[str, Any]]]:
    """Each recorded event's non-empty ``logprobs.content``, in order."""
    pieces = []
    for line in sse.splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            for choice in json.loads(line[6:]).get("choices", []):
                content = (choice.get("logprobs") or {}).get("content")
                if content:
                    pieces.append(content)
    return pieces


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


class TokenLogprobs(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[Any] = []

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        if "logprobs" in kwargs:
            self.seen.append(kwargs["logprobs"])


def test_invoke_puts_logprobs_in_response_metadata(emulator: Any) -> None:
    reply = logprobs_example()
    emulator.script(json=reply, endpoint="chat/completions")
    message = make(emulator, logprobs=True, top_logprobs=2).invoke("hi")
    expected = reply["choices"][0]["logprobs"]["content"]
    assert message.response_metadata["logprobs"] == {"content": expected}
    assert message.text == reply["choices"][0]["message"]["content"]
    body = emulator.requests[-1].json
    assert body["logprobs"] is True and body["top_logprobs"] == 2


def test_no_logprobs_key_unless_the_reply_has_them(emulator: Any) -> None:
    message = make(emulator).invoke("hi")
    assert "logprobs" not in message.response_metadata
    chunks = list(make(emulator).stream("hi"))
    assert all("logprobs" not in c.response_metadata for c in chunks)


def test_each_streamed_chunk_carries_its_tokens_logprobs(emulator: Any) -> None:
    sse = LOGPROBS_SSE.read_text()
    emulator.script(sse=sse, endpoint="chat/completions")
    chunks = list(make(emulator).bind(logprobs=True).stream("hi"))
    pieces = streamed_token_logprobs(sse)
    with_logprobs = [c for c in chunks if "logprobs" in c.response_metadata]
    assert [c.response_metadata["logprobs"] for c in with_logprobs] == [
        {"content": piece} for piece in pieces
    ]
    assert [c.text for c in with_logprobs] == [p[0]["token"] for p in pieces]
    assert chunks[-1].chunk_position == "last" and "logprobs" not in chunks[-1].response_metadata
    assert chunks[0].response_metadata["gateway"]["log_id"]  # beside the first chunk's logprobs
    everything = [entry for piece in pieces for entry in piece]
    assert merged(chunks).response_metadata["logprobs"] == {"content": everything}


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_token_callbacks_get_the_chunks_logprobs(emulator: Any) -> None:
    # langchain-core hands our stream its run manager on the v3 event path.
    sse = LOGPROBS_SSE.read_text()
    emulator.script(sse=sse, endpoint="chat/completions")
    handler = TokenLogprobs()
    stream = make(emulator, logprobs=True).stream_events(
        "hi", {"callbacks": [handler]}, version="v3"
    )
    assert stream.output.text == "Foo!"
    assert handler.seen == [{"content": piece} for piece in streamed_token_logprobs(sse)]


async def test_async_stream_carries_logprobs(emulator: Any) -> None:
    sse = LOGPROBS_SSE.read_text()
    emulator.script(sse=sse, endpoint="chat/completions")
    chunks = [c async for c in make(emulator, logprobs=True).astream("hi")]
    everything = [entry for piece in streamed_token_logprobs(sse) for entry in piece]
    assert merged(chunks).response_metadata["logprobs"] == {"content": everything}


def test_same_logprobs_as_chat_openai(emulator: Any) -> None:
    langchain_openai = pytest.importorskip("langchain_openai")
    openai_model = langchain_openai.ChatOpenAI(
        model="gpt-4o-mini", api_key="sk-logprobs", logprobs=True, max_retries=0,
        base_url=f"{emulator.base_url}/{emulator.account_id}/default/openai",
        default_headers={"cf-aig-authorization": f"Bearer {emulator.token}"},  # an authenticated gateway
    )
    ours = make(emulator, logprobs=True)
    reply = logprobs_example()
    emulator.script(json=reply, endpoint="chat/completions", times=2)
    ours_invoked = ours.invoke("hi").response_metadata["logprobs"]
    theirs_invoked = openai_model.invoke("hi").response_metadata["logprobs"]
    assert ours_invoked["content"] == theirs_invoked["content"]  # they add "refusal": None
    sse = LOGPROBS_SSE.read_text()
    emulator.script(sse=sse, endpoint="chat/completions", times=2)
    our_stream = merged(list(ours.stream("hi"))).response_metadata["logprobs"]
    their_stream = merged(list(openai_model.stream("hi"))).response_metadata["logprobs"]
    assert our_stream["content"] == their_stream["content"]
