"""The chat model's ``profile`` comes from the core catalog; agents and middleware read it."""

from __future__ import annotations

from typing import Any

from cf_ai_gateway.emulator import Emulator
from langchain_cf_ai_gateway import ChatCloudflareAIGateway

API_KEY = "sk-test-provider-key-0123456789"


def model(emulator: Emulator | None = None, **kwargs: Any) -> ChatCloudflareAIGateway:
    settings: dict[str, Any] = {"account_id": "acct123", "api_key": API_KEY}
    if emulator is not None:
        settings.update(
            account_id=emulator.account_id, base_url=emulator.base_url, cf_aig_token=emulator.token
        )
    return ChatCloudflareAIGateway(**{**settings, **kwargs})


def test_profile_from_the_catalog() -> None:
    profile = model(model="gpt-4.1-mini").profile
    assert profile is not None
    assert profile["max_input_tokens"] == 1047576
    assert profile["structured_output"] and profile["tool_calling"] and profile["image_inputs"]
    reasoning = model(model="o3-mini").profile
    assert reasoning is not None and reasoning["reasoning_output"]


def test_unknown_models_get_a_safe_default_and_users_their_own() -> None:
    profile = model(model="some-new-model").profile
    assert profile is not None
    assert profile["max_input_tokens"] == 8192 and not profile["structured_output"]
    own = model(model="some-new-model", profile={"max_input_tokens": 32000}).profile
    assert own == {"max_input_tokens": 32000}


def test_summarization_middleware_with_a_fractional_trigger_runs(emulator: Emulator) -> None:
    from langchain.agents import create_agent
    from langchain.agents.middleware import SummarizationMiddleware

    chat = model(emulator, model="gpt-4o-mini", profile={"max_input_tokens": 400})
    agent = create_agent(
        chat,
        tools=[],
        middleware=[SummarizationMiddleware(chat, trigger=("fraction", 0.5), keep=("messages", 1))],
    )
    history = [
        ("user", "Tell me about Cloudflare. " * 80),
        ("assistant", "It is a network."),
        ("user", "And AI Gateway?"),
    ]
    state = agent.invoke({"messages": history})
    assert state["messages"][-1].content
    assert len(state["messages"]) < len(history) + 1  # older turns were summarised away


def test_fractional_trigger_uses_the_catalog_profile(emulator: Emulator) -> None:
    from langchain.agents import create_agent
    from langchain.agents.middleware import SummarizationMiddleware

    chat = model(emulator, model="gpt-4o-mini")  # no profile given: the catalog's
    agent = create_agent(
        chat, tools=[], middleware=[SummarizationMiddleware(chat, trigger=("fraction", 0.8))]
    )
    state = agent.invoke({"messages": [("user", "Hello")]})
    assert [m.type for m in state["messages"]] == ["human", "ai"]
