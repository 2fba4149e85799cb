"""The two OpenAI wire formats, behind one neutral request, result and delta.

:mod:`~cf_ai_gateway.wire.types` holds the neutral types; :mod:`~cf_ai_gateway.wire.chat` and
:mod:`~cf_ai_gateway.wire.responses` each expose ``build_body``, ``parse_result`` and
``StreamHandler`` for their endpoint. :func:`converter` picks the module for an ``api`` name.
Everything in this package is pure: no I/O, stdlib only.
"""

from __future__ import annotations

from types import ModuleType

from cf_ai_gateway.wire import chat, responses, types

__all__ = ["chat", "converter", "responses", "types"]


def converter(api: str) -> ModuleType:
    """The wire module for ``api``: ``"chat"`` (``chat/completions``) or ``"responses"``."""
    if api == "chat":
        return chat
    if api == "responses":
        return responses
    raise ValueError(f"api must be 'chat' or 'responses', not {api!r}")
