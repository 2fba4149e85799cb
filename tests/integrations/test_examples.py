"""The OpenAI-client examples run end to end against the emulator when no credentials are set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
_CREDENTIALS = ("CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID", "OPENAI_API_KEY", "CF_AIG_TOKEN", "CF_API_TOKEN",
                "CF_AIG_BASE_URL", "CF_API_BASE_URL", "CF_AIG_GATEWAY_ID")


def run_example(name: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in _CREDENTIALS}
    out = subprocess.run([sys.executable, str(EXAMPLES / name)], capture_output=True, text=True,
                         env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "using the local emulator" in out.stdout + out.stderr
    return out.stdout


def test_openai_sdk_example() -> None:
    pytest.importorskip("openai")
    out = run_example("openai_sdk.py")
    assert "same call again, cache: HIT" in out
    assert "feedback recorded: 1 90" in out


@pytest.mark.frameworks
def test_openai_agents_example() -> None:
    pytest.importorskip("agents")
    out = run_example("agents_openai_agents.py")
    assert "OpenAIChatCompletionsModel: The get_weather tool returned 21 degrees Celsius and sunny in Lisbon" in out
    assert "OpenAIResponsesModel: The get_weather tool returned 21 degrees Celsius and sunny in Lisbon" in out
    assert "sunny in Oslo" in out


@pytest.mark.frameworks
def test_pydantic_ai_example() -> None:
    pytest.importorskip("pydantic_ai")
    out = run_example("pydantic_ai_agent.py")
    assert "tool answer: The get_weather tool returned 21 degrees Celsius and sunny in Lisbon" in out
    assert "sunny in Oslo" in out
    assert "structured: name=" in out


def test_fallbacks_example() -> None:
    out = run_example("fallbacks.py")
    assert "tried gpt-4o: 503 ProviderError" in out
    assert "tried gpt-4o-mini: 200 answered" in out
    assert "tried: gpt-4o -> gpt-4o-mini" in out
