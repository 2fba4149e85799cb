"""Bad input to the LangChain adapter raises ``ConfigurationError`` naming the argument.

At construction, per call and at ``bind_tools``: the error names the argument (and its
environment variable where it has one), never echoes the value given (it may be a secret), is
not a pydantic ``ValidationError`` chained to one that does, and nothing reaches the emulator.
A string ``reasoning`` is accepted as the effort, as ChatOpenAI's ``reasoning_effort``.
"""

from __future__ import annotations

import traceback
from typing import Any

import pytest
from pydantic import ValidationError

from cf_ai_gateway import ConfigurationError
from langchain_cf_ai_gateway import ChatCloudflareAIGateway

APIS = pytest.mark.parametrize("api", ["chat", "responses"])
SECRET_KEY = "sk-lc-secret-provider-key-987654321"
NAMELESS_TOOL = {"type": "function", "function": {"parameters": {"type": "object"}}}


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


def model_requests(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith(("/chat/completions", "/responses"))]


def full_text(exc: BaseException) -> str:
    """Everything a traceback would show, chained exceptions included."""
    return "".join(traceback.format_exception(exc))


# -- construction ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "secret", "names"),
    [
        ({"cf_aig_token": 918273645}, "918273645", ["cf_aig_token", "CF_AIG_TOKEN", "string"]),
        ({"api_key": 918273645}, "918273645", ["api_key", "OPENAI_API_KEY", "string"]),
        (
            {"api_key": 918273645, "provider": "groq"},
            "918273645",
            ["api_key", "GROQ_API_KEY"],
        ),
        ({"api": "chat/completions"}, "chat/completions", ["api", "'chat'", "'responses'"]),
        ({"auth_mode": "sk-looks-like-a-key"}, "sk-looks-like-a-key", ["auth_mode", "'byok'"]),
        ({"account_id": 55501234}, "55501234", ["account_id", "CF_ACCOUNT_ID"]),
        ({"default_headers": {"x-key": 31415926}}, "31415926", ["default_headers"]),
        ({"extra_body": 5}, "input_value", ["extra_body", "dict"]),
        ({"temperature": "very-hot"}, "very-hot", ["temperature", "number"]),
    ],
)
def test_type_errors_name_the_field_without_echoing_the_value(
    emulator: Any, kwargs: dict[str, Any], secret: str, names: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as info:
        make(emulator, **kwargs)
    assert not isinstance(info.value, ValidationError)
    text = full_text(info.value)
    assert secret not in text and "input_value" not in text
    for name in names:
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"model_kwargs": 5}, ["model_kwargs", "dict"]),
        ({"reasoning": 5}, ["reasoning", "effort"]),
        ({"reasoning": {"effort": 3}}, ["reasoning['effort']"]),
        ({"timeout": -1}, ["timeout"]),
        ({"max_retries": -1}, ["max_retries"]),
        ({"http_client": "httpx"}, ["http_client", "httpx.Client"]),
        ({"http_async_client": object()}, ["http_async_client", "httpx.AsyncClient"]),
        ({"provider": ["groq"]}, ["provider"]),
    ],
)
def test_bad_arguments_raise_configuration_error(
    emulator: Any, kwargs: dict[str, Any], names: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as info:
        make(emulator, **kwargs)
    for name in names:
        assert name in str(info.value)


def test_model_copy_checks_the_updated_settings(emulator: Any) -> None:
    model = make(emulator)
    with pytest.raises(ConfigurationError, match="reasoning"):
        model.model_copy(update={"reasoning": 7})
    with pytest.raises(ConfigurationError, match="timeout"):
        model.model_copy(update={"timeout": 0})


# -- reasoning as an effort string -------------------------------------------------------------


def test_reasoning_string_is_the_effort(emulator: Any) -> None:
    make(emulator, model="o4-mini", reasoning="high").invoke("hi")
    assert model_requests(emulator)[-1].json["reasoning_effort"] == "high"
    make(emulator, model="o4-mini").invoke("hi", reasoning="low")
    assert model_requests(emulator)[-1].json["reasoning_effort"] == "low"
    model = make(emulator, model="o4-mini", api="responses", reasoning="medium")
    model.invoke("hi")
    assert model_requests(emulator)[-1].json["reasoning"]["effort"] == "medium"
    model.invoke("hi", reasoning={"effort": "low", "summary": "auto"})
    assert model_requests(emulator)[-1].json["reasoning"] == {"effort": "low", "summary": "auto"}


# -- per call ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"tools": [NAMELESS_TOOL]}, ["tools[0]", "name"]),
        ({"tools": [{"type": "function", "parameters": {}}]}, ["tools[0]", "name"]),
        (
            {"tools": [{"type": "function", "function": {"name": "f", "parameters": "x"}}]},
            ["tools[0]", "parameters"],
        ),
        ({"tools": "get_weather"}, ["tools"]),
        ({"reasoning": 5}, ["reasoning"]),
        ({"extra_body": 5}, ["extra_body"]),
        ({"model_kwargs": 5}, ["model_kwargs"]),
    ],
)
@APIS
def test_bad_call_arguments_send_nothing(
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


async def test_bad_async_call_arguments_send_nothing(emulator: Any) -> None:
    model = make(emulator)
    with pytest.raises(ConfigurationError, match="tools"):
        await model.ainvoke("hi", tools=[NAMELESS_TOOL])
    with pytest.raises(ConfigurationError, match="extra_body"):
        async for _ in model.astream("hi", extra_body=["x"]):
            pass
    assert model_requests(emulator) == []


def test_per_call_model_kwargs_reach_the_wire(emulator: Any) -> None:
    make(emulator).invoke("hi", model_kwargs={"user": "u-7", "max_completion_tokens": 9})
    body = model_requests(emulator)[-1].json
    assert body["user"] == "u-7" and body["max_completion_tokens"] == 9
    assert "model_kwargs" not in body


# -- bind_tools --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tools", "names"),
    [
        ([NAMELESS_TOOL], ["tools[0]", "name"]),
        ([{"description": "no schema"}], ["tools[0]"]),
        ([42], ["tools[0]"]),
    ],
)
def test_bind_tools_rejects_bad_tools_at_bind_time(
    emulator: Any, tools: list[Any], names: list[str]
) -> None:
    with pytest.raises(ConfigurationError) as info:
        make(emulator).bind_tools(tools)
    for name in names:
        assert name in str(info.value)
    assert model_requests(emulator) == []
