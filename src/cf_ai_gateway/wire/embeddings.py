"""The OpenAI ``embeddings`` wire format: request checks, batches, bodies and reply parsing.

:func:`check_inputs` and the other checks refuse bad input before anything is sent;
:func:`batch_limit` knows each provider's largest batch (2048 inputs on OpenAI, 100 on Workers
AI); :func:`build_body` builds one batch's body (raw strings, ``encoding_format: "float"``);
:func:`content_cache_key` names a batch by its content for the gateway cache; and
:func:`parse_reply` turns a reply's bytes into vectors in input order, decoding base64 vectors
and raising :class:`~cf_ai_gateway.StreamError` for any reply of the wrong shape.
:class:`EmbeddingResult` is what ``Gateway.embed`` returns. No I/O happens here.
"""

from __future__ import annotations

import binascii
import json
import sys
from array import array
from base64 import b64decode
from collections.abc import Callable, Sequence
from dataclasses import field
from typing import Any

from cf_ai_gateway.errors import ConfigurationError, MalformedResponseError, StreamError
from cf_ai_gateway.info import GatewayInfo
from cf_ai_gateway.jsontext import fast_parser
from cf_ai_gateway.records import record
from cf_ai_gateway.wire.types import Usage

__all__ = [
    "CONTENT_CACHE_TTL",
    "DEFAULT_MAX_CONCURRENCY",
    "EmbeddingResult",
    "batch_limit",
    "build_body",
    "check_batch_size",
    "check_cache",
    "check_dimensions",
    "check_encoding",
    "check_inputs",
    "check_max_concurrency",
    "check_model",
    "content_cache_key",
    "inconsistent_widths",
    "merge_usage",
    "parse_reply",
    "split",
]

# Largest batch each provider takes: OpenAI's array limit ("array length must be 2048 or
# less") and Workers AI's text-embedding models (at most 100 texts per request).
OPENAI_BATCH_LIMIT = 2048
WORKERS_AI_BATCH_LIMIT = 100
DEFAULT_MAX_CONCURRENCY = 4
MAX_CONCURRENCY = 64
# ``cache="content"`` keeps a batch's vectors for a month, the longest TTL the gateway allows.
CONTENT_CACHE_TTL = 30 * 24 * 3600
_CACHE_KEY_VERSION = b"cf-ai-gateway/embeddings/v1"
_NUMBER_TYPES = frozenset({float, int})
ENCODINGS = ("float", "base64")


@record(slots=True)
class EmbeddingResult:
    """The vectors of one ``Gateway.embed`` call, in input order.

    ``usage`` sums the token counts of every batch. ``infos`` holds each batch's
    :class:`~cf_ai_gateway.GatewayInfo` in batch order; ``info`` is the first of them.
    ``cached`` is True when the gateway served every batch from its cache.
    """

    vectors: list[list[float]]
    model: str | None = None
    usage: Usage = field(default_factory=Usage)
    info: GatewayInfo = field(default_factory=GatewayInfo)
    infos: list[GatewayInfo] = field(default_factory=list)

    @property
    def cached(self) -> bool:
        return bool(self.infos) and all(info.cached for info in self.infos)


# -- checks (before anything is sent) ----------------------------------------------------------


def check_inputs(inputs: Any) -> list[str]:
    """``inputs`` as a list of non-empty strings; anything else raises ``ConfigurationError``."""
    if isinstance(inputs, (str, bytes)):
        raise ConfigurationError(
            "inputs must be a list of strings, not a single "
            f"{type(inputs).__name__}; wrap one text in a list: [text]"
        )
    if not isinstance(inputs, Sequence):
        raise ConfigurationError(f"inputs must be a list of strings, not {type(inputs).__name__}")
    texts = list(inputs)
    if not texts:
        raise ConfigurationError("inputs must hold at least one text; got an empty list")
    for position, text in enumerate(texts):
        if type(text) is not str:
            if not isinstance(text, str):
                raise ConfigurationError(
                    f"inputs[{position}] must be a string, not {type(text).__name__}"
                )
            texts[position] = text = str(text)
        if not text:
            raise ConfigurationError(
                f"inputs[{position}] is an empty string; providers refuse empty inputs"
            )
    return texts


def check_model(model: Any) -> str:
    """A model name that can be sent: a non-empty string without control characters."""
    if not isinstance(model, str) or not model.strip():
        raise ConfigurationError(
            f"model must be a non-empty string such as 'text-embedding-3-small'; got {model!r}"
        )
    if model != model.strip() or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in model):
        raise ConfigurationError(
            f"model must not contain whitespace at its ends or control characters; got {model!r}"
        )
    return model


def check_dimensions(dimensions: Any) -> int | None:
    """None, or a positive integer."""
    if dimensions is None:
        return None
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1:
        raise ConfigurationError(
            f"dimensions must be a positive integer or None; got {dimensions!r}"
        )
    return dimensions


def batch_limit(provider: str, model: str, surface: str = "gateway") -> int:
    """The largest batch the provider behind ``provider`` / ``model`` accepts."""
    if provider == "workers-ai" or model.startswith(("@cf/", "workers-ai/")):
        return WORKERS_AI_BATCH_LIMIT
    return OPENAI_BATCH_LIMIT


def check_batch_size(batch_size: Any, limit: int) -> int:
    """``batch_size`` checked against ``limit``; None means ``limit``."""
    if batch_size is None:
        return limit
    if isinstance(batch_size, bool) or not isinstance(batch_size, int):
        raise ConfigurationError(
            f"batch_size must be an integer from 1 to {limit}; got {batch_size!r}"
        )
    if not 1 <= batch_size <= limit:
        raise ConfigurationError(
            f"batch_size must be from 1 to {limit} (the provider's largest batch); got {batch_size}"
        )
    return batch_size


def check_max_concurrency(value: Any) -> int:
    """How many batches may be in flight at once; None means the default (4)."""
    if value is None:
        return DEFAULT_MAX_CONCURRENCY
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise ConfigurationError(
            f"max_concurrency must be an integer from 1 to {MAX_CONCURRENCY}; got {value!r}"
        )
    return value


def check_encoding(encoding: Any) -> str:
    """``"float"`` (every provider) or ``"base64"`` (smaller, faster replies where supported)."""
    if encoding not in ENCODINGS:
        raise ConfigurationError(
            f"encoding_format must be 'float' or 'base64' (OpenAI); got {encoding!r}"
        )
    return str(encoding)


def check_cache(cache: Any) -> str | None:
    """``cache`` is None (the gateway's own settings) or ``"content"``."""
    if cache is None or cache is False:
        return None
    if cache != "content":
        raise ConfigurationError(
            f"cache must be None or 'content' (a cache key from each batch's content); got {cache!r}"
        )
    return "content"


# -- requests ----------------------------------------------------------------------------------


def split(texts: list[str], batch_size: int) -> list[list[str]]:
    """``texts`` in consecutive batches of at most ``batch_size``."""
    if len(texts) <= batch_size:
        return [texts]
    return [texts[start : start + batch_size] for start in range(0, len(texts), batch_size)]


def build_body(
    model: str, texts: list[str], dimensions: int | None, encoding: str = "float"
) -> dict[str, Any]:
    """One batch's request body: raw strings, ``dimensions`` when set, float vectors unless
    ``encoding`` is ``"base64"``."""
    body: dict[str, Any] = {"model": model, "input": texts, "encoding_format": encoding}
    if dimensions is not None:
        body["dimensions"] = dimensions
    return body


def content_cache_key(provider: str, model: str, dimensions: int | None, texts: list[str]) -> str:
    """A ``cf-aig-cache-key`` naming a batch by its content: equal batches, equal keys.

    It hashes the provider, the model, the dimensions and every text (length-prefixed, so no
    two different batches share a key), and nothing else: no secret goes into it.
    """
    import hashlib

    digest = hashlib.sha256(_CACHE_KEY_VERSION)
    for part in (provider, model, "" if dimensions is None else str(dimensions)):
        encoded = part.encode()
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    digest.update(len(texts).to_bytes(8, "big"))
    for text in texts:
        encoded = text.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "big") + encoded)
    return "emb-" + digest.hexdigest()


# -- replies -----------------------------------------------------------------------------------


def _bad(message: str, status_code: int | None, info: GatewayInfo | None) -> MalformedResponseError:
    log_id = info.log_id if info is not None else None
    return MalformedResponseError(
        f"the embeddings reply {message}", status_code=status_code, log_id=log_id, info=info
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _loads(content: bytes) -> Any:
    # orjson parses long float arrays several times faster; a reply's shape and numbers are
    # checked after parsing, so the cases where it reads differently from json do not matter.
    fast = fast_parser()
    if fast is not None:
        return fast(content)
    return json.loads(content, parse_constant=_reject_constant)


if sys.version_info >= (3, 11):

    def _strict_b64decode(text: str) -> bytes:
        return binascii.a2b_base64(text, strict_mode=True)

else:  # pragma: no cover - Python 3.10

    def _strict_b64decode(text: str) -> bytes:
        return b64decode(text, validate=True)


def _decode_base64(text: str) -> list[float]:
    raw = _strict_b64decode(text)
    if len(raw) % 4:
        raise ValueError("base64 vector length is not a multiple of 4 bytes")
    values = array("f", raw)
    if sys.byteorder != "little":  # pragma: no cover - the wire format is little-endian
        values.byteswap()
    return values.tolist()


def _number_problem(vector: list[float]) -> str | None:
    """What is wrong with a vector's values, if anything: one C-level sum checks them all."""
    try:
        total = sum(vector, 0.0)
    except TypeError:
        return "is not a list of numbers"
    except OverflowError:  # a JSON integer too large for a float
        return "holds an out-of-range number"
    if total - total != 0:
        return "holds NaN or infinity"
    return None


def parse_reply(
    content: bytes,
    count: int,
    dimensions: int | None = None,
    *,
    status_code: int | None = None,
    info: GatewayInfo | None = None,
    on_body: Callable[[Any], None] | None = None,
) -> tuple[list[list[float]], str | None, Usage]:
    """The ``count`` vectors of one reply in input order, its model and its usage.

    Vectors are JSON number arrays (values as parsed: floats, or ints where the provider wrote
    an integer such as ``0``) or base64 little-endian float32. A reply that is not JSON,
    lacks a vector, repeats or skips an index, holds a non-number, NaN or infinity, or gives
    vectors of unequal length (or not ``dimensions`` long, when set) raises
    :class:`~cf_ai_gateway.MalformedResponseError` (a ``StreamError``). ``on_body`` sees the
    parsed body first (the client raises the typed error of an error envelope there).
    """
    try:
        body = _loads(content)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise _bad("is not valid JSON", status_code, info) from None
    if on_body is not None:
        on_body(body)
    if type(body) is not dict:
        raise _bad("is not a JSON object", status_code, info)
    data = body.get("data")
    if type(data) is not list:
        raise _bad("has no 'data' list", status_code, info)
    if len(data) != count:
        raise _bad(f"holds {len(data)} vectors for {count} inputs", status_code, info)
    vectors: list[list[float] | None] = [None] * count
    width = dimensions
    # JSON true/false parse to bools, which a sum takes for 1 and 0: only a reply holding
    # those literals needs the slower exact check of every value's type.
    exact: bool | None = None  # looked up at the first list vector
    for position, item in enumerate(data):
        if type(item) is not dict:
            raise _bad(f"data[{position}] is not an object", status_code, info)
        index = item.get("index", position)
        if type(index) is not int or not 0 <= index < count or vectors[index] is not None:
            raise _bad(
                f"data[{position}] has a missing, repeated or out-of-range index",
                status_code,
                info,
            )
        vector = item.get("embedding")
        if type(vector) is str:
            try:
                vector = _decode_base64(vector)
            except (ValueError, binascii.Error):
                raise _bad(
                    f"data[{position}].embedding is not base64 float32 data", status_code, info
                ) from None
        elif type(vector) is list:
            if exact is None:
                exact = b"true" in content or b"false" in content
            if exact and not set(map(type, vector)) <= _NUMBER_TYPES:
                raise _bad(
                    f"data[{position}].embedding is not a list of numbers", status_code, info
                )
        else:
            raise _bad(f"data[{position}].embedding is not a list of numbers", status_code, info)
        if not vector:
            raise _bad(f"data[{position}].embedding is empty", status_code, info)
        problem = _number_problem(vector)
        if problem is not None:
            raise _bad(f"data[{position}].embedding {problem}", status_code, info)
        if width is None:
            width = len(vector)
        elif len(vector) != width:
            expected = "the requested dimensions" if dimensions is not None else "the others"
            raise _bad(
                f"data[{position}].embedding has {len(vector)} values, unlike {expected} ({width})",
                status_code,
                info,
            )
        vectors[index] = vector
    model = body.get("model")
    return vectors, model if isinstance(model, str) else None, _usage(body.get("usage"))  # type: ignore[return-value]


def _usage(raw: Any) -> Usage:
    if type(raw) is not dict:
        return Usage()
    prompt = raw.get("prompt_tokens")
    total = raw.get("total_tokens")
    prompt = prompt if type(prompt) is int and prompt >= 0 else 0
    total = total if type(total) is int and total >= 0 else prompt
    return Usage(input_tokens=prompt, total_tokens=total)


def inconsistent_widths(info: GatewayInfo | None) -> StreamError:
    """The error for batches whose vectors differ in length from the first batch's."""
    status = info.status_code if info is not None else None
    return _bad("gives vectors of another length than the first batch", status, info)


def merge_usage(parts: list[Usage]) -> Usage:
    """The sum of each batch's usage."""
    if len(parts) == 1:
        return parts[0]
    return Usage(
        input_tokens=sum(u.input_tokens for u in parts),
        total_tokens=sum(u.total_tokens for u in parts),
    )
