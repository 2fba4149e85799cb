"""Copies of ``CloudflareAIGatewayLLM``: ``model_copy`` (with and without updates) and ``deepcopy``.

A copy with updated settings must check them as the constructor does (``ConfigurationError``
naming the argument, nothing sent, no secret echoed), keep updated secrets as ``SecretStr`` and
send them on its own client, while the original keeps sending its own settings.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from llama_index.core.bridge.pydantic import SecretStr
from llama_index.core.llms import ChatMessage

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.emulator import Emulator
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

from .conftest import API_KEY, GATEWAY_TOKEN, model_requests

QUESTION = [ChatMessage(role="user", content="Who answers this copy?")]
NEW_KEY = "sk-llamaindex-replacement-key-987654"


def test_copy_with_a_new_key_sends_it_and_the_original_keeps_its_own(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    llm = make_llm(api=api)
    llm.chat(QUESTION)  # the original's client exists before the copy
    copied = llm.model_copy(update={"api_key": NEW_KEY})
    assert isinstance(copied.api_key, SecretStr)
    assert copied.api_key.get_secret_value() == NEW_KEY
    assert NEW_KEY not in repr(copied) and NEW_KEY not in copied.to_json()
    assert copied.gateway is not llm.gateway
    copied.chat(QUESTION)
    list(copied.stream_chat(QUESTION))
    llm.chat(QUESTION)
    keys = [r.header("authorization") for r in model_requests(emulator)]
    assert keys == [
        f"Bearer {API_KEY}",
        f"Bearer {NEW_KEY}",
        f"Bearer {NEW_KEY}",
        f"Bearer {API_KEY}",
    ]


def test_copy_with_a_gateway_token_and_options_uses_them(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    emulator.configure(token=GATEWAY_TOKEN)
    llm = make_llm(cf_aig_token="cfaig-old-token-000000000000")
    copied = llm.model_copy(
        update={"cf_aig_token": SecretStr(GATEWAY_TOKEN), "gateway_options": {"cache_ttl": 120}}
    )
    assert copied.gateway_options == {"cache_ttl": 120}
    copied.chat(QUESTION)
    (request,) = model_requests(emulator)
    assert request.header("cf-aig-authorization") == f"Bearer {GATEWAY_TOKEN}"
    assert request.header("cf-aig-cache-ttl") == "120"


def test_copy_with_a_new_gateway_id_and_model(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    llm = make_llm()
    copied = llm.model_copy(update={"gateway_id": "copied-gw", "model": "gpt-4o", "stop": "END"})
    assert copied.stop == ["END"]
    assert copied.metadata.model_name == "gpt-4o" and llm.metadata.model_name == "gpt-4o-mini"
    copied.chat(QUESTION)
    (request,) = model_requests(emulator)
    assert "/copied-gw/openai/" in request.path
    assert request.json["model"] == "gpt-4o" and request.json["stop"] == ["END"]


@pytest.mark.parametrize(
    ("update", "names"),
    [
        ({"api_key": 12345}, ("api_key",)),
        ({"base_url": 5}, ("base_url", "CF_AIG_BASE_URL")),
        ({"account_id": "../evil"}, ("account_id",)),
        ({"temperature": 9.0}, ("temperature",)),
        ({"timeout": "soon"}, ("timeout",)),
        ({"seed": "not-a-number"}, ("seed",)),
        ({"gateway_options": {"cache_ttl": 1}}, ("cache_ttl",)),
        ({"default_headers": 5}, ("default_headers",)),
        ({"api": "completions"}, ("api",)),
        ({"temprature": 0.5}, ("temprature",)),
    ],
)
def test_bad_updates_raise_configuration_error_and_send_nothing(
    make_llm: Callable[..., CloudflareAIGatewayLLM],
    emulator: Emulator,
    update: dict[str, object],
    names: tuple[str, ...],
) -> None:
    llm = make_llm()
    with pytest.raises(ConfigurationError) as info:
        llm.model_copy(update=update)
    message = str(info.value)
    for name in names:
        assert name in message
    assert API_KEY not in message
    assert model_requests(emulator) == []


def test_copies_without_updates_and_deep_copies_work(
    make_llm: Callable[..., CloudflareAIGatewayLLM], emulator: Emulator
) -> None:
    llm = make_llm(temperature=0.2)
    llm.chat(QUESTION)
    shallow = llm.model_copy()
    deep = llm.model_copy(deep=True)
    deep_updated = llm.model_copy(update={"api_key": NEW_KEY}, deep=True)
    copied = copy.deepcopy(llm)
    for other in (shallow, deep, deep_updated, copied):
        assert other.temperature == 0.2
        assert other.chat(QUESTION).message.content
    assert deep.gateway is not llm.gateway and copied.gateway is not llm.gateway
    keys = [r.header("authorization") for r in model_requests(emulator)]
    assert keys == [f"Bearer {API_KEY}"] * 3 + [f"Bearer {NEW_KEY}", f"Bearer {API_KEY}"]
