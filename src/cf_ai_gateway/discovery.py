"""Adapter discovery through the ``cf_ai_gateway.adapters`` entry-point group.

:func:`available_adapters` lists every registered adapter (this package's ``langchain``,
``llama_index`` and ``openai``, and any third-party package that registers in the same group)
without importing it. :func:`load_adapter` imports one and returns a configured instance; every
built-in adapter resolves its settings through the core's one resolver (``config.py``), so
explicit arguments win, unset ones come from the environment, and ``CF_AIG_<OPTION>`` gateway
options merge under the given ones, exactly as for ``Gateway(...)``.
A missing optional dependency becomes a :class:`ConfigurationError` that names the
``pip install`` command to run. An entry point names a class (called with the configuration) or
an object with a ``from_gateway_config(**config)`` factory, which is preferred when present.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["ADAPTER_EXTRAS", "ENTRY_POINT_GROUP", "available_adapters", "load_adapter"]

ENTRY_POINT_GROUP = "cf_ai_gateway.adapters"
DISTRIBUTION = "cf-ai-gateway"

# Built-in adapter name -> (the extra that installs its dependencies, the modules it needs).
ADAPTER_EXTRAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "langchain": ("langchain", ("langchain_core",)),
    "llama_index": ("llamaindex", ("llama_index.core", "llama_index")),
    "openai": ("openai", ("openai",)),
}


def _dist_name(ep: EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    name = getattr(dist, "name", None) if dist is not None else None
    return name if isinstance(name, str) else None


def _entry_points() -> dict[str, EntryPoint]:
    from importlib.metadata import entry_points

    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        current = found.get(ep.name)
        # This package's own registration wins a name clash with another distribution.
        if current is None or (
            _dist_name(ep) == DISTRIBUTION and _dist_name(current) != DISTRIBUTION
        ):
            found[ep.name] = ep
    return found


def available_adapters() -> dict[str, str]:
    """Registered adapter names mapped to their ``module:attribute`` targets (nothing imported)."""
    return {name: ep.value for name, ep in sorted(_entry_points().items())}


def _install_hint(name: str, ep: EntryPoint) -> str:
    builtin = ADAPTER_EXTRAS.get(name)
    if builtin is not None and _dist_name(ep) in (None, DISTRIBUTION):
        return f"pip install 'cf-ai-gateway[{builtin[0]}]'"
    dist = _dist_name(ep)
    return f"pip install '{dist}'" if dist else f"install the package that provides {ep.value}"


def _missing_dependency(name: str, ep: EntryPoint, exc: ImportError) -> ConfigurationError:
    missing = exc.name or str(exc)
    return ConfigurationError(
        f"adapter {name!r} needs {missing!r}, which is not installed; run: "
        f"{_install_hint(name, ep)}"
    )


def _is_dependency_error(name: str, exc: ImportError) -> bool:
    """True when ``exc`` is about a module the built-in adapter ``name`` depends on."""
    builtin = ADAPTER_EXTRAS.get(name)
    missing = exc.name or ""
    if builtin is None or not missing:
        return False
    return any(missing == mod or missing.startswith(mod + ".") for mod in builtin[1])


def load_adapter(name: str, **config: Any) -> Any:
    """Import adapter ``name`` and return an instance configured from ``config`` and the env.

    ``load_adapter("langchain", model="gpt-4o-mini")`` returns a ``ChatCloudflareAIGateway``,
    ``load_adapter("llama_index", model=...)`` a ``CloudflareAIGatewayLLM`` and
    ``load_adapter("openai")`` an ``openai.OpenAI`` client (``async_client=True`` for
    ``openai.AsyncOpenAI``), each routed through the gateway that ``config`` and the
    environment describe.
    """
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"adapter name must be a non-empty string; got {name!r}")
    eps = _entry_points()
    ep = eps.get(name)
    if ep is None:
        known = ", ".join(sorted(eps)) or "none (is cf-ai-gateway installed?)"
        raise ConfigurationError(f"unknown adapter {name!r}; known adapters: {known}")
    try:
        target = ep.load()
    except ImportError as exc:
        raise _missing_dependency(name, ep, exc) from exc
    except AttributeError as exc:
        raise ConfigurationError(
            f"adapter {name!r} is registered as {ep.value}, which does not exist: {exc}"
        ) from exc
    factory = getattr(target, "from_gateway_config", None)
    try:
        return factory(**config) if callable(factory) else target(**config)
    except ImportError as exc:
        if _is_dependency_error(name, exc):
            raise _missing_dependency(name, ep, exc) from exc
        raise
