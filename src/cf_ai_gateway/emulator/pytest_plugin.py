"""pytest fixtures that run your tests against the local AI Gateway emulator (auto-registered).

Installing ``cf-ai-gateway[emulator]`` registers this plugin with pytest. It provides:

- ``ai_gateway_emulator``: the emulator, reset before each test, with the environment pointing
  at it (``CF_ACCOUNT_ID``, ``CF_AIG_BASE_URL``, ``CF_API_BASE_URL``, a provider key or gateway token).
  Every other credential the library reads (each provider's key variable, ``CF_AIG_PROVIDER_API_KEY``,
  ``CF_API_TOKEN``, ...) is removed for the test, so a developer's real key never reaches the emulator
  or a failure diff. Settings for one test
  come from the marker ``@pytest.mark.ai_gateway_emulator(token="t", rate_limit=2, ...)``.
- ``ai_gateway_emulator_session``: the one server behind it, started once per session.
- ``ai_gateway_emulator_factory``: ``factory(**settings)`` starts a dedicated emulator, stopped
  after the test.

Example::

    def test_reply(ai_gateway_emulator):
        ai_gateway_emulator.script(text="Hi there")
        ai_gateway_emulator.fault(429, code=2003, retry_after=1)
        ...  # code under test, built from the environment

This module imports only pytest; the emulator (starlette, uvicorn) loads when a fixture is used,
and the fixtures skip with an install hint when the extra is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .server import Emulator

MARKER = "ai_gateway_emulator"
# Every connection and credential variable the library reads (the emulator imports nothing from the
# client, so the list is kept here; a test checks it against the library's own).
_PROVIDER_KEY_ENV = (
    "OPENAI_API_KEY",
    "GROQ_API_KEY",
    "MISTRAL_API_KEY",
    "DEEPSEEK_API_KEY",
    "XAI_API_KEY",
    "OPENROUTER_API_KEY",
    "PERPLEXITY_API_KEY",
    "CEREBRAS_API_KEY",
    "BASETEN_API_KEY",
    "FIREWORKS_API_KEY",
    "CF_AIG_PROVIDER_API_KEY",
)
_GATEWAY_ENV = (
    "CF_ACCOUNT_ID",
    "CLOUDFLARE_ACCOUNT_ID",
    "CF_AIG_GATEWAY_ID",
    "CF_AIG_TOKEN",
    "CF_AIG_BASE_URL",
    "CF_API_BASE_URL",
    "CF_API_TOKEN",
    "CLOUDFLARE_API_TOKEN",
    "CF_AIG_ALLOW_INSECURE_HTTP",
    *_PROVIDER_KEY_ENV,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): settings of the AI Gateway emulator for this test (see Emulator)",
    )


def _emulator_class() -> type[Emulator]:
    try:
        from .server import Emulator
    except ImportError as exc:  # starlette or uvicorn missing
        pytest.skip(
            f"the AI Gateway emulator needs the 'emulator' extra: pip install 'cf-ai-gateway[emulator]' "
            f"({exc})"
        )
    return Emulator


def point_environment_at(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Set the environment to ``emulator.env()``, removing other gateway credentials."""
    values = emulator.env()
    for name in _GATEWAY_ENV:
        if name not in values:
            monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture(scope="session")
def ai_gateway_emulator_session() -> Iterator[Emulator]:
    """One emulator for the whole session (prefer ``ai_gateway_emulator``, which resets it)."""
    emulator = _emulator_class()()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def ai_gateway_emulator(
    ai_gateway_emulator_session: Emulator,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Emulator]:
    """The session's emulator, reset, configured by the test's marker, with the environment set."""
    emulator = ai_gateway_emulator_session
    emulator.reset()
    marker = request.node.get_closest_marker(MARKER)
    if marker is not None and marker.kwargs:
        emulator.configure(**marker.kwargs)
    point_environment_at(emulator, monkeypatch)
    try:
        yield emulator
    finally:
        emulator.reset()


@pytest.fixture
def ai_gateway_emulator_factory() -> Iterator[Callable[..., Emulator]]:
    """Start dedicated emulators: ``factory(token="t", gateways=["prod"])``; stopped after the test."""
    started: list[Emulator] = []

    def factory(**settings: Any) -> Emulator:
        emulator = _emulator_class()(**settings)
        emulator.start()
        started.append(emulator)
        return emulator

    try:
        yield factory
    finally:
        for emulator in started:
            emulator.stop()
