"""Identifiers in the shapes the real services use: UUIDv7 log ids and OpenAI-style object ids.

Since 2026-10-08 the gateway's log and request ids are lowercase UUIDv7 (RFC 9562: 48-bit
millisecond time, version 7, variant ``10``, random bits); they sort by creation time. Older log
ids were 26-character Crockford base32 ULIDs, which :func:`ulid` still makes so tests can check
that the logs API accepts both. Object ids (``chatcmpl-…``, ``resp_…``, ``msg_…``, ``fc_…``,
``call_…``) are random, as OpenAI's are.
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
_last_v7_ms = 0
_last_v7_counter = 0
_RAND_A_MAX = (1 << 12) - 1


def uuid7(now: float | None = None) -> str:
    """A new lowercase UUIDv7. Ids made within the same millisecond still increase monotonically.

    The 12-bit ``rand_a`` field is a counter seeded randomly each millisecond (RFC 9562, method 3);
    when it overflows the timestamp moves on by one millisecond.
    """
    global _last_v7_ms, _last_v7_counter
    millis = int((time.time() if now is None else now) * 1000)
    with _lock:
        if millis <= _last_v7_ms:
            millis = _last_v7_ms
            _last_v7_counter += 1
            if _last_v7_counter > _RAND_A_MAX:
                millis += 1
                _last_v7_counter = secrets.randbits(11)
        else:
            _last_v7_counter = secrets.randbits(11)
        _last_v7_ms = millis
        counter = _last_v7_counter
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= secrets.randbits(62)
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def ulid(now: float | None = None) -> str:
    """A new ULID (the format of log ids made before 2026-10-08). Ids made within the same millisecond still increase monotonically."""
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
