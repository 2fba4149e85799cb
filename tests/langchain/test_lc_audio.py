"""Audio input through the LangChain adapter.

Every audio block shape LangChain users send (standard v1 ``base64`` blocks, v0
``source_type="base64"`` blocks, OpenAI ``input_audio`` blocks) becomes the neutral ``AudioPart``
and reaches the emulator's ``chat/completions`` endpoint as an ``input_audio`` part. Audio that
cannot be sent (a URL, a file id, a non-audio MIME type, the Responses API) raises
``ConfigurationError`` and nothing is sent.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from langchain_core.messages import HumanMessage

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.wire.types import AudioPart, TextPart
from langchain_cf_ai_gateway import ChatCloudflareAIGateway
from langchain_cf_ai_gateway.messages import convert_content

from .fixture_files import wav_bytes

WAV_B64 = base64.b64encode(wav_bytes()).decode()


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"type": "audio", "base64": "AAAA", "mime_type": "audio/wav"}, AudioPart("AAAA", "wav")),
        ({"type": "audio", "base64": "AAAA", "mime_type": "audio/mpeg"}, AudioPart("AAAA", "mp3")),
        ({"type": "audio", "base64": "AAAA", "mime_type": "audio/mp3"}, AudioPart("AAAA", "mp3")),
        ({"type": "audio", "base64": "AAAA", "mime_type": "audio/x-wav"}, AudioPart("AAAA", "wav")),
        (
            {"type": "audio", "source_type": "base64", "data": "AAAA", "mime_type": "audio/wav"},
            AudioPart("AAAA", "wav"),
        ),
        ({"type": "audio", "data": "AAAA", "mime_type": "audio/mpeg"}, AudioPart("AAAA", "mp3")),
        ({"type": "audio", "base64": "data:audio/wav;base64,AAAA"}, AudioPart("AAAA", "wav")),
        (
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "mp3"}},
            AudioPart("AAAA", "mp3"),
        ),
    ],
)
def test_audio_blocks_become_audio_parts(block: dict[str, Any], expected: AudioPart) -> None:
    assert convert_content([{"type": "text", "text": "Listen:"}, block], 0) == [
        TextPart("Listen:"),
        expected,
    ]


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ({"type": "audio", "url": "https://example.com/a.wav"}, "no audio URL"),
        ({"type": "audio", "source_type": "url", "url": "https://example.com/a.wav"}, "no audio URL"),
        ({"type": "audio", "file_id": "file-123"}, "file id"),
        ({"type": "audio", "base64": "AAAA"}, "mime_type"),
        ({"type": "audio", "base64": "AAAA", "mime_type": "image/png"}, "audio/"),
        ({"type": "audio", "mime_type": "audio/wav"}, "base64 data"),
        ({"type": "input_audio", "input_audio": {"data": "AAAA"}}, "input_audio.format"),
        ({"type": "input_audio", "input_audio": "AAAA"}, "input_audio.data"),
    ],
)
def test_unsendable_audio_raises_naming_the_message(block: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=r"messages\[2\]") as caught:
        convert_content([block], 2)
    assert problem in str(caught.value)


@pytest.fixture
def model_factory(_clean_env: None, emulator: Any) -> Any:
    def make(api: str) -> ChatCloudflareAIGateway:
        return ChatCloudflareAIGateway(
            model="gpt-4o-audio-preview",
            api=api,
            account_id=emulator.account_id,
            base_url=emulator.base_url,
            api_key="sk-audio-test-0123456789",
        )

    return make


def audio_message() -> HumanMessage:
    return HumanMessage(
        [
            {"type": "text", "text": "Describe this audio:"},
            {"type": "audio", "mime_type": "audio/wav", "base64": WAV_B64},
            {"type": "input_audio", "input_audio": {"data": WAV_B64, "format": "wav"}},
        ]
    )


def test_chat_endpoint_sends_audio_and_gets_an_answer(emulator: Any, model_factory: Any) -> None:
    reply = model_factory("chat").invoke([audio_message()])
    assert "I received 2 audio clips." in reply.text
    assert reply.usage_metadata is not None and reply.usage_metadata["input_tokens"] > 80
    sent = json.loads(emulator.requests[-1].body)["messages"][0]["content"]
    assert sent[1:] == [{"type": "input_audio", "input_audio": {"data": WAV_B64, "format": "wav"}}] * 2


def test_chat_endpoint_streams_an_answer_about_audio(model_factory: Any) -> None:
    text = "".join(chunk.text for chunk in model_factory("chat").stream([audio_message()]))
    assert "I received 2 audio clips." in text


def test_responses_endpoint_refuses_audio_before_sending(emulator: Any, model_factory: Any) -> None:
    with pytest.raises(ConfigurationError, match='api="chat"'):
        model_factory("responses").invoke([audio_message()])
    assert not [r for r in emulator.requests if r.path.endswith("/responses")]
