"""Strict JSON schemas for native structured output and strict tools.

OpenAI's ``json_schema`` response format and ``strict`` function tools accept a subset of JSON
Schema: every object lists all its properties as required and forbids additional ones, and a
``$ref`` may not carry sibling keywords. :func:`strict_json_schema` rewrites a pydantic-generated
schema into that form (a copy; the input is not changed), the same way the official OpenAI SDK
does, and :func:`response_format_for` builds the neutral response format for a pydantic class.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

__all__ = ["response_format_for", "strict_json_schema"]

_NAME_RE = re.compile(r"[^a-zA-Z0-9_-]")


def strict_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A strict-mode copy of ``schema``."""
    root = copy.deepcopy(schema)
    return _make_strict(root, root)


def _resolve_ref(root: dict[str, Any], ref: str) -> dict[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"unsupported $ref {ref!r}: only local '#/' references are allowed")
    node: Any = root
    for key in ref[2:].split("/"):
        node = node[key]
    if not isinstance(node, dict):
        raise ValueError(f"$ref {ref!r} does not point to a schema object")
    return node


def _make_strict(node: Any, root: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise TypeError(f"expected a JSON schema object, got {type(node).__name__}")
    for defs_key in ("$defs", "definitions"):
        defs = node.get(defs_key)
        if isinstance(defs, dict):
            for name, sub in defs.items():
                defs[name] = _make_strict(sub, root)
    if node.get("type") == "object" and "additionalProperties" not in node:
        node["additionalProperties"] = False
    properties = node.get("properties")
    if isinstance(properties, dict):
        node["required"] = list(properties)
        node["properties"] = {key: _make_strict(sub, root) for key, sub in properties.items()}
    items = node.get("items")
    if isinstance(items, dict):
        node["items"] = _make_strict(items, root)
    any_of = node.get("anyOf")
    if isinstance(any_of, list):
        node["anyOf"] = [_make_strict(sub, root) for sub in any_of]
    all_of = node.get("allOf")
    if isinstance(all_of, list):
        if len(all_of) == 1:
            node.update(_make_strict(all_of[0], root))
            node.pop("allOf")
        else:
            node["allOf"] = [_make_strict(sub, root) for sub in all_of]
    if "default" in node and node["default"] is None:
        node.pop("default")
    ref = node.get("$ref")
    if isinstance(ref, str) and len(node) > 1:
        resolved = _resolve_ref(root, ref)
        merged = {**resolved, **node}
        merged.pop("$ref")
        node.clear()
        node.update(merged)
        return _make_strict(node, root)
    return node


def schema_name(output_cls: type[BaseModel]) -> str:
    """A response-format name the API accepts (letters, digits, ``_`` and ``-``)."""
    return _NAME_RE.sub("_", output_cls.__name__)[:64] or "output"


@lru_cache(maxsize=128)
def response_format_for(output_cls: type[BaseModel]) -> Any:
    """The neutral strict ``json_schema`` response format for a pydantic class (cached)."""
    from cf_ai_gateway.wire.types import ResponseFormat

    schema = strict_json_schema(output_cls.model_json_schema())
    description = schema.get("description")
    return ResponseFormat(
        type="json_schema",
        name=schema_name(output_cls),
        schema=schema,
        strict=True,
        description=description if isinstance(description, str) else None,
    )
