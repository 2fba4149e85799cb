"""HTTP/1.1 message heads for the socket wire, by h11's grammar: the request bytes it sends,
the status line and header fields (or trailers) of a reply, and how a reply's body ends.

Each pattern reads a field value as runs of visible bytes between blanks, so none backtracks
over a run of blanks, and obsolete folded lines are joined once: parsing a head is linear in
its length. Errors are the ``httpx.RemoteProtocolError`` httpx raises there, and quote no byte
of the reply, which may echo a secret.
"""

from __future__ import annotations

import re

import httpx

__all__ = [
    "Head",
    "body_framing",
    "parse_fields",
    "parse_head",
    "request_bytes",
    "wants_keep_alive",
]

# h11's grammar: any version digits; in a reason or a field value any byte but NUL and the
# blanks other than space and tab (some servers send control bytes in cookies). A value is
# runs of such bytes between blanks, a pattern that never backtracks over a run of blanks.
_STATUS = re.compile(rb"HTTP/([0-9]\.[0-9]) ([0-9]{3})(?: ([^\x00\n\r\x0b\x0c]*))?")
_FIELD = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*"
    rb"((?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?)[ \t]*"
)
_BAD_OUTGOING = re.compile(rb"[\r\n\x00]")


class Head:
    """A reply's status line and header fields, and whether its connection may be reused."""

    __slots__ = ("headers", "keep_alive", "reason", "status", "version")

    def __init__(
        self, status: int, version: bytes, reason: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.status = status
        self.version = version
        self.reason = reason
        self.headers = headers
        self.keep_alive = True


def parse_head(block: bytes) -> Head:
    """The head of a reply: ``block`` is its lines up to the blank line that ends them."""
    status_line, _, fields = block.partition(b"\n")
    match = _STATUS.fullmatch(status_line.removesuffix(b"\r"))
    if match is None:
        raise httpx.RemoteProtocolError("the reply's status line is not HTTP/1.x")
    headers = parse_fields(fields, "the reply has a malformed header line") if fields else []
    status = int(match[2])
    if status < 100:
        raise httpx.RemoteProtocolError("the reply's status code is below 100")
    return Head(status, b"HTTP/" + match[1], match[3] or b"", headers)


def parse_fields(block: bytes, malformed: str) -> list[tuple[bytes, bytes]]:
    """The name and value of each line of a header block (or of trailers), as h11 reads them:
    an obsolete folded line continues the one before, joined by a space."""
    lines = [line.removesuffix(b"\r") for line in block.split(b"\n")]
    if block[:1] in (b" ", b"\t") or b"\n " in block or b"\n\t" in block:
        lines = _unfold(lines, malformed)
    headers: list[tuple[bytes, bytes]] = []
    for line in lines:
        field = _FIELD.fullmatch(line)
        if field is None:
            raise httpx.RemoteProtocolError(malformed)
        headers.append((field[1], field[2]))
    return headers


def _unfold(lines: list[bytes], malformed: str) -> list[bytes]:
    logical: list[list[bytes]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            if not logical:
                raise httpx.RemoteProtocolError(malformed)
            logical[-1] += (b" ", line.lstrip(b" \t"))
        else:
            logical.append([line])
    return [b"".join(parts) for parts in logical]


def _values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    found = []
    for key, value in headers:
        if key.lower() == name:
            found += [v.strip(b" \t").lower() for v in value.split(b",")]
    return found


def body_framing(head: Head, method: str) -> tuple[str, int]:
    """How the body ends: ("none"|"length"|"chunked"|"close", length); sets ``keep_alive``."""
    headers = head.headers
    tokens = _values(headers, b"connection")
    head.keep_alive = head.version >= b"HTTP/1.1" and b"close" not in tokens
    # h11 checks the framing headers of every reply, even one without a body.
    coding = _values(headers, b"transfer-encoding")
    if coding and coding != [b"chunked"]:
        raise httpx.RemoteProtocolError("the reply's Transfer-Encoding is not chunked")
    lengths = set(_values(headers, b"content-length"))
    length = next(iter(lengths)) if len(lengths) == 1 else b""
    if lengths and (not length.isdigit() or len(length) > 20):
        raise httpx.RemoteProtocolError("the reply has a bad Content-Length")
    if method == "HEAD" or head.status in (204, 304):
        return "none", 0
    if coding:
        return "chunked", 0
    if lengths:
        return "length", int(length)
    head.keep_alive = False
    return "close", 0


def wants_keep_alive(request: httpx.Request) -> bool:
    value = request.headers.get("connection")
    return value is None or "close" not in value.lower()


def request_bytes(request: httpx.Request) -> bytes:
    """The request line, headers and body, as one buffer (the core sends small JSON bodies)."""
    target = request.url.raw_path or b"/"
    parts = [request.method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    chunked = False
    for name, value in request.headers.raw:
        if _BAD_OUTGOING.search(name) or _BAD_OUTGOING.search(value):
            raise httpx.LocalProtocolError("a request header contains CR, LF or NUL")
        if name.lower() == b"transfer-encoding" and value.lower() == b"chunked":
            chunked = True
        parts += (name, b": ", value, b"\r\n")
    parts.append(b"\r\n")
    body = request.read()
    if chunked:
        if body:
            parts += (b"%x\r\n" % len(body), body, b"\r\n")
        parts.append(b"0\r\n\r\n")
    elif body:
        parts.append(body)
    return b"".join(parts)
