"""JSON read from the network, with every failure reported as one ``ValueError``.

``json.loads`` raises ``RecursionError`` for deeply nested text, and a value nested hundreds of
levels deep can still break ``pickle`` or ``repr`` later. :func:`loads` turns the first into a
``ValueError``, and :func:`shallow` tells whether a parsed value is safe to keep on an error
(which must pickle). Both are linear in their input and never recurse in Python.

When ``orjson`` is installed (the ``fast`` extra), :func:`loads` parses with it and answers
exactly as ``json`` would: text that orjson refuses or may read differently (integers past 64
bits, which it turns into floats; ``NaN``, ``1e400`` and lone surrogates, which it refuses;
deep nesting, where the two stop at different depths) is parsed by ``json`` instead.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_KEPT_DEPTH", "fast_parser", "loads", "shallow"]

# The deepest value an error keeps as its ``body``; real error bodies are a few levels deep.
MAX_KEPT_DEPTH = 64

# orjson's ``loads`` once looked up (None: not installed); imported on first use, not at import.
_UNSET: Any = object()
_fast: Callable[[bytes], Any] | None = _UNSET

# Text that orjson may read differently from json goes to json: a run of 19 digits (an integer
# past 64 bits becomes a float in orjson) or many brackets (nesting near json's depth limit).
# One translate maps every digit to "0" and "{" to "[", so two scans find both.
_SCREEN = bytes(48 if 48 <= b <= 57 else 91 if b == 123 else b for b in range(256))
_LONG_NUMBER = b"0" * 19
_MAX_FAST_BRACKETS = 256


def _resolve() -> Callable[[bytes], Any] | None:
    global _fast
    try:
        from orjson import loads as fast
    except ImportError:  # pragma: no cover - depends on the environment
        _fast = None
    else:
        _fast = fast
    return _fast


def fast_parser() -> Callable[[bytes], Any] | None:
    """orjson's ``loads`` when it is installed (looked up once, on first use), else None."""
    return _fast if _fast is not _UNSET else _resolve()


def _loads_json(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("the JSON text is nested too deeply") from None


def loads(data: str | bytes) -> Any:
    """Parse JSON text; raise ``ValueError`` for invalid, too deeply nested or undecodable text."""
    fast = fast_parser()
    if fast is not None:
        try:
            raw = data.encode() if isinstance(data, str) else data
            screened = raw.translate(_SCREEN)
            if _LONG_NUMBER not in screened and screened.count(b"[") <= _MAX_FAST_BRACKETS:
                return fast(raw)
        except ValueError:  # orjson's JSONDecodeError, or a str json may still read
            pass
    return _loads_json(data)


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
