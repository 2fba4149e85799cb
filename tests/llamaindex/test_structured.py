"""Native structured output on both endpoints: every structured path sends a strict JSON schema.

``structured_predict``, ``astructured_predict``, ``stream_structured_predict``,
``astream_structured_predict`` and ``as_structured_llm`` (chat, achat, stream_chat, astream_chat)
must ask for the ``json_schema`` response format (``response_format`` on ``chat/completions``,
``text.format`` on ``responses``) with no tools, and return validated objects. The emulator's
model answers schema-valid JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel, Field

from cf_ai_gateway.emulator import Emulator
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

from .conftest import model_requests

# StructuredLLM's streams call pydantic's deprecated ``.json()`` inside LlamaIndex.
pytestmark = pytest.mark.filterwarnings("ignore:The `json` method is deprecated:DeprecationWarning")


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):
    """A person with an address."""

    name: str
    age: int = Field(description="Age in years")
    nicknames: list[str]
    address: Address
    email: str | None = None


PROMPT = PromptTemplate("Extract the person from: {text}")
TEXT = "Ada Lovelace, 36, known as The Enchantress, lives at 12 St James's Square, London."


def check_schema_request(emulator: Emulator, api: str) -> None:
    requests = model_requests(emulator)
    assert requests
    for request in requests:
        body = request.json
        assert "tools" not in body
        if api == "chat":
            response_format = body["response_format"]
            assert response_format["type"] == "json_schema"
            spec = response_format["json_schema"]
        else:
            spec = body["text"]["format"]
            assert spec["type"] == "json_schema"
        assert spec["name"] == "Person" and spec["strict"] is True
        schema = spec["schema"]
        assert schema["additionalProperties"] is False
        assert schema["required"] == ["name", "age", "nicknames", "address", "email"]


def check_person(person: Any) -> None:
    assert isinstance(person, Person)
    assert person.name and isinstance(person.age, int)
    assert isinstance(person.address, Address)


def test_structured_predict(llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator) -> None:
    check_person(llm.structured_predict(Person, PROMPT, text=TEXT))
    check_schema_request(emulator, api)
    body = model_requests(emulator)[0].json
    text = str(body.get("messages") or body.get("input"))
    assert "Ada Lovelace" in text


async def test_astructured_predict(
    llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator
) -> None:
    check_person(await llm.astructured_predict(Person, PROMPT, text=TEXT))
    check_schema_request(emulator, api)


def test_stream_structured_predict(
    llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator
) -> None:
    partials = list(llm.stream_structured_predict(Person, PROMPT, text=TEXT))
    assert len(partials) > 1
    check_person(partials[-1])
    assert partials[-1] == llm.structured_predict(Person, PROMPT, text=TEXT)
    check_schema_request(emulator, api)


async def test_astream_structured_predict(
    llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator
) -> None:
    partials = [p async for p in await llm.astream_structured_predict(Person, PROMPT, text=TEXT)]
    check_person(partials[-1])
    check_schema_request(emulator, api)


async def test_as_structured_llm(llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator) -> None:
    structured = llm.as_structured_llm(Person)
    messages = [ChatMessage(role="user", content=TEXT)]
    response = structured.chat(messages)
    check_person(response.raw)
    assert Person.model_validate_json(response.message.content or "") == response.raw
    check_person((await structured.achat(messages)).raw)
    chunks = list(structured.stream_chat(messages))
    check_person(chunks[-1].raw)
    achunks = [c async for c in await structured.astream_chat(messages)]
    check_person(achunks[-1].raw)
    check_schema_request(emulator, api)


def test_llm_kwargs_pass_through_and_tool_choice_is_dropped(
    llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator
) -> None:
    llm.structured_predict(
        Person, PROMPT, llm_kwargs={"temperature": 0.0, "tool_choice": "required"}, text=TEXT
    )
    body = model_requests(emulator)[0].json
    assert body["temperature"] == 0.0 and "tool_choice" not in body


def test_system_prompt_goes_first(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    make_llm(api=api, system_prompt="You extract data.").structured_predict(
        Person, PROMPT, text=TEXT
    )
    body = model_requests(emulator)[0].json
    if api == "chat":
        assert body["messages"][0] == {"role": "system", "content": "You extract data."}
    else:
        first = body["input"][0] if body.get("input") else None
        assert "You extract data." in str(body.get("instructions")) + str(first)


def test_refusal_raises(llm: CloudflareAIGatewayLLM, api: str, emulator: Emulator) -> None:
    if api == "chat":
        reply: dict[str, Any] = {
            "id": "chatcmpl-r",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-mini",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "refusal": "I can't help with that.",
                    },
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
        }
    else:
        reply = {
            "id": "resp_r",
            "object": "response",
            "created_at": 1,
            "status": "completed",
            "model": "gpt-4o-mini",
            "output": [
                {
                    "type": "message",
                    "id": "msg_r",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "refusal", "refusal": "I can't help with that."}],
                }
            ],
            "usage": {"input_tokens": 5, "output_tokens": 5, "total_tokens": 10},
        }
    emulator.script(json=reply)
    with pytest.raises(ValueError, match="refused"):
        llm.structured_predict(Person, PROMPT, text=TEXT)


def test_function_mode_uses_the_base_program(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    llm = make_llm(api=api, pydantic_program_mode=PydanticProgramMode.FUNCTION)
    check_person(llm.structured_predict(Person, PROMPT, text=TEXT))
    body = model_requests(emulator)[0].json
    assert body["tools"] and "response_format" not in body


def test_function_mode_streams_through_streamed_tool_calls(
    make_llm: Callable[..., CloudflareAIGatewayLLM], api: str, emulator: Emulator
) -> None:
    """LlamaIndex's function-calling program reads ``additional_kwargs["tool_calls"]`` per chunk."""
    llm = make_llm(api=api, pydantic_program_mode=PydanticProgramMode.FUNCTION)
    partials = list(llm.stream_structured_predict(Person, PROMPT, text=TEXT))
    check_person(partials[-1])
    body = model_requests(emulator)[0].json
    assert body["stream"] is True and body["tools"]
