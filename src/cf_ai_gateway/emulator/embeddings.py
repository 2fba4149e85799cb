"""Deterministic embeddings for the ``embeddings`` endpoint.

Each input is hashed word by word into a fixed-size vector and normalised, so equal texts get
equal vectors and texts sharing words are similar — enough for retrieval examples and tests.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import Any

from .conversation import InvalidRequest
from .text_analysis import words_in

DEFAULT_DIMENSIONS = 256


def _vector(text: str, dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    for word in words_in(text) or [text]:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "big") % dimensions
        sign = 1.0 if digest[4] & 1 else -1.0
        vector[index] += sign
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [round(v / norm, 6) for v in vector]


def embeddings_body(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The ``embeddings`` reply for ``body`` and its token count."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("you must provide a model parameter")
    raw = body.get("input")
    if isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(i, str) for i in raw):
        inputs = list(raw)
    elif isinstance(raw, list) and raw and all(isinstance(i, int) for i in raw):
        inputs = [" ".join(str(i) for i in raw)]
    elif isinstance(raw, list) and raw and all(isinstance(i, list) for i in raw):
        inputs = [" ".join(str(t) for t in item) for item in raw]
    else:
        raise InvalidRequest(
            "'$.input' is invalid. Please check the API reference: "
            "https://platform.openai.com/docs/api-reference.",
            "input",
        )
    dimensions = body.get("dimensions") or DEFAULT_DIMENSIONS
    if not isinstance(dimensions, int) or dimensions < 1 or dimensions > 4096:
        raise InvalidRequest("Invalid 'dimensions'.", "dimensions")
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    tokens = 0
    for index, text in enumerate(inputs):
        vector = _vector(text, dimensions)
        tokens += max(1, len(text.split()))
        encoded: Any = (
            base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            if as_base64
            else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }, tokens
