"""Every call method of ``CloudflareAIGatewayLLM`` on both endpoints, against the emulator.

Each test runs for ``api="chat"`` and ``api="responses"``. Streams must yield deltas whose
concatenation is the final text, with ``message.content`` growing chunk by chunk; replies carry
the raw body, token usage (as LlamaIndex's token counters read it) and the gateway info, and the
requests on the wire carry the gateway options, auth headers and extra body fields.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler
from llama_index.core.llms import ChatMessage, ChatResponse, CompletionResponse

from cf_ai_gateway import (
    ConfigurationError,
    GatewayAuthenticationError,
    GatewayRateLimitError,
    StreamError,
)
from cf_ai_gateway.emulator import Emulator
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

from .conftest import API_KEY, GATEWAY_TOKEN, model_requests

QUESTION = [
    ChatMessage(role="system", content="Answer briefly."),
    ChatMessage(role="user", content="Tell me about the gateway emulator."),
]
PROMPT = "Describe caching in one line."


def check_reply(response: ChatResponse | CompletionResponse, text: str, api: str) -> None:
    assert text.strip()
    kwargs = response.additional_kwargs
    assert kwargs["gateway"]["log_id"]
    assert kwargs["gateway"]["cache_status"] == "MISS"
    assert kwargs["prompt_tokens"] > 0 and kwargs["completion_tokens"] > 0
    assert kwargs["total_tokens"] == kwargs["prompt_tokens"] + kwargs["completion_tokens"]
    assert "cached_tokens" in kwargs and "reasoning_tokens" in kwargs
    assert kwargs["finish_reason"] == "stop"
    assert isinstance(response.raw, dict) and "usage" in response.raw
    assert response.raw.get("object") == ("chat.completion" if api == "chat" else "response") or (
        response.raw.get("object") == "chat.completion.chunk"
    )


def check_stream(chunks: list[Any], api: str) -> str:
    """Deltas concatenate to the final text; each chunk's text extends the previous one."""
    assert len(chunks) > 2
    texts = [c.message.content if isinstance(c, ChatResponse) else c.text for c in chunks]
    deltas = "".join(c.delta or "" for c in chunks)
    assert deltas == texts[-1]
    for before, after in itertools.pairwise(texts):
        assert after.startswith(before)
    gateway = chunks[0].additional_kwargs["gateway"]
    assert all(c.additional_kwargs["gateway"] == gateway for c in chunks)
    check_reply(chunks[-1], texts[-1], api)
    return deltas


def test_chat(llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator) -> None:
    response = llm.chat(QUESTION)
    assert response.message.role == "assistant"
    check_reply(response, response.message.content or "", api)
    assert "gateway emulator" in (response.message.content or "")
    (request,) = model_requests(emulator)
    assert request.path.endswith("/chat/completions" if api == "chat" else "/responses")
    assert request.json["model"] == "gpt-4o-mini"


async def test_achat(llm: CloudflareAIGatewayLLM, api: str) -> None:
    response = await llm.achat(QUESTION)
    check_reply(response, response.message.content or "", api)


def test_stream_chat(llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator) -> None:
    text = check_stream(list(llm.stream_chat(QUESTION)), api)
    assert text == llm.chat(QUESTION).message.content
    assert model_requests(emulator)[0].json["stream"] is True


async def test_astream_chat(llm: CloudflareAIGatewayLLM, api: str) -> None:
    chunks = [chunk async for chunk in await llm.astream_chat(QUESTION)]
    check_stream(chunks, api)


def test_complete(llm: CloudflareAIGatewayLLM, api: str) -> None:
    response = llm.complete(PROMPT)
    check_reply(response, response.text, api)
    assert "caching" in response.text


async def test_acomplete(llm: CloudflareAIGatewayLLM, api: str) -> None:
    response = await llm.acomplete(PROMPT)
    check_reply(response, response.text, api)


def test_stream_complete(llm: CloudflareAIGatewayLLM, api: str) -> None:
    text = check_stream(list(llm.stream_complete(PROMPT)), api)
    assert text == llm.complete(PROMPT).text


async def test_astream_complete(llm: CloudflareAIGatewayLLM, api: str) -> None:
    chunks = [chunk async for chunk in await llm.astream_complete(PROMPT)]
    check_stream(chunks, api)


def test_long_stream_yields_one_chunk_per_delta(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    emulator.configure(stream_chunks=200)
    chunks = list(make_llm(api=api).stream_chat(QUESTION))
    with_text = [c for c in chunks if c.delta]
    assert len(with_text) == 200
    check_stream(chunks, api)


def test_streaming_field_aggregates(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    llm = make_llm(api=api, streaming=True)
    response = llm.chat(QUESTION)
    check_reply(response, response.message.content or "", api)
    assert model_requests(emulator)[0].json["stream"] is True


def test_token_counting_handler_reads_usage(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str
) -> None:
    counter = TokenCountingHandler()
    llm = make_llm(api=api, callback_manager=CallbackManager([counter]))
    response = llm.chat(QUESTION)
    list(llm.stream_chat(QUESTION))
    prompt = response.additional_kwargs["prompt_tokens"]
    completion = response.additional_kwargs["completion_tokens"]
    assert [e.prompt_token_count for e in counter.llm_token_counts] == [prompt, prompt]
    assert [e.completion_token_count for e in counter.llm_token_counts] == [completion] * 2


def test_per_call_gateway_options_merge_over_the_client_options(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    llm = make_llm(api=api, gateway_options={"cache_ttl": 600, "cache_key": "question", "metadata": {"team": "search"}})
    first = llm.chat(QUESTION, gateway_options={"cache_ttl": 3600, "event_id": "evt-1"})
    second = llm.chat(QUESTION)
    chunks = list(llm.stream_chat(QUESTION, gateway_options={"skip_cache": True}))
    one, two, three = model_requests(emulator)
    assert one.header("cf-aig-cache-ttl") == "3600" and one.header("cf-aig-event-id") == "evt-1"
    assert one.header("cf-aig-metadata") == '{"team":"search"}'
    assert two.header("cf-aig-cache-ttl") == "600" and two.header("cf-aig-event-id") is None
    assert three.header("cf-aig-skip-cache") == "true"
    assert first.additional_kwargs["gateway"]["cache_status"] == "MISS"
    assert second.additional_kwargs["gateway"]["cache_status"] == "HIT"
    assert second.message.content == first.message.content
    assert chunks[-1].additional_kwargs["gateway"]["cache_status"] != "HIT"


async def test_bad_per_call_options_send_nothing(
    llm: CloudflareAIGatewayLLM, emulator: Emulator
) -> None:
    with pytest.raises(ConfigurationError, match="cache_ttl"):
        llm.chat(QUESTION, gateway_options={"cache_ttl": 1})
    with pytest.raises(ConfigurationError, match="max_attempts"):
        list(llm.stream_chat(QUESTION, gateway_options={"max_attempts": 9}))
    with pytest.raises(ConfigurationError, match="gateway_options"):
        await llm.achat(QUESTION, gateway_options={"not_an_option": 1})
    assert model_requests(emulator) == []


def test_extra_body_fields_and_sampling_parameters(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    llm = make_llm(
        api=api,
        temperature=0.3,
        max_tokens=77,
        additional_kwargs={"service_tier": "flex", "metadata": {"run": "1"}},
    )
    llm.chat(QUESTION, top_p=0.5, metadata={"run": "2"})
    body = model_requests(emulator)[0].json
    assert body["temperature"] == 0.3 and body["top_p"] == 0.5
    assert body["max_completion_tokens" if api == "chat" else "max_output_tokens"] == 77
    assert body["service_tier"] == "flex" and body["metadata"] == {"run": "2"}


@pytest.mark.ai_gateway_emulator(authenticated=False)
def test_unauthenticated_mode_sends_only_the_provider_key(
    llm: CloudflareAIGatewayLLM, emulator: Emulator
) -> None:
    llm.chat(QUESTION)
    (request,) = model_requests(emulator)
    assert request.header("authorization") == f"Bearer {API_KEY}"
    assert request.header("cf-aig-authorization") is None


def test_byok_sends_no_authorization_header(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    emulator.configure(token=GATEWAY_TOKEN)
    llm = make_llm(api=api, api_key=None, cf_aig_token=GATEWAY_TOKEN, auth_mode="byok")
    assert llm.chat(QUESTION).message.content
    chunks = list(llm.stream_chat(QUESTION))
    assert chunks[-1].message.content
    for request in model_requests(emulator):
        assert "authorization" not in request.headers
        assert request.header("cf-aig-authorization") == f"Bearer {GATEWAY_TOKEN}"


def test_authenticated_mode_sends_both(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    emulator.configure(token=GATEWAY_TOKEN)
    make_llm(api=api, cf_aig_token=GATEWAY_TOKEN).chat(QUESTION)
    (request,) = model_requests(emulator)
    assert request.header("authorization") == f"Bearer {API_KEY}"
    assert request.header("cf-aig-authorization") == f"Bearer {GATEWAY_TOKEN}"


async def test_gateway_errors_propagate_unchanged_without_secrets(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    emulator.configure(token=GATEWAY_TOKEN)
    llm = make_llm(api=api, cf_aig_token="cfaig-wrong-token-000000000")
    with pytest.raises(GatewayAuthenticationError) as info:
        llm.chat(QUESTION)
    assert info.value.code == 2009 and info.value.log_id
    for error in (info.value,):
        text = f"{error} {error!r} {error.body}"
        assert API_KEY not in text and "cfaig-wrong-token" not in text
    with pytest.raises(GatewayAuthenticationError):
        list(llm.stream_chat(QUESTION))
    with pytest.raises(GatewayAuthenticationError):
        await llm.achat(QUESTION)
    with pytest.raises(GatewayAuthenticationError):
        [c async for c in await llm.astream_chat(QUESTION)]


@pytest.mark.parametrize("max_retries", [0, 2])
def test_retries_exactly_max_retries(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator, max_retries: int
) -> None:
    emulator.fault(429, code=2003, retry_after=0, times=None)
    llm = make_llm(api=api, max_retries=max_retries)
    with pytest.raises(GatewayRateLimitError):
        llm.chat(QUESTION)
    assert len(model_requests(emulator)) == max_retries + 1


def test_retry_then_success(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    emulator.fault(503, times=1)
    response = make_llm(api=api, max_retries=1).chat(QUESTION)
    assert response.message.content
    assert len(model_requests(emulator)) == 2


def test_llm_without_usage_in_stream_still_completes(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    events: list[Any] = [
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": "m",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}],
        },
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": "lo"}, "finish_reason": "stop"}],
        },
        "[DONE]",
    ]
    emulator.script(sse=events)
    chunks = list(make_llm().stream_chat(QUESTION))
    assert [c.delta for c in chunks] == ["Hel", "lo"]
    assert chunks[-1].message.content == "Hello"
    assert chunks[-1].additional_kwargs["finish_reason"] == "stop"


def test_async_calls_from_successive_event_loops(llm: CloudflareAIGatewayLLM) -> None:
    """Each ``asyncio.run`` has its own loop; the LLM must keep working across them."""
    import asyncio

    async def stream() -> str:
        return "".join([c.delta or "" async for c in await llm.astream_chat(QUESTION)])

    first = asyncio.run(llm.achat(QUESTION)).message.content
    assert asyncio.run(llm.achat(QUESTION)).message.content == first
    assert asyncio.run(stream()) == first
    assert asyncio.run(stream()) == first
    assert llm.chat(QUESTION).message.content == first


async def test_a_cut_stream_raises_stream_error(
    llm: CloudflareAIGatewayLLM, emulator: Emulator
) -> None:
    emulator.fault(cut_after=3, times=2)
    with pytest.raises(StreamError):
        list(llm.stream_chat(QUESTION))
    with pytest.raises(StreamError):
        [c async for c in await llm.astream_chat(QUESTION)]


async def test_streams_end_with_one_closing_chunk(llm: CloudflareAIGatewayLLM, api: str) -> None:
    """Only the last chunk lacks new text, and it carries usage, finish reason and gateway info."""
    streams = [
        list(llm.stream_complete(PROMPT)),
        [c async for c in await llm.astream_complete(PROMPT)],
        list(llm.stream_chat(QUESTION)),
        [c async for c in await llm.astream_chat(QUESTION)],
    ]
    for chunks in streams:
        assert all(c.delta for c in chunks[:-1])
        assert chunks[-1].delta == ""
        text = chunks[-1].text if isinstance(chunks[-1], CompletionResponse) else None
        check_reply(chunks[-1], text or chunks[-1].message.content, api)


def test_finish_and_usage_chunks_become_one_closing_chunk(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
        choices = [{"index": 0, "delta": delta, "finish_reason": finish}] if delta else []
        return {"id": "c1", "object": "chat.completion.chunk", "choices": choices, **extra}

    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    events: list[Any] = [
        chunk({"role": "assistant", "content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({"content": ""}, "stop"),
        chunk({}, usage=usage),
        "[DONE]",
    ]
    emulator.script(sse=events, times=2)
    llm = make_llm()
    completions = list(llm.stream_complete(PROMPT))
    chats = list(llm.stream_chat(QUESTION))
    for chunks in (completions, chats):
        assert [c.delta for c in chunks] == ["Hel", "lo", ""]
        last = chunks[-1].additional_kwargs
        assert last["finish_reason"] == "stop" and last["total_tokens"] == 7
        assert last["gateway"]["log_id"]
        assert chunks[-1].raw["usage"] == usage
    assert completions[-1].text == chats[-1].message.content == "Hello"
