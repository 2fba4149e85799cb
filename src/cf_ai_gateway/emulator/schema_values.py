"""Generate a JSON value that is valid against a JSON schema, filled from the prompt where it fits.

Used for tool-call arguments and structured output. It understands the schema features that
tool and response schemas use: types (also as lists), ``enum``/``const``, required and optional
properties, nested objects and arrays (``items``, ``prefixItems``, ``minItems``), ``anyOf``/``oneOf``
(the first non-null branch), ``allOf`` (merged), local ``$ref``/``$defs``, numeric bounds
(inclusive and exclusive, ``multipleOf``), string lengths, common ``format`` values and ``pattern``.
Numbers and phrases found in the prompt are used first when they satisfy the schema, so
"magic_function(3)" yields ``{"input": 3}``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .regex_examples import example_for_pattern
from .text_analysis import numbers_in, phrases_in

_MAX_DEPTH = 8
_WHOLE_TEXT_NAMES = frozenset(
    {
        "query",
        "input",
        "text",
        "question",
        "prompt",
        "q",
        "search",
        "message",
        "content",
        "topic",
        "request",
        "instruction",
        "sentence",
        "statement",
    }
)
_FORMAT_EXAMPLES = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uuid": "123e4567-e89b-42d3-a456-426614174000",
}


class PromptValues:
    """The numbers and phrases of a prompt, handed out in order as schema slots ask for them."""

    def __init__(
        self,
        text: str,
        leading_numbers: list[int | float] | None = None,
        used_numbers: list[int | float] | None = None,
    ) -> None:
        self.text = text.strip()
        numbers = list(leading_numbers or []) + numbers_in(text)
        for used in used_numbers or []:
            if used in numbers:
                numbers.remove(used)
        self._numbers = numbers
        self._phrases = phrases_in(text)

    def take_number(self, fits: Any) -> int | float | None:
        for index, value in enumerate(self._numbers):
            if fits(value):
                del self._numbers[index]
                return value
        return None

    def take_phrase(self, fits: Any) -> str | None:
        for index, value in enumerate(self._phrases):
            if fits(value):
                del self._phrases[index]
                return value
        return None


def generate(schema: Any, values: PromptValues | None = None, *, name: str = "value") -> Any:
    """A value valid against ``schema`` (a dict, or ``True``)."""
    root = schema if isinstance(schema, dict) else {}
    return _Generator(root, values or PromptValues("")).value(schema, name, 0)


class _Generator:
    def __init__(self, root: dict[str, Any], values: PromptValues) -> None:
        self.root = root
        self.values = values

    # -- schema plumbing --

    def resolve(self, schema: Any) -> dict[str, Any]:
        if schema is True or schema is None:
            return {}
        if not isinstance(schema, dict):
            return {}
        seen = 0
        while "$ref" in schema and seen < 32:
            schema = {
                **self._lookup(schema["$ref"]),
                **{k: v for k, v in schema.items() if k != "$ref"},
            }
            seen += 1
        if "allOf" in schema:
            merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                part = self.resolve(part)
                for key, item in part.items():
                    if key == "properties":
                        merged["properties"] = {**merged.get("properties", {}), **item}
                    elif key == "required":
                        merged["required"] = list(
                            dict.fromkeys([*merged.get("required", []), *item])
                        )
                    else:
                        merged.setdefault(key, item)
            schema = merged
        return dict(schema)

    def _lookup(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#"):
            return {}
        node: Any = self.root
        for part in ref.lstrip("#").strip("/").split("/"):
            if not part:
                continue
            part = part.replace("~1", "/").replace("~0", "~")
            node = node.get(part) if isinstance(node, dict) else None
        return node if isinstance(node, dict) else {}

    # -- dispatch --

    def value(self, schema: Any, name: str, depth: int) -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
            return self.enum(schema["enum"])
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                branches = [self.resolve(b) for b in schema[key]]
                rest = {k: v for k, v in schema.items() if k != key}
                usable = [b for b in branches if b.get("type") != "null"]
                if depth >= _MAX_DEPTH and len(usable) < len(branches):
                    return None
                chosen = usable[0] if usable else branches[0]
                return self.value({**rest, **chosen}, name, depth)
        kind = schema.get("type")
        if isinstance(kind, list):
            non_null = [k for k in kind if k != "null"]
            if not non_null:
                return None
            kind = non_null[0]
        if kind is None:
            if "properties" in schema or "required" in schema or "additionalProperties" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            elif "default" in schema:
                return schema["default"]
            else:
                kind = "string"
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, depth)
        if kind in ("integer", "number"):
            return self.number(schema, integer=kind == "integer")
        if kind == "boolean":
            return schema.get("default", True) if isinstance(schema.get("default"), bool) else True
        if kind == "null":
            return None
        return self.string(schema, name)

    def enum(self, options: list[Any]) -> Any:
        lowered = self.values.text.lower()
        for option in options:
            if (
                isinstance(option, str)
                and option
                and re.search(r"(?<!\w)" + re.escape(option.lower()) + r"(?!\w)", lowered)
            ):
                return option
        for option in options:
            if option is not None:
                return option
        return options[0]

    # -- containers --

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = (
            schema["properties"] if isinstance(schema.get("properties"), dict) else {}
        )
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        result: dict[str, Any] = {}
        order = list(dict.fromkeys([*required, *properties]))
        for key in order:
            if depth >= _MAX_DEPTH and key not in required:
                continue
            result[key] = self.value(properties.get(key, {}), key, depth + 1)
        minimum = schema.get("minProperties", 0)
        extra = schema.get("additionalProperties")
        index = 0
        while len(result) < minimum and extra is not False:
            index += 1
            result[f"key{index}"] = self.value(
                extra if isinstance(extra, dict) else {}, "value", depth + 1
            )
        return result

    def array(self, schema: dict[str, Any], name: str, depth: int) -> list[Any]:
        prefix = schema.get("prefixItems")
        items = schema.get("items", {})
        if isinstance(items, list):  # draft-4 tuple form
            prefix, items = items, schema.get("additionalItems", {})
        minimum = int(schema.get("minItems", 0))
        maximum = schema.get("maxItems")
        wanted = max(minimum, 0 if depth >= _MAX_DEPTH else 1)
        if isinstance(maximum, int):
            wanted = min(wanted, maximum)
        result: list[Any] = []
        for index in range(wanted):
            if isinstance(prefix, list) and index < len(prefix):
                result.append(self.value(prefix[index], name, depth + 1))
            elif items is False:
                break
            else:
                result.append(self.value(items, name, depth + 1))
        if schema.get("uniqueItems") and len(result) > 1:
            options = self.resolve(items).get("enum") if isinstance(items, (dict, bool)) else None
            if isinstance(options, list) and len(options) >= len(result) and not prefix:
                result = list(options[: len(result)])
            else:
                result = _make_unique(result)
        return result

    # -- scalars --

    def number(self, schema: dict[str, Any], *, integer: bool) -> int | float:
        low, low_open = _bound(schema, "minimum", "exclusiveMinimum")
        high, high_open = _bound(schema, "maximum", "exclusiveMaximum")
        step = schema.get("multipleOf")

        def fits(value: int | float) -> bool:
            if integer and value != int(value):
                return False
            if low is not None and (value < low or (low_open and value == low)):
                return False
            if high is not None and (value > high or (high_open and value == high)):
                return False
            return not (
                isinstance(step, (int, float))
                and step > 0
                and not math.isclose(value / step, round(value / step))
            )

        taken = self.values.take_number(fits)
        if taken is not None:
            return int(taken) if integer else taken
        default = schema.get("default")
        if isinstance(default, (int, float)) and not isinstance(default, bool) and fits(default):
            return default
        for candidate in _number_candidates(low, low_open, high, high_open, step, integer):
            if fits(candidate):
                return int(candidate) if integer else candidate
        return int(low or 0) if integer else float(low or 0)

    def string(self, schema: dict[str, Any], name: str) -> str:
        min_length = int(schema.get("minLength", 0))
        max_length = schema.get("maxLength")
        pattern = schema.get("pattern")
        fmt = schema.get("format")

        def fits(text: str) -> bool:
            if len(text) < min_length or (isinstance(max_length, int) and len(text) > max_length):
                return False
            if isinstance(pattern, str):
                try:
                    return re.search(pattern, text) is not None
                except re.error:
                    return False
            return not fmt or fmt not in _FORMAT_EXAMPLES

        if fmt in _FORMAT_EXAMPLES and (
            not isinstance(pattern, str) or _safe_search(pattern, _FORMAT_EXAMPLES[fmt])
        ):
            return _FORMAT_EXAMPLES[fmt]
        candidates: list[str] = []
        taken = self.values.take_phrase(fits)
        if taken is not None:
            return taken
        if name.lower() in _WHOLE_TEXT_NAMES and self.values.text:
            candidates.append(self.values.text)
        default = schema.get("default")
        if isinstance(default, str):
            candidates.append(default)
        label = name.replace("_", " ").strip() or "value"
        if self.values.text:
            candidates.append(f"{label}: {_shorten(self.values.text, 80)}")
        candidates.extend([label, "example", "a", "abc", "A1", "0", "x" * max(min_length, 1)])
        if isinstance(pattern, str):
            candidates.extend(example_for_pattern(pattern))
        for candidate in candidates:
            if fits(candidate):
                return candidate
        fitted = (candidates[0] * (min_length // max(len(candidates[0]), 1) + 1))[
            : max(min_length, 1)
        ]
        if isinstance(max_length, int):
            fitted = fitted[:max_length]
        return fitted


def _safe_search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str) -> tuple[float | None, bool]:
    value = schema.get(exclusive)
    if isinstance(value, bool):  # draft 4: a flag on the inclusive bound
        bound = schema.get(inclusive)
        return (float(bound), value) if isinstance(bound, (int, float)) else (None, False)
    if isinstance(value, (int, float)):
        return float(value), True
    bound = schema.get(inclusive)
    return (
        (float(bound), False)
        if isinstance(bound, (int, float)) and not isinstance(bound, bool)
        else (None, False)
    )


def _number_candidates(
    low: float | None, low_open: bool, high: float | None, high_open: bool, step: Any, integer: bool
) -> list[float]:
    candidates: list[float] = [1.0, 0.0]
    if low is not None:
        candidates += [low, math.floor(low) + 1, low + 0.5, low + 1]
    if high is not None:
        candidates += [high, math.ceil(high) - 1, high - 0.5, high - 1]
    if low is not None and high is not None:
        candidates.append((low + high) / 2)
        candidates.append(float(math.floor((low + high) / 2)))
    if isinstance(step, (int, float)) and step > 0:
        base = low if low is not None else 0.0
        first = math.ceil(base / step) * step
        candidates = [first, first + step, *candidates]
    if integer:
        candidates = [float(round(c)) for c in candidates] + candidates
    return candidates


def _make_unique(items: list[Any]) -> list[Any]:
    result: list[Any] = []
    for index, item in enumerate(items):
        while item in result:
            if isinstance(item, str):
                item = f"{item} {index + 1}"
            elif isinstance(item, (int, float)) and not isinstance(item, bool):
                item = item + 1
            else:
                return result
        result.append(item)
    return result
