"""Every Python snippet in README.md runs, as a user would paste it, against the local emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cf_ai_gateway.emulator import Emulator

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
# Snippets for frameworks that are not among the dev dependencies.
NOT_INSTALLED = ("autogen_ext", "smolagents", "dspy")


def _env(emu: Emulator) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CF_", "CLOUDFLARE_", "OPENAI_"))}
    env.update(emu.env())
    return env


@pytest.fixture(scope="module")
def emu() -> object:
    with Emulator() as emulator:
        yield emulator


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_snippet_runs(code: str, emu: Emulator, tmp_path: Path) -> None:
    if any(name in code for name in NOT_INSTALLED):
        pytest.skip("needs a framework outside the dev extras")
    if "def test_" in code:
        path = tmp_path / "test_snippet.py"
        path.write_text(code)
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)]
    else:
        path = tmp_path / "snippet.py"
        path.write_text(code)
        cmd = [sys.executable, str(path)]
    done = subprocess.run(cmd, env=_env(emu), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
