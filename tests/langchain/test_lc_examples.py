"""Each ``examples/langchain_*.py`` runs, as a user would run it, against its own emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CREDENTIALS = ("CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID", "OPENAI_API_KEY", "CF_AIG_TOKEN",
               "CF_AIG_BASE_URL", "CF_AIG_GATEWAY_ID")

CASES = {
    "langchain_chain.py": ["reply:", "cache: MISS", "streamed (responses endpoint):"],
    "langchain_structured.py": ["json_schema  -> Movie(", "function call -> {", "parsed -> Movie("],
    "langchain_agent.py": ["model calls get_weather(", "tool -> It is 21", "answer:"],
    "langchain_cache_options.py": ["first call:  MISS", "second call: HIT", "bound, again: HIT",
                                   "streamed:    MISS"],
    "langchain_rag.py": ["first indexing, cache per batch: MISS, MISS",
                         "second indexing, cache per batch: HIT, HIT",
                         "retrieved: AI Gateway caches responses", "answer:"],
}


@pytest.mark.parametrize(("script", "expected"), list(CASES.items()), ids=list(CASES))
def test_example_runs_against_the_emulator(script: str, expected: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIALS}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], env=env, capture_output=True, text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "using the local emulator" in done.stdout + done.stderr  # the notice goes to stderr
    for line in expected:
        assert line in done.stdout, done.stdout
