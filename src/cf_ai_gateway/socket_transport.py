"""A sync httpx transport on plain sockets: the sync wire of ``[fast]``.

httpx's sync client parses HTTP in pure Python (h11, under httpcore's and httpx's streams),
about 20 µs of a streamed event's cost when a server flushes one HTTP chunk per event.
:class:`SocketTransport` speaks HTTP/1.1 itself over pooled sockets: line ends and chunk bounds
are found by ``bytes`` methods written in C, one ``recv`` per wait, and the replies are plain
``httpx.Response`` objects, so retries, deadlines, auth, redirect refusal, content decoding and
error translation stay the same code on both wires. It reads heads and trailers by h11's
grammar (:mod:`~cf_ai_gateway.http1`) and refuses what h11 refuses (a bad status line, a header
block or trailers past 100 KiB, conflicting ``Content-Length``, a ``Transfer-Encoding`` other
than ``chunked``, a bad chunk size or footer, a body cut short, a protocol switch it never asks
for) with the httpx exception httpx raises there; its messages quote no byte of the reply, which
may echo a secret. Parsing is linear: a head or a line arriving in many small reads is searched
and joined once, and no pattern backtracks over a run of blanks. Bytes after a reply's end are
never read as the next reply: the connection is closed instead of reused. Every wait
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
from .http1 import Head, body_framing, parse_fields, parse_head, request_bytes, wants_keep_alive

__all__ = ["SocketTransport"]

# As much status line and header block as httpcore lets h11 buffer.
_MAX_HEAD = 100 * 1024
_RECV = 65536
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,20})(?:;[^\n]*)?[ \t]*")  # h11's chunk header
_HEAD_END = re.compile(rb"\n\r?\n")
_CRLF = re.compile(rb"\r\n")
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

    def recv(self, read_timeout: float | None) -> bytes:
        """One read from the socket, within the read timeout and the deadline; b"" at EOF."""
        sock = self.sock
        try:
            sock.settimeout(time_left(read_timeout, httpx.ReadTimeout))  # OSError once closed
            return sock.recv(_RECV)
        except TimeoutError as exc:
            raise httpx.ReadTimeout("timed out reading the reply") from exc
        except OSError as exc:
            raise httpx.ReadError(str(exc) or type(exc).__name__) from exc

    def fill(self, read_timeout: float | None) -> bool:
        """Read once more onto the few unread bytes (if any); False at EOF."""
        data = self.recv(read_timeout)
        if not data:
            return False
        pos = self.pos
        self.buf = self.buf[pos:] + data if pos < len(self.buf) else data
        self.pos = 0
        return True

    def take(self, most: int, read_timeout: float | None) -> bytes:
        """Up to ``most`` bytes: those already read, else one more read's worth; b"" at EOF."""
        available = len(self.buf) - self.pos
        if not available:
            if not self.fill(read_timeout):
                return b""
            available = len(self.buf)
        start = self.pos
        self.pos = start + min(most, available)
        return self.buf[start : self.pos]

    def until(
        self, pattern: re.Pattern[bytes], read_timeout: float | None, too_long: str
    ) -> re.Match[bytes] | None:
        """The first match of ``pattern`` (at most three bytes long) in the unread bytes,
        reading more while there are at most ``_MAX_HEAD`` of them; None at EOF.

        Each read is searched once (with the two bytes before it, where a match may begin)
        and the reads are joined once, so a head or a line trickled in tiny reads costs
        time linear in its length.
        """
        found = pattern.search(self.buf, self.pos)
        if found is not None:
            return found
        pieces = [self.buf[self.pos :]]
        size = len(pieces[0])
        tail = pieces[0][-2:]
        try:
            while True:
                if size > _MAX_HEAD:
                    raise httpx.RemoteProtocolError(too_long)
                data = self.recv(read_timeout)
                if not data:
                    return None
                pieces.append(data)
                probe = tail + data
                if pattern.search(probe) is not None:
                    start = size - len(tail)
                    break
                size += len(data)
                tail = probe[-2:]
        finally:
            self.buf = b"".join(pieces)
            self.pos = 0
        return pattern.search(self.buf, start)

    def is_stale(self) -> bool:
        """Whether the server closed (or wrote to) this idle connection."""
        if self.pos < len(self.buf):
            return True
        sock = self.sock
        if isinstance(sock, ssl.SSLSocket) and sock.pending():  # decrypted, not read yet
            return True
        fd = sock.fileno()
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


def _read_head(conn: _Connection, read_timeout: float | None) -> Head:
    """The status line and headers of the next final reply (informational ones are skipped)."""
    interim = False
    while True:
        found = conn.until(
            _HEAD_END, read_timeout, "the reply's status line and headers are too long"
        )
        if found is None:
            if interim or conn.pos < len(conn.buf):
                raise httpx.RemoteProtocolError(
                    "the server closed the connection inside the reply's headers"
                )
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        block = conn.buf[conn.pos : found.start()]
        conn.pos = found.end()
        head = parse_head(block)
        if head.status >= 200:
            return head
        if head.status == 101:  # no request of this transport asks to switch protocols
            raise httpx.RemoteProtocolError("the server switched protocols unasked")
        interim = True


def _joined(pieces: list[bytes]) -> bytes:
    return pieces[0] if len(pieces) == 1 else b"".join(pieces)


class _Body(httpx.SyncByteStream):
    """A reply body as it arrives; read to its end, its connection goes back to the pool,
    otherwise closing it closes the connection."""

    __slots__ = (
        "_conn",
        "_done",
        "_framing",
        "_keep",
        "_length",
        "_read_timeout",
        "_transport",
    )

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
            self.close()

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
        self.close()

    def _chunked(self, conn: _Connection) -> Iterator[bytes]:
        """The body's chunks. Whole chunks already read are handed on joined, one piece per
        read from the socket, and always before the next wait for more bytes."""
        timeout = self._read_timeout
        match_size = _CHUNK_SIZE.fullmatch
        ready: list[bytes] = []  # whole chunks read, not handed on yet
        while True:
            # The size line: in the buffer already, in the common case.
            end = conn.buf.find(b"\r\n", conn.pos)
            if end < 0:
                if ready:
                    yield _joined(ready)
                    ready = []
                found = conn.until(_CRLF, timeout, "a chunk size line is too long")
                if found is None:
                    raise httpx.RemoteProtocolError(_CUT_CHUNKED)
                end = found.start()
            found = match_size(conn.buf, conn.pos, end)
            if found is None:
                if ready:  # the chunks ahead of the fault come first
                    yield _joined(ready)
                raise httpx.RemoteProtocolError("bad chunk size line")
            size = int(found[1], 16)
            start = end + 2
            conn.pos = start
            if size == 0:
                if ready:
                    yield _joined(ready)
                self._trailers(conn)
                return
            stop = start + size
            if conn.buf[stop : stop + 2] == b"\r\n":  # the chunk and its footer are read
                ready.append(conn.buf[start:stop])
                conn.pos = stop + 2
                continue
            if ready:
                yield _joined(ready)
                ready = []
            while size:
                piece = conn.take(size, timeout)
                if not piece:
                    raise httpx.RemoteProtocolError(_CUT_CHUNKED)
                size -= len(piece)
                yield piece
            while len(conn.buf) - conn.pos < 2:
                if not conn.fill(timeout):
                    raise httpx.RemoteProtocolError(_CUT_CHUNKED)
            if conn.buf[conn.pos : conn.pos + 2] != b"\r\n":
                raise httpx.RemoteProtocolError(
                    "malformed chunk footer: a chunk is not followed by CRLF"
                )
            conn.pos += 2

    def _trailers(self, conn: _Connection) -> None:
        """Skip the trailers: a header block, as h11 reads them (none: a bare line end)."""
        while True:
            start = conn.buf[conn.pos : conn.pos + 2]
            if start[:1] == b"\n" or start == b"\r\n":
                conn.pos += len(start) if start == b"\r\n" else 1
                return
            if start not in (b"", b"\r"):
                break
            if not conn.fill(self._read_timeout):
                raise httpx.RemoteProtocolError(_CUT_CHUNKED)
        found = conn.until(_HEAD_END, self._read_timeout, "the reply's trailers are too long")
        if found is None:
            raise httpx.RemoteProtocolError(_CUT_CHUNKED)
        block = conn.buf[conn.pos : found.start()]
        conn.pos = found.end()
        parse_fields(block, "the reply has a malformed trailer line")

    def _sized(self, conn: _Connection) -> Iterator[bytes]:
        left = self._length
        timeout = self._read_timeout
        while left:
            piece = conn.take(left, timeout)
            if not piece:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body: "
                    f"received {self._length - left} bytes, expected {self._length}"
                )
            left -= len(piece)
            yield piece

    def _until_close(self, conn: _Connection) -> Iterator[bytes]:
        if conn.pos < len(conn.buf):
            yield conn.buf[conn.pos :]
        conn.buf, conn.pos = b"", 0
        while conn.fill(self._read_timeout):
            yield conn.buf
            conn.buf, conn.pos = b"", 0

    def close(self) -> None:
        """Hand the connection back: to the pool if the body was read to its end."""
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
        message = request_bytes(request)
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
            framing, length = body_framing(head, request.method)
            keep = head.keep_alive and wants_keep_alive(request)
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
