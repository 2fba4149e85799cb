"""The core model catalog: lookups by any spelling of a model name, and unknown models."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cf_ai_gateway.profiles import ModelProfile, model_profile


@pytest.mark.parametrize(
    ("model", "window", "reasoning"),
    [
        ("gpt-4o", 128000, False),
        ("gpt-4o-2024-08-06", 128000, False),
        ("openai/gpt-4.1-mini", 1047576, False),
        ("ft:gpt-4o-mini:org::abc", 128000, False),
        ("o3-mini", 200000, True),
        ("gpt-5-chat-latest", 128000, False),
        ("groq/llama-3.3-70b-versatile", 131072, False),
        ("claude-sonnet-4-20250514", 200000, True),
        ("google-ai-studio/gemini-2.5-flash", 1048576, True),
    ],
)
def test_known_models_resolve_by_longest_prefix(model: str, window: int, reasoning: bool) -> None:
    profile = model_profile(model)
    assert profile is not None
    assert (profile.context_window, profile.reasoning) == (window, reasoning)


def test_capabilities_differ_where_models_do() -> None:
    assert model_profile("o1-mini") == ModelProfile(128000, 65536, False, False, True, False, False)
    audio = model_profile("gpt-4o-audio-preview")
    assert audio is not None and audio.audio_input and not audio.image_input


@pytest.mark.parametrize("model", ["mystery-model", "dynamic/support", "", "gpt", "o"])
def test_unknown_models_have_no_profile(model: str) -> None:
    assert model_profile(model) is None


@given(st.text(max_size=80))
def test_any_name_is_a_profile_or_none(model: str) -> None:
    profile = model_profile(model)
    assert profile is None or profile.max_output_tokens <= profile.context_window
