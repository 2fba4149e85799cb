"""Identifiers in the shapes the real services use: ULID log ids and OpenAI-style object ids.

Log ids are 26-character Crockford base32 ULIDs (48-bit millisecond time, 80 random bits), like
the ``cf-aig-log-id`` values Cloudflare returns; they sort by creation time. Object ids
(``chatcmpl-…``, ``resp_…``, ``msg_…``, ``fc_…``, ``call_…``) are random, as OpenAI's are.
"""

from __future__ import annotations

import secrets
import string
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ALNUM = string.ascii_letters + string.digits
_lock = threading.Lock()
_last_ms = 0
_last_random = 0


def ulid(now: float | None = None) -> str:
    """A new ULID. Ids made within the same millisecond still increase monotonically."""
    global _last_ms, _last_random
    millis = int((time.time() if now is None else now) * 1000)
    with _lock:
        if millis <= _last_ms:
            millis = _last_ms
            _last_random += 1
        else:
            _last_ms = millis
            _last_random = secrets.randbits(79)
        randomness = _last_random & ((1 << 80) - 1)
    value = (millis << 80) | randomness
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def random_token(length: int) -> str:
    """``length`` random letters and digits."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def chat_completion_id() -> str:
    return "chatcmpl-" + random_token(29)


def response_id() -> str:
    return "resp_" + secrets.token_hex(24)


def message_item_id() -> str:
    return "msg_" + secrets.token_hex(24)


def function_item_id() -> str:
    return "fc_" + secrets.token_hex(24)


def reasoning_item_id() -> str:
    return "rs_" + secrets.token_hex(24)


def tool_call_id() -> str:
    return "call_" + random_token(24)
