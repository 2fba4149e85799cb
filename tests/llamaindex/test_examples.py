"""The LlamaIndex examples run end to end against the emulator they start themselves.

Each ``examples/llamaindex_*.py`` runs as a subprocess with no gateway credentials in its
environment, so it starts its own local emulator (and says so); it must exit cleanly and print
its results.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CREDENTIALS = (
    "CF_ACCOUNT_ID",
    "CLOUDFLARE_ACCOUNT_ID",
    "OPENAI_API_KEY",
    "CF_AIG_TOKEN",
    "CF_AIG_BASE_URL",
    "CF_AIG_GATEWAY_ID",
    "CF_AIG_MODEL",
    "CF_AIG_API",
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("llamaindex_chat.py", ["chat:", "cache status: HIT", "stream:", "complete:"]),
        ("llamaindex_agent.py", ["tool get_weather", "tool celsius_to_fahrenheit", "answer:"]),
        ("llamaindex_structured.py", ["structured_predict: name=", "as_structured_llm: name="]),
        (
            "llamaindex_rag.py",
            [
                "first ingestion, cache per batch: MISS, MISS",
                "second ingestion, cache per batch: HIT, HIT",
                "retrieved: AI Gateway caches responses",
                "answer:",
            ],
        ),
    ],
)
def test_example_runs(name: str, expected: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "local emulator" in result.stdout + result.stderr
    for text in expected:
        assert text in result.stdout, result.stdout
