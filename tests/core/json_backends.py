"""The two JSON parsers the core can run on: ``json`` alone, or orjson (checked against json).

``use_backend`` sets the parser :mod:`cf_ai_gateway.jsontext` uses; the ``orjson`` case is
skipped where orjson is not installed.
"""

from __future__ import annotations

import contextlib
import importlib.util
from collections.abc import Iterator

import pytest

from cf_ai_gateway import jsontext

HAS_ORJSON = importlib.util.find_spec("orjson") is not None

BACKENDS = [
    pytest.param("json", id="json"),
    pytest.param(
        "orjson",
        id="orjson",
        marks=pytest.mark.skipif(not HAS_ORJSON, reason="orjson is not installed"),
    ),
]


@contextlib.contextmanager
def use_backend(name: str) -> Iterator[None]:
    saved = jsontext._fast
    if name == "orjson":
        import orjson

        jsontext._fast = orjson.loads
    else:
        jsontext._fast = None
    try:
        yield
    finally:
        jsontext._fast = saved
