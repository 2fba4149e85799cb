"""JSON read from the network, with every failure reported as one ``ValueError``.

``json.loads`` raises ``RecursionError`` for deeply nested text, and a value nested hundreds of
levels deep can still break ``pickle`` or ``repr`` later. :func:`loads` turns the first into a
``ValueError``, and :func:`shallow` tells whether a parsed value is safe to keep on an error
(which must pickle). Both are linear in their input and never recurse in Python.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_KEPT_DEPTH", "loads", "shallow"]

# The deepest value an error keeps as its ``body``; real error bodies are a few levels deep.
MAX_KEPT_DEPTH = 64


def loads(data: str | bytes) -> Any:
    """Parse JSON text; raise ``ValueError`` for invalid, too deeply nested or undecodable text."""
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON text is nested too deeply") from None


def shallow(value: Any, limit: int = MAX_KEPT_DEPTH) -> bool:
    """True when ``value`` (parsed JSON) nests no deeper than ``limit`` lists and objects."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        item, depth = pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth >= limit:
            return False
        for child in children:
            if isinstance(child, (dict, list)):
                push((child, depth + 1))
    return True
