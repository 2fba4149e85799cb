"""Locate and read the recorded OpenAI traffic that the wire replay tests feed through.

The recordings live outside the repository: ``$CF_AIG_RECORDINGS``, or by default
``<repo>/../shared/data/openai-recordings``. Tests that need them skip when that directory is
absent. :func:`sse_items` is a deliberately tiny SSE splitter, independent of the library's own
decoder, that turns a recorded stream's text into event dicts and the ``[DONE]`` marker.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
RECORDINGS_DIR = Path(
    os.environ.get("CF_AIG_RECORDINGS")
    or REPO_ROOT.parent / "shared" / "data" / "openai-recordings"
)
CASSETTES_DIR = RECORDINGS_DIR / "langchain-openai-cassettes"
FIXTURE_JSON_DIR = RECORDINGS_DIR / "openai-python-fixtures" / "json"
FIXTURE_SSE_DIR = RECORDINGS_DIR / "openai-python-fixtures" / "sse"

HAVE_RECORDINGS = RECORDINGS_DIR.is_dir()
needs_recordings = pytest.mark.skipif(
    not HAVE_RECORDINGS, reason=f"recordings not found at {RECORDINGS_DIR}"
)

DONE = "[DONE]"


def _files(directory: Path, pattern: str) -> list[Path]:
    return sorted(directory.glob(pattern)) if directory.is_dir() else []


def cassette_files() -> list[Path]:
    return _files(CASSETTES_DIR, "*.json")


def fixture_json_files() -> list[Path]:
    return _files(FIXTURE_JSON_DIR, "*.json")


def fixture_sse_files() -> list[Path]:
    return _files(FIXTURE_SSE_DIR, "*.sse")


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def cassette(name: str) -> list[dict[str, Any]]:
    """The interactions of one cassette, by file stem."""
    interactions: list[dict[str, Any]] = load_json(CASSETTES_DIR / f"{name}.json")["interactions"]
    return interactions


def interaction_params() -> list[Any]:
    """One ``pytest.param`` per recorded interaction of every cassette."""
    params = []
    for path in cassette_files():
        for number, interaction in enumerate(load_json(path)["interactions"]):
            params.append(pytest.param(interaction, id=f"{path.stem}#{number}"))
    return params


def sse_items(text: str) -> list[dict[str, Any] | str]:
    """The events of a recorded SSE text, in order: parsed dicts and :data:`DONE`."""
    items: list[dict[str, Any] | str] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        data = [
            line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")
        ]
        if not data:
            continue
        payload = "\n".join(data)
        items.append(DONE if payload == DONE else json.loads(payload))
    return items


def sse_events(text: str) -> list[dict[str, Any]]:
    """Only the event dicts of a recorded SSE text."""
    return [item for item in sse_items(text) if isinstance(item, dict)]
