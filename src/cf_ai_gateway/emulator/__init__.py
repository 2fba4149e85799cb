"""A local Cloudflare AI Gateway for tests and demos (install the ``emulator`` extra).

``Emulator`` serves the gateway's documented behaviour on 127.0.0.1 — routes, auth modes and
their error envelopes, caching, logs and feedback, metadata limits, rate limits — in front of a
deterministic model that streams both OpenAI endpoints, calls tools with schema-valid arguments
and returns schema-valid JSON. Like a new Cloudflare gateway it is authenticated, with a
generated token (``Emulator(authenticated=False)`` serves an older, unauthenticated one). Tests can
queue exact replies and inject faults::

    from cf_ai_gateway.emulator import Emulator

    with Emulator() as emu:
        emu.env()          # variables that point the library at it, the gateway token included
        emu.fault(429, code=2003)

Importing this package is cheap; starlette and uvicorn load only when ``Emulator`` is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .fallback import configured_in_environment, real_or_emulated
    from .logs import LogEntry
    from .scripting import Fault, Reply
    from .server import Emulator
    from .state import EmulatorSettings, RecordedRequest

__all__ = [
    "Emulator",
    "EmulatorSettings",
    "Fault",
    "LogEntry",
    "RecordedRequest",
    "Reply",
    "configured_in_environment",
    "real_or_emulated",
]

_HOMES = {
    "Emulator": ".server",
    "EmulatorSettings": ".state",
    "Fault": ".scripting",
    "LogEntry": ".logs",
    "RecordedRequest": ".state",
    "Reply": ".scripting",
    "configured_in_environment": ".fallback",
    "real_or_emulated": ".fallback",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    try:
        module = import_module(home, __name__)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or "a dependency"
        raise ImportError(
            f"the AI Gateway emulator needs {missing}: pip install 'cf-ai-gateway[emulator]'"
        ) from exc
    return getattr(module, name)
