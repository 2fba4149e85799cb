"""Audio input on the emulator: ``input_audio`` parts on chat/completions are answered and counted,
malformed ones get OpenAI's 400, and the Responses endpoint (which has no audio part) rejects them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from cf_ai_gateway.emulator import Emulator

from .helpers import CHAT_BODY, post, sse_events, stream_text_chat

WAV_B64 = base64.b64encode(b"RIFF\x24\x00\x00\x00WAVEfmt ").decode()


def audio_message(*audio: dict[str, Any]) -> dict[str, Any]:
    content = [{"type": "text", "text": "Describe this audio:"}]
    content += [{"type": "input_audio", "input_audio": part} for part in audio]
    return {**CHAT_BODY, "messages": [{"role": "user", "content": content}]}


def test_chat_answers_audio_input_and_counts_audio_tokens(emulator: Emulator) -> None:
    plain = post(emulator, body={**CHAT_BODY, "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Describe this audio:"}]}]}).json()
    reply = post(emulator, body=audio_message({"data": WAV_B64, "format": "wav"})).json()
    text = reply["choices"][0]["message"]["content"]
    assert "I received 1 audio clip." in text and "Describe this audio" in text
    usage = reply["usage"]
    assert usage["prompt_tokens_details"]["audio_tokens"] > 0
    assert usage["prompt_tokens"] == plain["usage"]["prompt_tokens"] + usage["prompt_tokens_details"]["audio_tokens"]
    again = post(emulator, body=audio_message({"data": WAV_B64, "format": "wav"})).json()
    assert again["choices"][0]["message"]["content"] == text  # deterministic


def test_chat_streams_an_answer_about_two_clips(emulator: Emulator) -> None:
    body = audio_message({"data": WAV_B64, "format": "wav"}, {"data": WAV_B64, "format": "mp3"})
    events = sse_events(post(emulator, body={**body, "stream": True}).text)
    assert events[-1] == "[DONE]"
    assert "I received 2 audio clips." in stream_text_chat(events)


@pytest.mark.parametrize(
    ("audio", "param", "fragment"),
    [
        ({"data": WAV_B64, "format": "ogg"}, "messages[0].content[1].input_audio.format", "'wav' and 'mp3'"),
        ({"format": "wav"}, "messages[0].content[1].input_audio.data", "Missing required parameter"),
        ({"data": WAV_B64}, "messages[0].content[1].input_audio.format", "Missing required parameter"),
    ],
)
def test_chat_rejects_malformed_input_audio(emulator: Emulator, audio: dict[str, Any], param: str,
                                            fragment: str) -> None:
    reply = post(emulator, body=audio_message(audio))
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == param and fragment in error["message"]
    assert error["type"] == "invalid_request_error"


def test_responses_has_no_audio_input_part(emulator: Emulator) -> None:
    content = [{"type": "input_text", "text": "Describe this audio:"},
               {"type": "input_audio", "input_audio": {"data": WAV_B64, "format": "wav"}}]
    reply = post(emulator, "responses", body={"model": "gpt-4o-mini", "input": [{"role": "user", "content": content}]})
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == "input[0].content[1].type" and "'input_audio'" in error["message"]
