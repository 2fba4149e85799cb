"""Project-wide fixtures: one AI Gateway emulator for the whole test session, reset per test.

- ``emulator``: the shared :class:`~cf_ai_gateway.emulator.Emulator`, reset before the test, with
  the environment pointing at it (``CF_ACCOUNT_ID``, ``CF_AIG_BASE_URL``, ``CF_API_BASE_URL`` and
  the generated ``CF_AIG_TOKEN``: authenticated by default, as a new gateway is). Change its settings
  for one test with ``emulator.configure(authenticated=False, api_key=..., gateways=[...], ...)`` —
  the next reset restores them — or with ``@pytest.mark.ai_gateway_emulator(authenticated=False)``.
  After ``configure``, call ``emulator_env()`` to refresh the environment.
- ``emulator_env``: a function that re-points the environment at ``emulator`` (returns the values).
- ``make_emulator``: ``make_emulator(**settings)`` starts a dedicated emulator, stopped after the test.

They are thin names over the fixtures of the package's pytest plugin
(``cf_ai_gateway.emulator.pytest_plugin``), which is registered here when the installed package
metadata does not register it already.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from cf_ai_gateway.emulator import Emulator

_PLUGIN = "cf_ai_gateway.emulator.pytest_plugin"
pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    manager = config.pluginmanager
    if manager.has_plugin("cf_ai_gateway") or manager.has_plugin(_PLUGIN):
        return
    from cf_ai_gateway.emulator import pytest_plugin

    manager.register(pytest_plugin, _PLUGIN)
    pytest_plugin.pytest_configure(config)


@pytest.fixture
def emulator(ai_gateway_emulator: Emulator) -> Emulator:
    """The shared emulator, reset, with the environment pointing at it."""
    return ai_gateway_emulator


@pytest.fixture
def emulator_env(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Callable[[], dict[str, str]]:
    """Call to point the environment at the emulator again (after ``emulator.configure``)."""
    from cf_ai_gateway.emulator.pytest_plugin import point_environment_at

    return lambda: point_environment_at(emulator, monkeypatch)


@pytest.fixture
def make_emulator(ai_gateway_emulator_factory: Callable[..., Emulator]) -> Callable[..., Emulator]:
    """Start a dedicated emulator with its own settings; it stops after the test."""

    def make(**settings: Any) -> Emulator:
        return ai_gateway_emulator_factory(**settings)

    return make
