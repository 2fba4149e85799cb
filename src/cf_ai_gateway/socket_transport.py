"""A sync httpx transport on plain sockets: the sync wire of ``[fast]``.

httpx's sync client parses HTTP in pure Python (h11, under httpcore's and httpx's streams),
about 20 µs of a streamed event's cost when a server flushes one HTTP chunk per event.
:class:`SocketTransport` speaks HTTP/1.1 itself over pooled sockets: line ends and chunk bounds
are found by ``bytes`` methods written in C, one ``recv`` per wait, and the replies are plain
``httpx.Response`` objects, so retries, deadlines, auth, redirect refusal, content decoding and
error translation stay the same code on both wires. It refuses what h11 refuses (a bad status
line, a header block past 100 KiB, conflicting ``Content-Length``, a ``Transfer-Encoding`` other
than ``chunked``, a bad chunk size or footer, a body cut short) with the httpx exception httpx
raises there; its messages quote no byte of the reply, which may echo a secret. Every wait
(connect, TLS handshake, send, each read) ends by the request's per-phase timeout and by the
deadline :func:`~cf_ai_gateway.deadline.bounded` set. Proxies from the environment still go
through httpx, which mounts its own transports for them.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from .deadline import time_left

__all__ = ["SocketTransport"]

# As much status line and header block as httpcore lets h11 buffer.
_MAX_HEAD = 100 * 1024
_RECV = 65536
_STATUS = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([\t \x21-\x7e\x80-\xff]*))?")
_FIELD = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([\t \x21-\x7e\x80-\xff]*?)[ \t]*")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,20})[ \t]*(?:;[^\r\n]*)?")
_HEAD_END = re.compile(rb"\n\r?\n")
_BAD_OUTGOING = re.compile(rb"[\r\n\x00]")
_CUT_CHUNKED = (
    "peer closed connection without sending complete message body: incomplete chunked read"
)


class _Connection:
    """One socket and the bytes read from it but not consumed yet."""

    __slots__ = ("buf", "idle_since", "key", "pos", "sock")

    def __init__(self, sock: socket.socket, key: tuple[str, str, int]) -> None:
        self.sock = sock
        self.key = key
        self.buf = b""
        self.pos = 0
        self.idle_since = 0.0

    def fill(self, read_timeout: float | None) -> bool:
        """Read once more from the socket, within the read timeout and the deadline; False at EOF."""
        sock = self.sock
        sock.settimeout(time_left(read_timeout, httpx.ReadTimeout))
        try:
            data = sock.recv(_RECV)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out reading the reply") from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
        if not data:
            return False
        pos = self.pos
        self.buf = self.buf[pos:] + data if pos < len(self.buf) else data
        self.pos = 0
        return True

    def is_stale(self) -> bool:
        """Whether the server closed (or wrote to) this idle connection."""
        if self.pos < len(self.buf):
            return True
        fd = self.sock.fileno()
        if fd < 0:
            return True
        try:
            if hasattr(select, "poll"):
                poller = select.poll()
                poller.register(fd, select.POLLIN)
                return bool(poller.poll(0))
            return bool(select.select([fd], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class _Head:
    __slots__ = ("headers", "keep_alive", "reason", "status", "version")

    def __init__(
        self, status: int, version: bytes, reason: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        self.status = status
        self.version = version
        self.reason = reason
        self.headers = headers
        self.keep_alive = True


def _read_head(conn: _Connection, read_timeout: float | None) -> _Head:
    """The status line and headers of the next final reply (informational ones are skipped)."""
    received = False
    while True:
        start = conn.pos
        while (found := _HEAD_END.search(conn.buf, start)) is None:
            unread = len(conn.buf) - conn.pos
            if unread > _MAX_HEAD:
                raise httpx.RemoteProtocolError("the reply's status line and headers are too long")
            if not conn.fill(read_timeout):
                if received or unread:
                    raise httpx.RemoteProtocolError(
                        "the server closed the connection inside the reply's headers"
                    )
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
            received = True
            start = max(0, unread - 2)  # a terminator may straddle two reads
        block = conn.buf[conn.pos : found.start()]
        conn.pos = found.end()
        head = _parse_head(block)
        if head.status >= 200 or head.status == 101:
            return head
        received = True


def _parse_head(block: bytes) -> _Head:
    lines = block.split(b"\n")
    status_line = lines[0].removesuffix(b"\r")
    match = _STATUS.fullmatch(status_line)
    if match is None:
        raise httpx.RemoteProtocolError("the reply's status line is not HTTP/1.x")
    headers: list[tuple[bytes, bytes]] = []
    for raw in lines[1:]:
        line = raw.removesuffix(b"\r")
        if line[:1] in (b" ", b"\t") and headers:  # an obsolete folded line continues the last
            name, value = headers[-1]
            headers[-1] = (name, (value + b" " + line.strip(b" \t")).strip(b" "))
            continue
        field = _FIELD.fullmatch(line)
        if field is None:
            raise httpx.RemoteProtocolError("the reply has a malformed header line")
        headers.append((field[1], field[2]))
    status = int(match[2])
    if status < 100:
        raise httpx.RemoteProtocolError("the reply's status code is below 100")
    return _Head(status, b"HTTP/1." + match[1], match[3] or b"", headers)


def _values(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    found = []
    for key, value in headers:
        if key.lower() == name:
            found += [v.strip(b" \t").lower() for v in value.split(b",")]
    return found


def _framing(head: _Head, method: str) -> tuple[str, int]:
    """How the body ends: ("none"|"length"|"chunked"|"close", length); sets ``keep_alive``."""
    headers = head.headers
    tokens = _values(headers, b"connection")
    head.keep_alive = head.version == b"HTTP/1.1" and b"close" not in tokens
    if method == "HEAD" or head.status in (204, 304) or head.status < 200:
        if head.status == 101:
            head.keep_alive = False
        return "none", 0
    coding = _values(headers, b"transfer-encoding")
    if coding:
        if coding != [b"chunked"]:
            raise httpx.RemoteProtocolError("the reply's Transfer-Encoding is not chunked")
        return "chunked", 0
    lengths = set(_values(headers, b"content-length"))
    if lengths:
        if len(lengths) != 1 or not next(iter(lengths)).isdigit() or len(next(iter(lengths))) > 20:
            raise httpx.RemoteProtocolError("the reply has a bad Content-Length")
        return "length", int(next(iter(lengths)))
    head.keep_alive = False
    return "close", 0


class _Body(httpx.SyncByteStream):
    """A reply body as it arrives; read to its end, its connection goes back to the pool,
    otherwise closing it closes the connection."""

    __slots__ = ("_conn", "_done", "_framing", "_keep", "_length", "_read_timeout", "_transport")

    def __init__(
        self,
        transport: SocketTransport,
        conn: _Connection,
        framing: str,
        length: int,
        keep_alive: bool,
        read_timeout: float | None,
    ) -> None:
        self._transport = transport
        self._conn: _Connection | None = conn
        self._framing = framing
        self._length = length
        self._keep = keep_alive
        self._read_timeout = read_timeout
        self._done = framing == "none" or (framing == "length" and length == 0)
        if self._done:
            self._release()

    def __iter__(self) -> Iterator[bytes]:
        if self._done:
            return
        conn = self._conn
        if conn is None:
            raise httpx.StreamClosed()
        try:
            if self._framing == "chunked":
                yield from self._chunked(conn)
            elif self._framing == "length":
                yield from self._sized(conn)
            else:
                yield from self._until_close(conn)
        except BaseException:
            self.close()
            raise
        self._done = True
        self._release()

    def _chunked(self, conn: _Connection) -> Iterator[bytes]:
        timeout = self._read_timeout
        match_size = _CHUNK_SIZE.fullmatch
        while True:
            # The size line: in the buffer already, in the common case of one chunk per read.
            while (end := conn.buf.find(b"\r\n", conn.pos)) < 0:
                if len(conn.buf) - conn.pos > _MAX_HEAD:
                    raise httpx.RemoteProtocolError("a chunk size line is too long")
                if not conn.fill(timeout):
                    raise httpx.RemoteProtocolError(_CUT_CHUNKED)
            size_line = conn.buf[conn.pos : end]
            found = match_size(size_line)
            if found is None:
                raise httpx.RemoteProtocolError("bad chunk size line")
            size = int(found[1], 16)
            conn.pos = end + 2
            if size == 0:
                self._trailers(conn)
                return
            while size:
                available = len(conn.buf) - conn.pos
                if not available:
                    if not conn.fill(timeout):
                        raise httpx.RemoteProtocolError(_CUT_CHUNKED)
                    available = len(conn.buf)
                take = min(size, available)
                start = conn.pos
                conn.pos = start + take
                size -= take
                yield conn.buf[start : start + take]
            while len(conn.buf) - conn.pos < 2:
                if not conn.fill(timeout):
                    raise httpx.RemoteProtocolError(_CUT_CHUNKED)
            if conn.buf[conn.pos : conn.pos + 2] != b"\r\n":
                raise httpx.RemoteProtocolError(
                    "malformed chunk footer: a chunk is not followed by CRLF"
                )
            conn.pos += 2

    def _trailers(self, conn: _Connection) -> None:
        while True:
            end = conn.buf.find(b"\r\n", conn.pos)
            if end < 0:
                if len(conn.buf) - conn.pos > _MAX_HEAD:
                    raise httpx.RemoteProtocolError("the reply's trailers are too long")
                if not conn.fill(self._read_timeout):
                    raise httpx.RemoteProtocolError(_CUT_CHUNKED)
                continue
            line = conn.buf[conn.pos : end]
            conn.pos = end + 2
            if not line:
                return
            if _FIELD.fullmatch(line) is None:
                raise httpx.RemoteProtocolError("the reply has a malformed trailer line")

    def _sized(self, conn: _Connection) -> Iterator[bytes]:
        left = self._length
        timeout = self._read_timeout
        while left:
            available = len(conn.buf) - conn.pos
            if not available:
                if not conn.fill(timeout):
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body: "
                        f"received {self._length - left} bytes, expected {self._length}"
                    )
                available = len(conn.buf)
            take = min(left, available)
            start = conn.pos
            conn.pos = start + take
            left -= take
            yield conn.buf[start : start + take]

    def _until_close(self, conn: _Connection) -> Iterator[bytes]:
        if conn.pos < len(conn.buf):
            yield conn.buf[conn.pos :]
        conn.buf, conn.pos = b"", 0
        while conn.fill(self._read_timeout):
            yield conn.buf
            conn.buf, conn.pos = b"", 0

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._transport.release(conn, reusable=self._keep and self._done)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._transport.release(conn, reusable=self._keep and self._done)


class SocketTransport(httpx.BaseTransport):
    """An ``httpx.BaseTransport`` speaking HTTP/1.1 on a pool of sockets per host.

    The number of connections in use is bounded by the caller (the core's pool gate); this
    transport keeps at most ``max_keepalive_connections`` idle ones, each for at most
    ``keepalive_expiry`` seconds, and never reuses one the server closed.
    """

    def __init__(self, *, verify: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._ssl = verify
        keepalive = limits.max_keepalive_connections
        self._max_idle = 1_000_000 if keepalive is None else keepalive
        self._expiry = limits.keepalive_expiry
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    # -- connections ---------------------------------------------------------------------
    def _connection(self, url: httpx.URL, timeouts: dict[str, Any], sni: Any) -> _Connection:
        """An idle connection to ``url``'s origin that the server kept open, else a new one."""
        scheme = url.scheme
        host = url.raw_host.decode("ascii")  # IDNA-encoded, IPv6 without brackets
        port = url.port or (443 if scheme == "https" else 80)
        key = (scheme, host, port)
        now = time.monotonic()
        with self._lock:
            idle = self._idle
            for i in range(len(idle) - 1, -1, -1):
                conn = idle[i]
                expired = self._expiry is not None and now - conn.idle_since > self._expiry
                if conn.key == key or expired:
                    del idle[i]
                    if not expired and not conn.is_stale():
                        return conn
                    conn.close()
        connect = timeouts.get("connect")
        try:
            sock = socket.create_connection((host, port), time_left(connect, httpx.ConnectTimeout))
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock.settimeout(time_left(connect, httpx.ConnectTimeout))
                name = sni if isinstance(sni, str) and sni else host
                sock = self._ssl.wrap_socket(sock, server_hostname=name)
        except TimeoutError as exc:
            sock.close()
            raise httpx.ConnectTimeout(f"timed out in the TLS handshake with {host}") from exc
        except (OSError, ssl.SSLError, ValueError) as exc:
            sock.close()
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        except BaseException:
            sock.close()
            raise
        return _Connection(sock, key)

    def release(self, conn: _Connection, *, reusable: bool) -> None:
        """Back to the pool if ``reusable`` and there is room, else closed."""
        if reusable and conn.pos == len(conn.buf):
            conn.buf, conn.pos = b"", 0
            conn.idle_since = time.monotonic()
            with self._lock:
                if not self._closed and len(self._idle) < self._max_idle:
                    self._idle.append(conn)
                    return
        conn.close()

    # -- requests ------------------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{url.scheme}://'."
            )
        if not url.host:
            raise httpx.UnsupportedProtocol("Request URL is missing a host.")
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        message = _request_bytes(request)
        conn = self._connection(url, timeouts, request.extensions.get("sni_hostname"))
        try:
            write_error: httpx.HTTPError | None = None
            sock = conn.sock
            try:
                sock.settimeout(time_left(timeouts.get("write"), httpx.WriteTimeout))
                sock.sendall(message)
            except TimeoutError as exc:
                raise httpx.WriteTimeout("timed out sending the request") from exc
            except OSError as exc:
                # The server may have answered already (an error, before reading the body).
                write_error = httpx.WriteError(str(exc) or type(exc).__name__)
            read_timeout = timeouts.get("read")
            try:
                head = _read_head(conn, read_timeout)
            except (httpx.ReadError, httpx.RemoteProtocolError):
                if write_error is not None and conn.pos == 0 and not conn.buf:
                    raise write_error from None
                raise
            framing, length = _framing(head, request.method)
            keep = head.keep_alive and _wants_keep_alive(request)
        except BaseException:
            conn.close()
            raise
        body = _Body(self, conn, framing, length, keep, read_timeout)
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=body,
            request=request,
            extensions={"http_version": head.version, "reason_phrase": head.reason},
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _wants_keep_alive(request: httpx.Request) -> bool:
    value = request.headers.get("connection")
    return value is None or "close" not in value.lower()


def _request_bytes(request: httpx.Request) -> bytes:
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
