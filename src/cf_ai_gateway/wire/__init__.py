"""The two OpenAI wire formats, behind one neutral request, result and delta.

:mod:`~cf_ai_gateway.wire.types` holds the neutral types; :mod:`~cf_ai_gateway.wire.chat` and
:mod:`~cf_ai_gateway.wire.responses` each expose ``build_body``, ``parse_result``,
``StreamHandler`` and ``reply_events`` for their endpoint; :mod:`~cf_ai_gateway.wire.events`
says what ends a stream and reads the errors found in one. :func:`converter` picks the module
for an ``api`` name.
Everything in this package is pure: no I/O, stdlib only.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cf_ai_gateway.wire import chat, responses, types

__all__ = ["chat", "converter", "responses", "types"]

_SUBMODULES = frozenset(__all__) - {"converter"}


def __getattr__(name: str) -> ModuleType:
    # Submodules load on first use, so importing the core stays cheap.
    if name in _SUBMODULES:
        return importlib.import_module(f"cf_ai_gateway.wire.{name}")
    raise AttributeError(f"module 'cf_ai_gateway.wire' has no attribute {name!r}")


def converter(api: str) -> ModuleType:
    """The wire module for ``api``: ``"chat"`` (``chat/completions``) or ``"responses"``."""
    if api in ("chat", "responses"):
        return importlib.import_module(f"cf_ai_gateway.wire.{api}")
    raise ValueError(f"api must be 'chat' or 'responses', not {api!r}")
