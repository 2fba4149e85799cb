"""Per-call HTTP options through the LangChain adapter, against the emulator over real sockets.

``timeout``, ``extra_headers`` and ``extra_query`` are options of the HTTP request (as with
ChatOpenAI and the OpenAI SDK), never request-body fields: a timeout bounds that one call,
extra headers reach the wire beside the model's ``default_headers``, auth headers are refused,
and ``extra_query`` is refused because the gateway's provider routes take no query. Bad values
raise :class:`cf_ai_gateway.ConfigurationError` before anything is sent.
"""

from __future__ import annotations

from typing import Any

import pytest

from cf_ai_gateway import ConfigurationError, GatewayTimeoutError
from langchain_cf_ai_gateway import ChatCloudflareAIGateway

APIS = pytest.mark.parametrize("api", ["chat", "responses"])
SECRET_KEY = "sk-lc-secret-provider-key-987654321"
HTTP_OPTION_NAMES = ("timeout", "request_timeout", "extra_headers", "extra_query")


@pytest.fixture(autouse=True)
def _emulator(_clean_env: None, emulator: Any) -> Any:
    return emulator


def make(emulator: Any, **kwargs: Any) -> ChatCloudflareAIGateway:
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("account_id", emulator.account_id)
    kwargs.setdefault("base_url", emulator.base_url)
    kwargs.setdefault("api_key", SECRET_KEY)
    return ChatCloudflareAIGateway(**kwargs)


def model_requests(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith(("/chat/completions", "/responses"))]


def assert_no_http_options_in_body(body: dict[str, Any]) -> None:
    for name in HTTP_OPTION_NAMES:
        assert name not in body


@APIS
def test_extra_headers_are_headers_not_body(emulator: Any, api: str) -> None:
    model = make(emulator, api=api, default_headers={"x-team": "search", "x-trace": "model"})
    reply = model.invoke("hi", extra_headers={"x-trace": "call-1"}, timeout=30)
    assert reply.text
    sent = model_requests(emulator)[-1]
    assert sent.headers["x-trace"] == "call-1"  # the call's value wins
    assert sent.headers["x-team"] == "search"
    assert_no_http_options_in_body(sent.json)
    chunks = list(model.stream("hi", extra_headers={"x-trace": "call-2"}, timeout=30))
    assert "".join(chunk.text for chunk in chunks)
    sent = model_requests(emulator)[-1]
    assert sent.headers["x-trace"] == "call-2"
    assert_no_http_options_in_body(sent.json)


async def test_async_calls_send_extra_headers(emulator: Any) -> None:
    model = make(emulator)
    await model.ainvoke("hi", extra_headers={"x-trace": "async-1"}, timeout=30)
    assert model_requests(emulator)[-1].headers["x-trace"] == "async-1"
    async for _ in model.astream("hi", extra_headers={"x-trace": "async-2"}):
        pass
    sent = model_requests(emulator)[-1]
    assert sent.headers["x-trace"] == "async-2"
    assert_no_http_options_in_body(sent.json)


def test_bound_http_options_and_model_kwargs_stay_out_of_the_body(emulator: Any) -> None:
    model = make(emulator, model_kwargs={"extra_headers": {"x-from": "kwargs"}})
    model.bind(extra_headers={"x-bound": "yes"}, timeout=30).invoke("hi")
    sent = model_requests(emulator)[-1]
    assert sent.headers["x-from"] == "kwargs" and sent.headers["x-bound"] == "yes"
    assert_no_http_options_in_body(sent.json)


def test_per_call_timeout_bounds_that_call(emulator: Any) -> None:
    model = make(emulator, max_retries=0, timeout=30)
    emulator.fault(delay=5.0)
    with pytest.raises(GatewayTimeoutError):
        model.invoke("hi", timeout=0.2)
    emulator.fault(delay=5.0)
    with pytest.raises(GatewayTimeoutError):
        list(model.stream("hi", timeout=0.2))


async def test_per_call_timeout_bounds_async_calls(emulator: Any) -> None:
    model = make(emulator, max_retries=0)
    emulator.fault(delay=5.0)
    with pytest.raises(GatewayTimeoutError):
        await model.ainvoke("hi", timeout=0.2)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"extra_query": {"api-version": "1"}}, ["extra_query", "extra_body"]),
        ({"extra_headers": {"Authorization": "Bearer x"}}, ["extra_headers", "Authorization"]),
        ({"extra_headers": {"cf-aig-authorization": "x"}}, ["extra_headers"]),
        ({"extra_headers": ["x-trace"]}, ["extra_headers"]),
        ({"extra_headers": {"x-bad": "a\r\nb"}}, ["extra_headers"]),
        ({"timeout": -1}, ["timeout"]),
        ({"timeout": "soon"}, ["timeout"]),
    ],
)
@APIS
def test_bad_http_options_send_nothing(
    emulator: Any, api: str, kwargs: dict[str, Any], names: list[str]
) -> None:
    model = make(emulator, api=api)
    with pytest.raises(ConfigurationError) as info:
        model.invoke("hi", **kwargs)
    for name in names:
        assert name in str(info.value)
    with pytest.raises(ConfigurationError):
        list(model.stream("hi", **kwargs))
    assert model_requests(emulator) == []
