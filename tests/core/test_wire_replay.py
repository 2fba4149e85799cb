"""Replay real recorded OpenAI traffic through the wire converters.

Every recording file is fed through ``parse_result`` or a ``StreamHandler``, and the neutral
result is checked against what the recording itself says (texts and arguments recomputed from
the raw bodies and events by the ``check_*`` helpers in ``recordings``). The request side is checked by rebuilding recorded request
bodies from neutral requests.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from cf_ai_gateway.wire import chat, responses
from cf_ai_gateway.wire.types import (
    ChatRequest,
    FunctionTool,
    Message,
    ResponseFormat,
    ToolCall,
)

from .recordings import (
    FIXTURE_JSON_DIR,
    FIXTURE_SSE_DIR,
    cassette,
    cassette_files,
    check_chat_object,
    check_chat_stream,
    check_responses_object,
    check_responses_stream,
    feed_chat,
    feed_responses,
    fixture_json_files,
    fixture_sse_files,
    interaction_params,
    load_json,
    output_text,
    sse_events,
)

# --- every recording ---------------------------------------------------------------------------


@pytest.mark.parametrize("interaction", interaction_params())
def test_cassette_interaction_replays(interaction: dict[str, Any]) -> None:
    response = interaction["response"]
    if response["status"] != 200:
        assert not response["sse"]
        assert isinstance(response["body"], dict)
        return
    if interaction["api"] == "chat.completions":
        if response["sse"]:
            check_chat_stream(response["body"])
        else:
            check_chat_object(response["body"])
    elif response["sse"]:
        check_responses_stream(response["body"])
    else:
        check_responses_object(response["body"])


@pytest.mark.parametrize("path", fixture_json_files(), ids=lambda p: p.stem)
def test_fixture_body_replays(path: Any) -> None:
    body = load_json(path)
    if body["object"] == "response":
        check_responses_object(body)
    else:
        check_chat_object(body)


@pytest.mark.parametrize("path", fixture_sse_files(), ids=lambda p: p.stem)
def test_fixture_stream_replays(path: Any) -> None:
    check_chat_stream(path.read_text(encoding="utf-8"))


def test_every_recording_is_replayed() -> None:
    assert len(cassette_files()) >= 21
    assert len(fixture_json_files()) >= 15
    assert len(fixture_sse_files()) >= 12


# --- what particular recordings show ----------------------------------------------------------


def test_incomplete_reply_keeps_its_text() -> None:
    plain, streamed = cassette("test_incomplete_response")
    for result in (
        responses.parse_result(plain["response"]["body"]),
        check_responses_stream(streamed["response"]["body"]),
    ):
        assert result.status == "incomplete"
        assert result.finish_reason == "length"
        assert result.text


def test_incomplete_stream_without_final_text_keeps_streamed_text() -> None:
    events = sse_events(cassette("test_incomplete_response")[1]["response"]["body"])
    final = events[-1]
    stripped = {**final, "response": {**final["response"], "output": []}}
    handler, _ = feed_responses([*events[:-1], stripped])
    result = handler.result()
    assert result.text == output_text(final["response"])
    assert result.status == "incomplete"
    assert result.finish_reason == "length"


def test_refusal_is_reported() -> None:
    body = load_json(FIXTURE_JSON_DIR / "chat_completions__test_parse_pydantic_model_refusal.json")
    assert chat.parse_result(body).refusal == "I'm very sorry, but I can't assist with that."
    for name in ("test_parse_pydantic_model_refusal", "test_refusal_logprobs_events"):
        path = FIXTURE_SSE_DIR / f"chat_completions_stream__{name}.sse"
        result = check_chat_stream(path.read_text(encoding="utf-8"))
        assert result.refusal and result.refusal.startswith("I'm")
        assert result.text == ""


def test_max_tokens_reached_is_length() -> None:
    json_path = FIXTURE_JSON_DIR / "chat_completions__test_parse_max_tokens_reached.json"
    assert chat.parse_result(load_json(json_path)).finish_reason == "length"
    sse_path = FIXTURE_SSE_DIR / "chat_completions_stream__test_parse_max_tokens_reached.sse"
    assert check_chat_stream(sse_path.read_text(encoding="utf-8")).finish_reason == "length"


def test_multiple_choices_follow_the_first() -> None:
    path = (
        fixture_sse_files()[0].parent
        / "chat_completions_stream__test_parse_pydantic_model_multiple_choices.sse"
    )
    handler, _, events = feed_chat(path.read_text(encoding="utf-8"))
    first_choice = "".join(
        c["delta"].get("content") or "" for e in events for c in e["choices"] if c["index"] == 0
    )
    assert handler.result().text == first_choice
    assert json.loads(first_choice)  # a whole JSON reply, not three interleaved


def test_reasoning_items_and_summary() -> None:
    plain, streamed = cassette("test_reasoning")
    for result in (
        check_responses_object(plain["response"]["body"]),
        check_responses_stream(streamed["response"]["body"]),
    ):
        assert len(result.reasoning_items) == 1
        assert result.reasoning_items[0]["id"].startswith("rs_")
        assert result.text

    summary_stream, follow_up = cassette("test_stream_reasoning_summary")
    result = check_responses_stream(summary_stream["response"]["body"])
    item = result.reasoning_items[0]
    assert len(item["summary"]) == 3
    assert result.reasoning == "\n\n".join(part["text"] for part in item["summary"])
    # The follow-up request sent that same reasoning item back.
    sent = follow_up["request"]["body"]["input"]
    assert any(i.get("type") == "reasoning" and i["id"] == item["id"] for i in sent)
    assert check_responses_object(follow_up["response"]["body"]).reasoning


def test_built_in_tool_items_are_kept() -> None:
    result = check_responses_object(cassette("test_function_calling")[2]["response"]["body"])
    assert [item["type"] for item in result.output_items] == ["web_search_call"]
    assert result.text


def test_streamed_tool_call_round_trip() -> None:
    first, second = cassette("test_agent_loop_streaming")
    result = check_responses_stream(first["response"]["body"])
    assert result.finish_reason == "tool_calls"
    call = result.tool_calls[0]
    assert call.parsed_arguments() == {"location": "San Francisco, CA"}
    # The recorded follow-up echoes the reasoning item and the call it made.
    sent = second["request"]["body"]["input"]
    assert {"type": "function_call", "call_id": call.id, "id": call.item_id}.items() <= sent[
        2
    ].items()
    assert sent[1]["id"] == result.reasoning_items[0]["id"]


def test_unicode_tool_arguments() -> None:
    for interaction in cassette("TestChatOpenAICodexStandard.test_unicode_tool_call_integration"):
        result = check_responses_stream(interaction["response"]["body"])
        args = result.tool_calls[0].parsed_arguments()
        assert any(not value.isascii() for value in args.values() if isinstance(value, str))


def test_chat_stream_usage_chunk() -> None:
    interaction = cassette("TestOpenAIStandard.test_stream_time")[0]
    result = check_chat_stream(interaction["response"]["body"])
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.output_tokens) == (14, 877)
    assert result.finish_reason == "stop"


# --- request side: neutral requests rebuild the recorded bodies --------------------------------

WEATHER = FunctionTool(
    name="get_weather",
    description="Get the weather at a location.",
    parameters={
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
        "type": "object",
    },
)
TERSE = "You are terse. Answer in five words or fewer."


def _user(text: str) -> Message:
    return Message(role="user", content=text)


def _request_cases() -> list[Any]:
    weather_question = _user("What is the weather in San Francisco, CA?")
    cases: list[tuple[str, int, str, ChatRequest, bool]] = [
        (
            "test_streaming_tool_call_v1_v2_parity",
            0,
            "chat",
            ChatRequest(
                model="gpt-4o-mini",
                messages=[_user("Extract: Erick is 27 years old.")],
                temperature=0.0,
                tool_choice="_Person",
                stream_usage=False,
                tools=[
                    FunctionTool(
                        name="_Person",
                        description="A person with a name and age.",
                        parameters={
                            "properties": {
                                "name": {"description": "The person's name", "type": "string"},
                                "age": {
                                    "description": "The person's age in years",
                                    "type": "integer",
                                },
                            },
                            "required": ["name", "age"],
                            "type": "object",
                        },
                    )
                ],
            ),
            True,
        ),
        (
            "TestOpenAIStandard.test_stream_time",
            0,
            "chat",
            ChatRequest(model="gpt-4o-mini", messages=[_user("Write a story about a cat.")]),
            True,
        ),
        (
            "test_schema_parsing_failures",
            0,
            "chat",
            ChatRequest(
                model="gpt-5-nano",
                messages=[_user("respond with good")],
                response_format=ResponseFormat(
                    type="json_schema",
                    name="BadModel",
                    strict=True,
                    schema={
                        "properties": {"response": {"title": "Response", "type": "string"}},
                        "required": ["response"],
                        "title": "BadModel",
                        "type": "object",
                        "additionalProperties": False,
                    },
                ),
            ),
            False,
        ),
        (
            "TestChatOpenAICodexStandard.test_stop_sequence",
            0,
            "responses",
            ChatRequest(model="gpt-5.5", messages=[_user("hi")], instructions=TERSE, store=False),
            True,
        ),
        (
            "TestChatOpenAICodexStandard.test_agent_loop[model0]",
            1,
            "responses",
            ChatRequest(
                model="gpt-5.5",
                instructions=TERSE,
                store=False,
                tools=[WEATHER],
                messages=[
                    weather_question,
                    Message(
                        role="assistant",
                        tool_calls=[
                            ToolCall(
                                id="call_p2jF2EEaeEfprerXgHGpzB1H",
                                name="get_weather",
                                arguments='{"location":"San Francisco, CA"}',
                                item_id="fc_09aca77ef06283ca016a0e8f77b46c8199b64f9d0cadf0d9f8",
                            )
                        ],
                    ),
                    Message(
                        role="tool",
                        content="It's sunny.",
                        tool_call_id="call_p2jF2EEaeEfprerXgHGpzB1H",
                    ),
                ],
            ),
            True,
        ),
        (
            "test_agent_loop_streaming",
            1,
            "responses",
            ChatRequest(
                model="gpt-5.2",
                reasoning_effort="medium",
                reasoning_summary="auto",
                tools=[
                    FunctionTool(
                        name="get_weather",
                        description="Get the weather for a location.",
                        parameters=WEATHER.parameters,
                    )
                ],
                messages=[
                    weather_question,
                    Message(
                        role="assistant",
                        reasoning_items=[
                            {
                                "id": "rs_029d9e2b7350eaff0069ad6b7bdb7c81918f7fd20e0be4e575",
                                "summary": [],
                                "type": "reasoning",
                            }
                        ],
                        tool_calls=[
                            ToolCall(
                                id="call_i6xKhAibHFyhNK5A858ausTW",
                                name="get_weather",
                                arguments='{"location":"San Francisco, CA"}',
                                item_id="fc_029d9e2b7350eaff0069ad6b7c9eac81918fd3a5d193dd5f30",
                            )
                        ],
                    ),
                    Message(
                        role="tool",
                        content="It's sunny.",
                        tool_call_id="call_i6xKhAibHFyhNK5A858ausTW",
                    ),
                ],
            ),
            True,
        ),
        (
            "TestChatOpenAICodexStandard.test_json_mode",
            0,
            "responses",
            ChatRequest(
                model="gpt-5.5",
                instructions=TERSE,
                store=False,
                response_format=ResponseFormat(type="json_object"),
                messages=[
                    _user(
                        "Tell me a joke about cats. Return the result as a JSON with 'setup' and "
                        "'punchline' keys. Return nothing other than JSON."
                    )
                ],
            ),
            True,
        ),
        (
            "test_incomplete_response",
            0,
            "responses",
            ChatRequest(
                model="gpt-4o-mini",
                max_tokens=16,
                messages=[_user("Tell me a 100 word story about a bear.")],
            ),
            False,
        ),
        (
            "test_function_calling",
            1,
            "responses",
            ChatRequest(
                model="gpt-4o-mini",
                messages=[_user("whats 5 * 4")],
                tools=[
                    FunctionTool(
                        name="multiply",
                        description="return x * y",
                        parameters={
                            "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                            "required": ["x", "y"],
                            "type": "object",
                        },
                    ),
                    {"type": "web_search_preview"},
                ],
            ),
            True,
        ),
        (
            "test_reasoning",
            0,
            "responses",
            ChatRequest(model="gpt-5-nano", reasoning_effort="low", messages=[_user("Hello")]),
            False,
        ),
    ]
    return [pytest.param(*case, id=f"{case[0]}#{case[1]}") for case in cases]


@pytest.mark.parametrize(("name", "number", "api", "request_", "stream"), _request_cases())
def test_build_body_matches_recorded_request(
    name: str, number: int, api: str, request_: ChatRequest, stream: bool
) -> None:
    recorded = dict(cassette(name)[number]["request"]["body"])
    if recorded.get("stream") is False:
        del recorded["stream"]  # an explicit false is the same as leaving it out
    module = chat if api == "chat" else responses
    assert module.build_body(request_, stream=stream) == recorded
