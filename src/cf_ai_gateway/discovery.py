"""Adapter discovery through the ``cf_ai_gateway.adapters`` entry-point group.

:func:`available_adapters` lists every registered adapter (this package's ``langchain``,
``llama_index`` and ``openai``, and any third-party package that registers in the same group)
without importing it. :func:`load_adapter` imports one and returns a configured instance, with
its configuration read as :meth:`Gateway.from_env` reads it; a missing optional dependency
becomes a :class:`ConfigurationError` that names the ``pip install`` command to run.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .errors import ConfigurationError

__all__ = ["ENTRY_POINT_GROUP", "available_adapters", "load_adapter"]

ENTRY_POINT_GROUP = "cf_ai_gateway.adapters"

# Adapter name -> the extra that installs its dependencies.
ADAPTER_EXTRAS = {"langchain": "langchain", "llama_index": "llamaindex", "openai": "openai"}


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


def available_adapters() -> dict[str, str]:
    """Registered adapter names mapped to their ``module:attribute`` targets (nothing imported)."""
    return {name: ep.value for name, ep in sorted(_entry_points().items())}


def load_adapter(name: str, **config: Any) -> Any:
    """Import adapter ``name`` and return an instance configured from ``config`` and the env."""
    eps = _entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConfigurationError(f"unknown adapter {name!r}; known adapters: {known}")
    ep = eps[name]
    try:
        target = ep.load()
    except ImportError as exc:
        extra = ADAPTER_EXTRAS.get(name)
        hint = (
            f"pip install 'cf-ai-gateway[{extra}]'"
            if extra
            else f"install the package that provides {ep.value}"
        )
        raise ConfigurationError(
            f"adapter {name!r} needs an optional dependency that is not installed "
            f"({exc.name or exc}); run: {hint}"
        ) from exc
    factory = getattr(target, "from_gateway_config", None)
    if callable(factory):
        return factory(**config)
    return target(**config)
