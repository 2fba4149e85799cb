"""Deterministic embeddings for the ``embeddings`` endpoint, useful for retrieval demos.

Each input is a hashed bag of its content words (stop words dropped, a plural ``s`` folded),
normalised to unit length: equal texts get equal vectors, and texts that share words have a
higher cosine similarity than unrelated texts. ``dimensions`` is honoured (up to the model's
native size), usage counts about one token per word, and requests are checked as the provider
checks them: OpenAI refuses empty strings and more than 2048 inputs, Workers AI more than 100.
"""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import Any

from .conversation import InvalidRequest
from .text_analysis import STOP_WORDS, words_in

DEFAULT_DIMENSIONS = 256
OPENAI_MAX_INPUTS = 2048
WORKERS_AI_MAX_INPUTS = 100
# Native sizes of well-known embedding models; other models get DEFAULT_DIMENSIONS.
MODEL_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
    "@cf/baai/bge-small-en-v1.5": 384,
    "@cf/baai/bge-base-en-v1.5": 768,
    "@cf/baai/bge-large-en-v1.5": 1024,
    "@cf/baai/bge-m3": 1024,
}
# Models that take no ``dimensions`` parameter.
FIXED_DIMENSION_MODELS = frozenset({"text-embedding-ada-002"})
_BAD_INPUT = "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference."


def _terms(text: str) -> list[str]:
    words = words_in(text)
    terms = [
        w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
        for w in words
        if w not in STOP_WORDS
    ]
    return terms or words or [text]


def _vector(text: str, dimensions: int) -> list[float]:
    vector = [0.0] * dimensions
    for term in _terms(text):
        digest = hashlib.blake2b(term.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "big") % dimensions
        sign = 1.0 if digest[4] & 1 else -1.0
        vector[index] += sign
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [round(v / norm, 6) for v in vector]


def _bare_model(model: str) -> str:
    """The model name without a compat ``{provider}/`` prefix."""
    if model.startswith("workers-ai/"):
        return model[len("workers-ai/") :]
    if model.startswith("openai/"):
        return model[len("openai/") :]
    return model


def _inputs(raw: Any) -> list[str]:
    if isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(i, str) for i in raw):
        inputs = list(raw)
    elif isinstance(raw, list) and raw and all(type(i) is int for i in raw):
        inputs = [" ".join(str(i) for i in raw)]
    elif isinstance(raw, list) and raw and all(isinstance(i, list) and i for i in raw):
        inputs = [" ".join(str(t) for t in item) for item in raw]
    else:
        raise InvalidRequest(_BAD_INPUT, "input")
    if any(not text for text in inputs):
        raise InvalidRequest(_BAD_INPUT, "input")
    return inputs


def _check_batch(inputs: list[str], provider: str, model: str) -> None:
    if provider == "workers-ai" or model.startswith("@cf/"):
        if len(inputs) > WORKERS_AI_MAX_INPUTS:
            raise InvalidRequest(
                f"Bad input: 'text' must NOT have more than {WORKERS_AI_MAX_INPUTS} items "
                f"(got {len(inputs)})",
                "input",
            )
    elif len(inputs) > OPENAI_MAX_INPUTS:
        raise InvalidRequest(
            f"'$.input' is invalid: array length must be {OPENAI_MAX_INPUTS} or less (got {len(inputs)}).",
            "input",
        )


def _dimensions(body: dict[str, Any], model: str) -> int:
    native = MODEL_DIMENSIONS.get(model)
    requested = body.get("dimensions")
    if requested is None:
        return native or DEFAULT_DIMENSIONS
    if model in FIXED_DIMENSION_MODELS:
        raise InvalidRequest("This model does not support specifying dimensions.", "dimensions")
    if type(requested) is not int or requested < 1 or requested > (native or 4096):
        raise InvalidRequest("Invalid 'dimensions'.", "dimensions")
    return requested


def embeddings_body(body: dict[str, Any], provider: str = "openai") -> tuple[dict[str, Any], int]:
    """The ``embeddings`` reply for ``body`` sent to ``provider``, and its token count."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("you must provide a model parameter")
    inputs = _inputs(body.get("input"))
    bare = _bare_model(model)
    _check_batch(inputs, provider, bare)
    dimensions = _dimensions(body, bare)
    encoding = body.get("encoding_format")
    if encoding not in (None, "float", "base64"):
        raise InvalidRequest(
            f"Invalid value for 'encoding_format': {encoding!r}.", "encoding_format"
        )
    data = []
    tokens = 0
    for index, text in enumerate(inputs):
        vector = _vector(text, dimensions)
        tokens += max(1, len(text.split()))
        encoded: Any = (
            base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            if encoding == "base64"
            else vector
        )
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return {
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }, tokens
