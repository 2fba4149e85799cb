"""Build strings that match a regular expression, for JSON-schema ``pattern`` constraints.

Walks the parsed form of the pattern (literals, character classes, repeats, groups,
alternatives, anchors) and emits the shortest plausible match, then a longer variant. Patterns
using look-arounds or back-references simply yield no example; the caller falls back to others.
"""

from __future__ import annotations

import importlib
import re
from typing import Any


def _load_parser() -> Any:
    try:
        return importlib.import_module("re._parser")  # Python 3.11+
    except ImportError:  # pragma: no cover - Python 3.10
        return importlib.import_module("sre_parse")


_sre_parse = _load_parser()

_CATEGORY_CHARS = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_WORD": "a",
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_SPACE": "a",
}


class _Unsupported(Exception):
    pass


def example_for_pattern(pattern: str) -> list[str]:
    """Strings matching ``pattern`` (searched, as JSON schema does); empty when none is found."""
    try:
        parsed = _sre_parse.parse(pattern)
    except (re.error, RecursionError):
        return []
    examples: list[str] = []
    for extra in (0, 2):
        try:
            text = _emit(list(parsed), extra)
        except _Unsupported:
            return []
        try:
            if re.search(pattern, text) is not None and text not in examples:
                examples.append(text)
        except re.error:
            return []
    return examples


def _class_char(items: list[tuple[Any, Any]]) -> str:
    negate = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif not negate and name == "LITERAL":
            return chr(arg)
        elif not negate and name == "RANGE":
            low, high = arg
            return chr(low) if not (low <= ord("a") <= high) else "a"
        elif not negate and name == "CATEGORY":
            return _CATEGORY_CHARS.get(str(arg), "a")
    if negate:
        excluded = set()
        for op, arg in items:
            if str(op) == "LITERAL":
                excluded.add(chr(arg))
            elif str(op) == "RANGE":
                excluded.update(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 300) + 1))
        for candidate in "aZ0_ x-":
            if candidate not in excluded:
                return candidate
    raise _Unsupported


def _emit(items: list[tuple[Any, Any]], extra: int) -> str:
    out: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_class_char(list(arg)))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            count = low + extra if high == _sre_parse.MAXREPEAT else min(high, low + extra)
            count = max(count, low)
            out.append(_emit(list(sub), extra) * count)
        elif name == "SUBPATTERN":
            out.append(_emit(list(arg[-1]), extra))
        elif name == "BRANCH":
            out.append(_emit(list(arg[1][0]), extra))
        elif name == "AT":
            continue
        elif name == "CATEGORY":
            out.append(_CATEGORY_CHARS.get(str(arg), "a"))
        else:
            raise _Unsupported(name)
    return "".join(out)
