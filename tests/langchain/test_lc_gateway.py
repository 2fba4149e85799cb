"""Gateway behaviour through the LangChain adapter, against the emulator over real sockets.

Covers what the standard suites do not: gateway options becoming ``cf-aig-*`` headers (per
model, per call, bound, configurable), the ``gateway`` response metadata with and without
streaming, the three auth modes' headers, core errors propagating unchanged (so
``with_retry`` works), tool-call ids and Responses reasoning items carried into the next
request, multimodal content on the wire, and secrets staying out of callbacks and errors.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.runnables import ConfigurableField

from cf_ai_gateway import (
    GatewayAuthenticationError,
    GatewayError,
    GatewayRateLimitError,
    ProviderError,
)
from langchain_cf_ai_gateway import ChatCloudflareAIGateway

from .fixture_files import png_bytes

APIS = pytest.mark.parametrize("api", ["chat", "responses"])
SECRET_KEY = "sk-lc-secret-provider-key-987654321"
SECRET_TOKEN = "cfaig-lc-secret-gateway-token-123456789"


@pytest.fixture(autouse=True)
def _emulator(_clean_env: None, emulator: Any) -> Any:
    return emulator


def make(emulator: Any, **kwargs: Any) -> ChatCloudflareAIGateway:
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("account_id", emulator.account_id)
    kwargs.setdefault("base_url", emulator.base_url)
    if "api_key" not in kwargs and "cf_aig_token" not in kwargs:
        kwargs["api_key"] = SECRET_KEY
    return ChatCloudflareAIGateway(**kwargs)


def merged(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    full = chunks[0]
    for chunk in chunks[1:]:
        full = full + chunk
    return full


def model_requests(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith(("/chat/completions", "/responses"))]


# -- gateway options become headers ------------------------------------------------------------


@APIS
def test_per_call_options_become_headers_and_merge_over_the_model(emulator: Any, api: str) -> None:
    model = make(emulator, api=api, gateway_options={"cache_ttl": 600, "collect_log": False})
    model.invoke(
        "hi", gateway_options={"cache_ttl": 3600, "metadata": {"user": "u-1"}, "event_id": "ev-1"}
    )
    headers = model_requests(emulator)[-1].headers
    assert headers["cf-aig-cache-ttl"] == "3600"  # the call wins
    assert headers["cf-aig-collect-log"] == "false"  # the model's option stays
    assert json.loads(headers["cf-aig-metadata"]) == {"user": "u-1"}
    assert headers["cf-aig-event-id"] == "ev-1"
    model.invoke("hi again")
    headers = model_requests(emulator)[-1].headers
    assert headers["cf-aig-cache-ttl"] == "600"
    assert "cf-aig-metadata" not in headers


@APIS
def test_bound_and_streamed_options(emulator: Any, api: str) -> None:
    bound = make(emulator, api=api).bind(gateway_options={"skip_cache": True, "max_attempts": 3})
    list(bound.with_config(tags=["t"]).stream("hi"))
    headers = model_requests(emulator)[-1].headers
    assert headers["cf-aig-skip-cache"] == "true"
    assert headers["cf-aig-max-attempts"] == "3"


async def test_async_calls_send_options(emulator: Any) -> None:
    model = make(emulator, api="responses")
    await model.ainvoke("hi", gateway_options={"cache_key": "k-async"})
    assert model_requests(emulator)[-1].headers["cf-aig-cache-key"] == "k-async"
    chunks = [c async for c in model.astream("hi", gateway_options={"byok_alias": "prod"})]
    assert model_requests(emulator)[-1].headers["cf-aig-byok-alias"] == "prod"
    assert merged(chunks).response_metadata["gateway"]["log_id"]


def test_configurable_gateway_options(emulator: Any) -> None:
    model = make(emulator).configurable_fields(
        gateway_options=ConfigurableField(id="gateway_options", name="Gateway options")
    )
    model.with_config(configurable={"gateway_options": {"cache_ttl": 120}}).invoke("hi")
    assert model_requests(emulator)[-1].headers["cf-aig-cache-ttl"] == "120"


def test_bad_per_call_options_send_nothing(emulator: Any) -> None:
    model = make(emulator)
    with pytest.raises(GatewayError, match="cache_ttl"):
        model.invoke("hi", gateway_options={"cache_ttl": 5})
    assert model_requests(emulator) == []


# -- gateway metadata ---------------------------------------------------------------------------


@APIS
def test_gateway_metadata_and_cache_status(emulator: Any, api: str) -> None:
    model = make(emulator, api=api, gateway_options={"cache_ttl": 3600, "cache_key": f"cache-me-{api}"})
    first = model.invoke("cache me")
    second = model.invoke("cache me")
    meta = first.response_metadata["gateway"]
    assert meta["cache_status"] == "MISS"
    assert second.response_metadata["gateway"]["cache_status"] == "HIT"
    assert emulator.log(meta["log_id"]) is not None
    assert first.response_metadata["model_name"]
    assert first.response_metadata["finish_reason"] == "stop"
    assert first.response_metadata["id"] == first.id


@APIS
def test_gateway_metadata_when_streaming(emulator: Any, api: str) -> None:
    model = make(emulator, api=api)
    chunks = list(model.stream("tell me about streams"))
    with_gateway = [c for c in chunks if "gateway" in c.response_metadata]
    assert len(with_gateway) == 1, "gateway metadata must sit on exactly one chunk"
    assert with_gateway[0] is chunks[0]
    full = merged(chunks)
    log_id = full.response_metadata["gateway"]["log_id"]
    assert isinstance(log_id, str) and emulator.log(log_id) is not None
    assert full.response_metadata["gateway"]["cache_status"] == "MISS"
    assert full.response_metadata["finish_reason"] == "stop"
    assert isinstance(full.response_metadata["model_name"], str)
    assert full.usage_metadata is not None and full.usage_metadata["output_tokens"] > 0


# -- auth modes -----------------------------------------------------------------------------------


@APIS
def test_byok_sends_no_authorization_header(
    emulator: Any, api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator.configure(token=SECRET_TOKEN)
    # explicit byok: a provider key in the environment is not sent
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    explicit = make(emulator, api=api, cf_aig_token=SECRET_TOKEN, auth_mode="byok")
    assert explicit.invoke("hi").content
    # inferred byok: only the gateway token is set
    monkeypatch.delenv("OPENAI_API_KEY")
    inferred = make(emulator, api=api, cf_aig_token=SECRET_TOKEN)
    assert inferred.invoke("hi").content
    list(inferred.stream("hi"))
    assert len(model_requests(emulator)) == 3
    for request in model_requests(emulator):
        assert "authorization" not in request.headers
        assert request.headers["cf-aig-authorization"] == f"Bearer {SECRET_TOKEN}"


def test_authenticated_sends_both(emulator: Any) -> None:
    emulator.configure(token=SECRET_TOKEN)
    make(emulator, api_key=SECRET_KEY, cf_aig_token=SECRET_TOKEN).invoke("hi")
    headers = model_requests(emulator)[-1].headers
    assert headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert headers["cf-aig-authorization"] == f"Bearer {SECRET_TOKEN}"


def test_wrong_token_is_the_gateways_error_without_secrets(emulator: Any) -> None:
    emulator.configure(token="the-right-token")
    model = make(emulator, cf_aig_token=SECRET_TOKEN)
    with pytest.raises(GatewayAuthenticationError) as info:
        model.invoke("hi")
    assert info.value.code == 2009
    text = f"{info.value} {info.value!r} {info.value.args}"
    assert SECRET_TOKEN not in text and SECRET_KEY not in text


# -- errors --------------------------------------------------------------------------------------


@APIS
def test_core_errors_propagate_and_with_retry_works(emulator: Any, api: str) -> None:
    model = make(emulator, api=api, max_retries=0)
    emulator.fault(429, code=2003)
    with pytest.raises(GatewayRateLimitError):
        model.invoke("hi")
    emulator.fault(429, code=2003)
    retrying = model.with_retry(
        retry_if_exception_type=(GatewayRateLimitError,), stop_after_attempt=2,
        wait_exponential_jitter=False,
    )
    assert retrying.invoke("hi").content
    emulator.fault(500)
    with pytest.raises(ProviderError) as info:
        list(model.stream("hi"))
    assert info.value.status_code == 500


# -- content on the wire --------------------------------------------------------------------------


@APIS
def test_tool_call_ids_round_trip(emulator: Any, api: str) -> None:
    def get_weather(location: str) -> str:
        """Get the weather for a location."""
        return "sunny"

    model = make(emulator, api=api).bind_tools([get_weather], tool_choice="get_weather")
    question = HumanMessage("What is the weather in Paris?")
    call_message = model.invoke([question])
    assert isinstance(call_message, AIMessage)
    [call] = call_message.tool_calls
    assert call["name"] == "get_weather" and call["id"]
    answer = model.invoke(
        [question, call_message, ToolMessage("sunny", tool_call_id=call["id"])],
        tool_choice="none",
    )
    assert "sunny" in answer.text
    body = model_requests(emulator)[-1].json
    dumped = json.dumps(body)
    assert dumped.count(call["id"]) == 2  # the call and its result
    if api == "chat":
        assert body["messages"][1]["tool_calls"][0]["id"] == call["id"]
        assert body["messages"][2] == {"role": "tool", "content": "sunny", "tool_call_id": call["id"]}
    else:
        outputs = [i for i in body["input"] if i.get("type") == "function_call_output"]
        assert outputs == [{"type": "function_call_output", "call_id": call["id"], "output": "sunny"}]


def test_reasoning_items_are_sent_back_on_responses(emulator: Any) -> None:
    model = make(emulator, api="responses", model="o4-mini", reasoning={"effort": "low", "summary": "auto"})
    first = model.invoke("What is 2 + 2? Think first.")
    items = first.additional_kwargs["reasoning_items"]
    assert items and items[0]["type"] == "reasoning" and items[0]["id"].startswith("rs_")
    assert first.usage_metadata is not None
    assert first.usage_metadata["output_token_details"]["reasoning"] > 0
    model.invoke([HumanMessage("What is 2 + 2? Think first."), first, HumanMessage("And 3 + 3?")])
    sent = model_requests(emulator)[-1].json["input"]
    assert [i["id"] for i in sent if i.get("type") == "reasoning"] == [items[0]["id"]]
    # the same through a stream
    chunks = list(model.stream("What is 5 + 5? Think first."))
    full = merged(chunks)
    assert full.additional_kwargs["reasoning_items"][0]["id"].startswith("rs_")
    assert full.usage_metadata is not None
    assert full.usage_metadata["output_token_details"]["reasoning"] > 0


@APIS
def test_images_reach_the_wire(emulator: Any, api: str) -> None:
    import base64

    data = base64.b64encode(png_bytes()).decode()
    make(emulator, api=api).invoke(
        [
            HumanMessage(
                [
                    {"type": "text", "text": "describe"},
                    {"type": "image", "base64": data, "mime_type": "image/png"},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
                ]
            )
        ]
    )
    body = json.dumps(model_requests(emulator)[-1].json)
    assert f"data:image/png;base64,{data}" in body
    assert "https://example.com/a.png" in body


@APIS
def test_model_parameters_reach_the_wire(emulator: Any, api: str) -> None:
    model = make(emulator, api=api, temperature=0.3, top_p=0.9, max_tokens=50, seed=7,
                 model_kwargs={"user": "u-9"}, extra_body={"metadata": {"k": "v"}})
    model.invoke("hi", stop=["END"])
    body = model_requests(emulator)[-1].json
    assert body["model"] == "gpt-4o-mini"
    assert (body["temperature"], body["top_p"]) == (0.3, 0.9)
    assert body["metadata"] == {"k": "v"}
    assert body["user"] == "u-9"
    if api == "chat":
        assert body["max_completion_tokens"] == 50 and body["seed"] == 7 and body["stop"] == ["END"]
    else:
        assert body["max_output_tokens"] == 50
    # per call: extra_body and unknown fields win over the model's
    model.invoke("hi", extra_body={"metadata": {"k": "call"}}, user="u-call")
    body = model_requests(emulator)[-1].json
    assert body["metadata"] == {"k": "call"} and body["user"] == "u-call"


def test_malformed_tool_arguments_become_invalid_tool_calls(emulator: Any) -> None:
    reply = {
        "id": "chatcmpl-bad", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_bad", "type": "function",
                            "function": {"name": "f", "arguments": "{\"a\": 1"}}]}}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    emulator.script(json=reply)
    message = make(emulator).invoke("hi")
    assert message.tool_calls == []
    assert [(c["id"], c["name"], c["args"]) for c in message.invalid_tool_calls] == [
        ("call_bad", "f", '{"a": 1')
    ]


# -- secrets ---------------------------------------------------------------------------------------


class _Recorder(BaseCallbackHandler):
    def __init__(self) -> None:
        self.seen: list[str] = []

    def on_chat_model_start(self, serialized: Any, messages: Any, **kwargs: Any) -> None:
        self.seen.append(repr(serialized) + repr(kwargs))

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        self.seen.append(repr(kwargs))

    def on_llm_end(self, response: Any, **kwargs: Any) -> None:
        self.seen.append(repr(response) + repr(kwargs))

    def on_llm_error(self, error: BaseException, **kwargs: Any) -> None:
        self.seen.append(repr(error) + str(error) + repr(kwargs))


def test_secrets_never_reach_callbacks_or_errors(emulator: Any) -> None:
    emulator.configure(token=SECRET_TOKEN)
    model = make(emulator, api_key=SECRET_KEY, cf_aig_token=SECRET_TOKEN)
    recorder = _Recorder()
    model.invoke("hi", config={"callbacks": [recorder]})
    list(model.stream("hi", config={"callbacks": [recorder]}))
    emulator.fault(401)
    with pytest.raises(GatewayError):
        model.invoke("hi", config={"callbacks": [recorder]})
    assert len(recorder.seen) > 4
    for text in recorder.seen:
        assert SECRET_KEY not in text and SECRET_TOKEN not in text


@APIS
def test_streaming_true_streams_under_invoke(emulator: Any, api: str) -> None:
    model = make(emulator, api=api, streaming=True)
    reply = model.invoke("hello there")
    assert model_requests(emulator)[-1].json["stream"] is True
    assert "hello there" in reply.text.lower()
    assert reply.usage_metadata is not None and reply.usage_metadata["total_tokens"] > 0
    assert reply.response_metadata["gateway"]["log_id"]
    assert reply.response_metadata["finish_reason"] == "stop"


def test_stream_usage_can_be_turned_off(emulator: Any) -> None:
    chunks = list(make(emulator, stream_usage=False).stream("hi"))
    assert "stream_options" not in model_requests(emulator)[-1].json
    assert merged(chunks).usage_metadata is None
    list(make(emulator).stream("hi", stream_usage=True))
    assert model_requests(emulator)[-1].json["stream_options"] == {"include_usage": True}


def test_load_adapter_builds_the_model_from_the_environment(emulator: Any) -> None:
    from cf_ai_gateway import load_adapter

    model = load_adapter("langchain", model="gpt-4o-mini", api="responses")
    assert isinstance(model, ChatCloudflareAIGateway)
    assert model.invoke("hi").response_metadata["gateway"]["log_id"]


def test_token_counting_is_approximate_but_available(emulator: Any) -> None:
    model = make(emulator)
    short = model.get_num_tokens_from_messages([HumanMessage("hi")])
    long = model.get_num_tokens_from_messages([HumanMessage("hi " * 200)])
    assert 0 < short < long
    assert model.get_num_tokens("four words in here") > 0


@APIS
def test_one_model_across_event_loops(emulator: Any, api: str) -> None:
    """``asyncio.run`` twice (notebooks, scripts, sync frameworks) must not reuse a dead loop."""
    import asyncio

    model = make(emulator, api=api)

    async def call() -> tuple[str, int]:
        reply = await model.ainvoke("hi")
        chunks = [c async for c in model.astream("hi")]
        return reply.text, len(chunks)

    for _ in range(3):
        text, count = asyncio.run(call())
        assert text and count > 1
    assert model.invoke("and sync").text
    assert len(model_requests(emulator)) == 7
