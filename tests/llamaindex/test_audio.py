"""Audio input through the LlamaIndex adapter.

``AudioBlock`` (bytes, a local path or a ``data:`` URL) becomes the neutral ``AudioPart`` with its
base64 data and format, is sent to the emulator's ``chat/completions`` endpoint as an
``input_audio`` part, and is refused with ``ConfigurationError`` where it cannot be sent: a remote
URL (OpenAI takes base64 only), an unknown format, or the Responses API.
"""

from __future__ import annotations

import base64
import io
import json
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.base.llms.types import AudioBlock, ChatMessage, TextBlock

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.emulator import Emulator
from cf_ai_gateway.wire.types import AudioPart, TextPart
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM
from llama_index.llms.cf_ai_gateway.convert import to_neutral_message

from .conftest import model_requests


def wav_file_bytes() -> bytes:
    """A tiny valid WAV (8 kHz mono 16-bit, 100 ms of silence)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


WAV = wav_file_bytes()
WAV_B64 = base64.b64encode(WAV).decode()


def user(*blocks: Any) -> ChatMessage:
    return ChatMessage(role="user", blocks=[TextBlock(text="Describe this audio:"), *blocks])


@pytest.mark.parametrize(
    ("block", "audio_format"),
    [
        (AudioBlock(audio=WAV), "wav"),  # format guessed from the bytes
        (AudioBlock(audio=WAV, format="wav"), "wav"),
        (AudioBlock(audio=WAV, format="mp3"), "mp3"),
        (AudioBlock(audio=WAV, format="audio/mpeg"), "mp3"),
        (AudioBlock(audio=WAV, format="x-wav"), "wav"),
        (AudioBlock(url=f"data:audio/wav;base64,{WAV_B64}"), "wav"),
    ],
)
def test_audio_blocks_become_audio_parts(block: AudioBlock, audio_format: str) -> None:
    message = to_neutral_message(user(block))
    assert message.content == [TextPart("Describe this audio:"), AudioPart(WAV_B64, audio_format)]


def test_audio_block_from_a_local_path(tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    path.write_bytes(WAV)
    message = to_neutral_message(user(AudioBlock(path=path)))
    assert isinstance(message.content, list)
    assert message.content[1] == AudioPart(WAV_B64, "wav")


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        (AudioBlock(url="https://example.com/clip.wav"), "base64 audio only"),
        (AudioBlock(audio=b"not audio at all"), "AudioBlock.format"),
        (AudioBlock(audio=WAV, format="image/png"), "audio/"),
    ],
)
def test_unsendable_audio_raises(block: AudioBlock, problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        to_neutral_message(user(block))


def test_chat_endpoint_answers_audio(
    emulator: Emulator, make_llm: Callable[..., CloudflareAIGatewayLLM]
) -> None:
    llm = make_llm(api="chat", model="gpt-4o-audio-preview")
    response = llm.chat([user(AudioBlock(audio=WAV, format="wav"))])
    assert "I received 1 audio clip." in (response.message.content or "")
    sent = json.loads(model_requests(emulator)[-1].body)["messages"][0]["content"]
    assert sent[1] == {"type": "input_audio", "input_audio": {"data": WAV_B64, "format": "wav"}}
    streamed = "".join(
        chunk.delta or "" for chunk in llm.stream_chat([user(AudioBlock(audio=WAV))])
    )
    assert "I received 1 audio clip." in streamed


def test_responses_endpoint_refuses_audio_before_sending(
    emulator: Emulator, make_llm: Callable[..., CloudflareAIGatewayLLM]
) -> None:
    llm = make_llm(api="responses")
    with pytest.raises(ConfigurationError, match='api="chat"'):
        llm.chat([user(AudioBlock(audio=WAV, format="wav"))])
    assert model_requests(emulator) == []
