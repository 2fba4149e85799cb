"""Audio input in the wire converters: ``AudioPart`` becomes the chat ``input_audio`` part (checked
against OpenAI's published schema), bad audio parts are refused before anything is sent, the
Responses converter refuses audio (that API has no audio part), and a real round trip through the
gateway emulator answers it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cf_ai_gateway import Gateway
from cf_ai_gateway.emulator import Emulator
from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.wire import chat, responses
from cf_ai_gateway.wire.types import AudioPart, ChatRequest, Message, TextPart

from .recordings import RECORDINGS_DIR

OPENAPI = RECORDINGS_DIR / "openapi_subset_chat_responses.json"


def audio_request(*parts: Any, position: int = 1) -> ChatRequest:
    messages = [Message(role="system", content="Be brief.")] * position
    return ChatRequest(
        model="gpt-4o-audio-preview",
        messages=[*messages, Message(role="user", content=[TextPart("Describe this audio:"), *parts])],
    )


def test_chat_sends_audio_as_input_audio_part() -> None:
    body = chat.build_body(audio_request(AudioPart(data="UklGRg==", format="wav")), stream=False)
    assert body["messages"][1]["content"] == [
        {"type": "text", "text": "Describe this audio:"},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
    ]


def test_chat_audio_part_matches_the_published_schema() -> None:
    schema = json.loads(OPENAPI.read_text())["components"]["schemas"][
        "ChatCompletionRequestMessageContentPartAudio"
    ]
    part = chat.build_body(audio_request(AudioPart(data="SUQz", format="mp3")), stream=True)[
        "messages"
    ][1]["content"][1]
    assert set(schema["required"]) <= set(part)
    assert part["type"] in schema["properties"]["type"]["enum"]
    audio_schema = schema["properties"]["input_audio"]
    assert set(audio_schema["required"]) == set(part["input_audio"])
    assert part["input_audio"]["format"] in audio_schema["properties"]["format"]["enum"]


@pytest.mark.parametrize(
    ("mime_type", "audio_format"),
    [
        ("audio/wav", "wav"),
        ("audio/x-wav", "wav"),
        ("audio/wave", "wav"),
        ("audio/mpeg", "mp3"),
        ("audio/mp3", "mp3"),
        ("Audio/MPEG; codecs=mp3", "mp3"),
        ("audio/flac", "flac"),
    ],
)
def test_audio_format_from_mime_type(mime_type: str, audio_format: str) -> None:
    assert AudioPart.from_mime_type("AAAA", mime_type) == AudioPart("AAAA", audio_format)


@pytest.mark.parametrize("mime_type", ["image/png", "audio", "wav", ""])
def test_audio_part_needs_an_audio_mime_type(mime_type: str) -> None:
    with pytest.raises(ValueError, match="audio/"):
        AudioPart.from_mime_type("AAAA", mime_type)


@pytest.mark.parametrize(
    ("part", "problem"),
    [
        (AudioPart(data="", format="wav"), "AudioPart.data"),
        (AudioPart(data="https://example.com/a.wav", format="wav"), "not a URL"),
        (AudioPart(data="data:audio/wav;base64,AAAA", format="wav"), "not a URL"),
        (AudioPart(data="AAAA", format=""), "AudioPart.format"),
    ],
)
@pytest.mark.parametrize("converter", [chat, responses])
def test_bad_audio_parts_are_refused_naming_the_message(
    converter: Any, part: AudioPart, problem: str
) -> None:
    with pytest.raises(ConfigurationError, match=rf"messages\[2\].*{problem}"):
        converter.build_body(audio_request(part, position=2), stream=False)


def test_responses_refuses_audio_and_points_at_the_chat_api() -> None:
    with pytest.raises(ConfigurationError) as caught:
        responses.build_body(audio_request(AudioPart("UklGRg==", "wav"), position=3), stream=False)
    message = str(caught.value)
    assert message.startswith("messages[3]") and 'api="chat"' in message


def test_responses_refuses_audio_in_a_tool_result() -> None:
    request = ChatRequest(
        model="gpt-4o-mini",
        messages=[
            Message(role="user", content="Play it"),
            Message(role="tool", tool_call_id="call_1", content=[AudioPart("UklGRg==", "wav")]),
        ],
    )
    with pytest.raises(ConfigurationError, match=r"messages\[1\].*audio"):
        responses.build_body(request, stream=False)


def test_audio_round_trip_through_the_emulator(emulator: Emulator) -> None:
    gateway = Gateway(
        account_id=emulator.account_id, base_url=emulator.base_url, api_key="sk-audio-key-0123456789"
    )
    request = audio_request(AudioPart(data="UklGRiQAAABXQVZF", format="wav"))
    result = gateway.chat(request, api="chat")
    sent = json.loads(emulator.requests[-1].body)
    assert "I received 1 audio clip." in result.text
    assert sent["messages"][1]["content"][1]["input_audio"] == {
        "data": "UklGRiQAAABXQVZF",
        "format": "wav",
    }
