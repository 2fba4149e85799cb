"""Sync calls behave the same on httpx and on the fast extra's socket transport.

With ``transport="aiohttp"`` (or ``"auto"`` and the ``fast`` extra) sync calls go through
:class:`~cf_ai_gateway.socket_transport.SocketTransport`, which speaks HTTP/1.1 itself. Every
test here runs on both sync wires against real loopback servers: the same request bytes, one
kept-alive connection for sequential calls and none reused after the server closed it, every
body framing (length, chunked with extensions and trailers, until close, none), and the same
typed error for every malformed reply. Property tests feed the socket transport's reader
arbitrary chunked bodies cut into arbitrary reads, and arbitrary bytes, over a socket pair:
it returns the body exactly, or raises an ``httpx`` error, never anything else.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_ai_gateway import GatewayConnectionError, GatewayTimeoutError
from cf_ai_gateway import socket_transport as wire_module

from .testserver import Reply, TestServer, sse

on_both_wires = pytest.mark.usefixtures("wire")


@on_both_wires
def test_sync_calls_send_the_same_request_on_both_wires(
    make_gateway: Any, server: TestServer
) -> None:
    sent = []
    for wire in ("httpx", "aiohttp"):
        gw = make_gateway(transport=wire)
        server.reset()
        server.queue(Reply(body={"ok": 1}), Reply(chunks=sse({"a": 1})))
        gw.create("chat/completions", {"model": "m ü"}, extra_headers={"x-a": "1"})
        assert list(gw.stream("models/a.b:c@d-e_f", {"model": "m"})) == [{"a": 1}]
        sent.append(
            [(r.method, r.path, sorted(r.headers.items()), r.body) for r in server.requests]
        )
        gw.close()
    assert sent[0] == sent[1]


@on_both_wires
def test_sequential_sync_calls_share_one_connection(make_gateway: Any, server: TestServer) -> None:
    gw = make_gateway()
    gw.create("chat/completions", {})
    before = server.accepted
    for _ in range(3):
        server.queue(Reply(body={"ok": 1}), Reply(chunks=sse({"a": 1}, {"a": 2})))
        assert gw.create("chat/completions", {}).body == {"ok": 1}
        assert list(gw.stream("chat/completions", {})) == [{"a": 1}, {"a": 2}]
    assert server.accepted == before


class ClosingServer:
    """Answers each request with a kept-alive reply, then closes the connection anyway."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.accepted = 0
        self.closed = threading.Event()  # set once a connection's end has been sent
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
                while len(body) < length:
                    body += conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b'content-length: 8\r\n\r\n{"ok":1}'
                )
                conn.shutdown(socket.SHUT_WR)
                self.closed.set()
                conn.recv(1)  # until the client is done with it

    def close(self) -> None:
        self.sock.close()


@on_both_wires
def test_a_connection_the_server_closed_is_not_reused(make_gateway: Any) -> None:
    server = ClosingServer()
    try:
        gw = make_gateway(base_url=server.base_url, max_retries=0)
        for _ in range(3):
            assert gw.create("chat/completions", {}).body == {"ok": 1}
            assert server.closed.wait(5)  # the client's next call finds the connection closed
            server.closed.clear()
        assert server.accepted == 3
    finally:
        server.close()


@on_both_wires
def test_large_header_blocks_are_read_and_oversized_ones_refused(
    make_gateway: Any, server: TestServer
) -> None:
    many = {f"x-h{i}": "1" for i in range(300)}
    server.queue(Reply(body={"ok": 1}, headers={"x-big": "v" * 20_000, **many}))
    reply = make_gateway().create("chat/completions", {})
    assert reply.body == {"ok": 1} and len(reply.headers["x-big"]) == 20_000
    server.queue(Reply(body={"ok": 1}, headers={"x-big": "v" * 300_000}))
    with pytest.raises(GatewayConnectionError):
        make_gateway(max_retries=0).create("chat/completions", {})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@on_both_wires
def test_a_refused_connection_is_a_connection_error(make_gateway: Any) -> None:
    gw = make_gateway(base_url=f"http://127.0.0.1:{_closed_port()}/v1", max_retries=1)
    with pytest.raises(GatewayConnectionError) as err:
        gw.create("chat/completions", {})
    assert not isinstance(err.value, GatewayTimeoutError)
    assert "ConnectError" in str(err.value)


@pytest.mark.parametrize(
    "raw", [b"", b"HTTX/1.1 200 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"]
)
@on_both_wires
def test_no_reply_or_a_malformed_head_is_retried(
    make_gateway: Any, server: TestServer, raw: bytes
) -> None:
    server.queue(Reply(raw=raw), Reply(body={"ok": 1}))
    assert make_gateway(max_retries=1).create("chat/completions", {}).body == {"ok": 1}
    assert len(server.requests) == 2


@on_both_wires
def test_a_stalled_sync_stream_is_a_timeout(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(chunks=sse({"a": 1}, {"a": 2}), trickle_after=1, trickle=0.2))
    gw = make_gateway(timeout=0.3, max_retries=0)
    with pytest.raises(GatewayTimeoutError):
        for _ in gw.stream("chat/completions", {}):
            pass


HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
FRAMINGS = {
    "length": HEAD + b'content-length: 8\r\n\r\n{"ok":1}',
    "chunked, extensions and trailers": HEAD
    + b'transfer-encoding: chunked\r\n\r\n3;a=b\r\n{"o\r\n5 \r\nk":1}\r\n0\r\nx-t: 1\r\n\r\n',
    "until close": b'HTTP/1.0 200 OK\r\ncontent-type: application/json\r\n\r\n{"ok":1}',
    "interim reply first": b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n"
    + HEAD
    + b'content-length: 8\r\n\r\n{"ok":1}',
}


@pytest.mark.parametrize("raw", FRAMINGS.values(), ids=FRAMINGS.keys())
@on_both_wires
def test_every_body_framing_is_read(make_gateway: Any, server: TestServer, raw: bytes) -> None:
    server.queue(Reply(raw=raw))
    assert make_gateway(max_retries=0).create("chat/completions", {}).body == {"ok": 1}


BROKEN = {
    "conflicting lengths": HEAD + b'content-length: 8\r\ncontent-length: 9\r\n\r\n{"ok":1}',
    "not a length": HEAD + b'content-length: 8x\r\n\r\n{"ok":1}',
    "unknown coding": HEAD + b'transfer-encoding: gzip\r\n\r\n{"ok":1}',
    "cut short": HEAD + b'content-length: 80\r\n\r\n{"ok":1}',
    "bad chunk footer": HEAD + b'transfer-encoding: chunked\r\n\r\n8\r\n{"ok":1}XX0\r\n\r\n',
    "chunked cut short": HEAD + b'transfer-encoding: chunked\r\n\r\n8\r\n{"ok"',
    "status below 100": b'HTTP/1.1 042 What\r\ncontent-length: 8\r\n\r\n{"ok":1}',
}


@pytest.mark.parametrize("raw", BROKEN.values(), ids=BROKEN.keys())
@on_both_wires
def test_malformed_framing_is_a_connection_error(
    make_gateway: Any, server: TestServer, raw: bytes
) -> None:
    server.queue(Reply(raw=raw), Reply(raw=raw))
    with pytest.raises(GatewayConnectionError):
        make_gateway(max_retries=0).create("chat/completions", {})


# -- the socket transport's reader, over a socket pair ----------------------------------------


def _read(wire: bytes, recv_size: int, method: str = "POST") -> tuple[int, bytes]:
    """Status and body the socket transport reads from ``wire``, sent then half-closed."""
    ours, theirs = socket.socketpair()
    transport = wire_module.SocketTransport(
        verify=httpx.create_ssl_context(), limits=httpx.Limits(max_keepalive_connections=1)
    )
    sent = threading.Thread(target=lambda: (theirs.sendall(wire), theirs.shutdown(socket.SHUT_WR)))
    sent.start()
    try:
        original = wire_module._RECV
        wire_module._RECV = recv_size
        try:
            conn = wire_module._Connection(ours, ("http", "x", 80))
            head = wire_module._read_head(conn, 5.0)
            framing, length = wire_module.body_framing(head, method)
            body = wire_module._Body(transport, conn, framing, length, head.keep_alive, 5.0)
            return head.status, b"".join(body)
        finally:
            wire_module._RECV = original
    finally:
        sent.join()
        ours.close()
        theirs.close()
        transport.close()


def _chunked(body: bytes, sizes: list[int], extensions: bool) -> Iterator[bytes]:
    at = 0
    for size in sizes:
        piece = body[at : at + size]
        if not piece:
            break
        ext = b";n=v" if extensions else b""
        yield b"%x%s\r\n%s\r\n" % (len(piece), ext, piece)
        at += len(piece)
    if at < len(body):
        yield b"%X\r\n%s\r\n" % (len(body) - at, body[at:])
    yield b"0\r\n\r\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(max_size=3000),
    sizes=st.lists(st.integers(1, 700), max_size=12),
    recv_size=st.one_of(st.integers(1, 64), st.integers(65, 8192)),
    extensions=st.booleans(),
)
def test_any_chunked_body_in_any_reads_is_read_exactly(
    body: bytes, sizes: list[int], recv_size: int, extensions: bool
) -> None:
    wire = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + b"".join(
        _chunked(body, sizes, extensions)
    )
    assert _read(wire, recv_size) == (200, body)


def test_whole_chunks_already_read_are_handed_on_before_the_next_wait() -> None:
    """Chunks that arrived together come out as one piece, before the reader waits again:
    a server that sends the rest only once the client has them is not kept waiting."""
    ours, theirs = socket.socketpair()
    transport = wire_module.SocketTransport(
        verify=httpx.create_ssl_context(), limits=httpx.Limits(max_keepalive_connections=1)
    )
    got_first = threading.Event()

    def serve() -> None:
        theirs.sendall(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
            b"3\r\nab\n\r\n2;x=y\r\ncd\r\n4\r\nef"
        )
        if got_first.wait(10):  # the rest only once the first chunks were handed on
            theirs.sendall(b"gh\r\n1\r\ni\r\n0\r\n\r\n")
        theirs.shutdown(socket.SHUT_WR)

    server = threading.Thread(target=serve)
    server.start()
    try:
        conn = wire_module._Connection(ours, ("http", "x", 80))
        head = wire_module._read_head(conn, 5.0)
        framing, length = wire_module.body_framing(head, "POST")
        body = iter(wire_module._Body(transport, conn, framing, length, head.keep_alive, 5.0))
        first = next(body)
        got_first.set()
        pieces = [first, *body]
    finally:
        got_first.set()
        server.join()
        ours.close()
        theirs.close()
        transport.close()
    assert first == b"ab\ncd"
    assert b"".join(pieces) == b"ab\ncdefghi"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tail=st.lists(
        st.sampled_from(
            [
                b"\r\n",
                b"\n",
                b"0",
                b"5",
                b"ff",
                b"zz",
                b";x",
                b":",
                b" ",
                b"abc",
                b"HTTP/1.1 200 OK",
                b"content-length: 3",
                b"transfer-encoding: chunked",
                b"\x00",
                b"\xff",
            ]
        ),
        max_size=30,
    ).map(b"".join),
    recv_size=st.integers(1, 64),
)
def test_any_bytes_end_in_a_reply_or_an_httpx_error(tail: bytes, recv_size: int) -> None:
    for wire in (tail, b"HTTP/1.1 200 OK\r\n" + tail):
        try:
            status, body = _read(wire, recv_size)
        except httpx.HTTPError:
            continue
        assert 100 <= status <= 999 and isinstance(body, bytes)


# -- TLS ------------------------------------------------------------------------------------


class TLSServer:
    """A loopback HTTPS server (a certificate for 127.0.0.1 from a test CA) that answers each
    request on a connection with ``{"n": <request number on this connection>}``, or that never
    completes a TLS handshake (``handshake=False``)."""

    def __init__(self, context: Any, *, handshake: bool = True) -> None:
        self.context = context
        self.handshake = handshake
        self.accepted = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self.sock.getsockname()[1]}/v1/x"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if not self.handshake:
                self.held.append(raw)
                continue
            threading.Thread(target=self._answer, args=(raw,), daemon=True).start()

    def _answer(self, raw: socket.socket) -> None:
        try:
            with self.context.wrap_socket(raw, server_side=True) as conn:
                data, n = b"", 0
                while True:
                    while b"\r\n\r\n" not in data:
                        more = conn.recv(65536)
                        if not more:
                            return
                        data += more
                    _, _, data = data.partition(b"\r\n\r\n")
                    n += 1
                    body = b'{"n":%d}' % n
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)
                    )
        except (OSError, ValueError):
            return

    def close(self) -> None:
        self.sock.close()
        for held in self.held:
            held.close()


@pytest.fixture
def tls() -> Iterator[tuple[Any, Any]]:
    trustme = pytest.importorskip("trustme")
    import ssl

    ca = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    yield server_context, client_context


def _client(context: Any, fast: bool, **timeouts: Any) -> httpx.Client:
    limits = httpx.Limits(max_keepalive_connections=4)
    if fast:
        transport: Any = wire_module.SocketTransport(verify=context, limits=limits)
    else:
        transport = httpx.HTTPTransport(verify=context, limits=limits)
    return httpx.Client(transport=transport, timeout=httpx.Timeout(5.0, **timeouts))


@pytest.mark.parametrize("fast", [False, True], ids=["httpx", "sockets"])
def test_https_is_verified_and_kept_alive(tls: tuple[Any, Any], fast: bool) -> None:
    server_context, client_context = tls
    server = TLSServer(server_context)
    try:
        with _client(client_context, fast) as client:
            assert [client.post(server.url, content=b"{}").json() for _ in range(3)] == [
                {"n": 1},
                {"n": 2},
                {"n": 3},
            ]
        assert server.accepted == 1
        with _client(httpx.create_ssl_context(), fast) as untrusting:
            with pytest.raises(httpx.ConnectError):
                untrusting.post(server.url, content=b"{}")
    finally:
        server.close()


@pytest.mark.parametrize("fast", [False, True], ids=["httpx", "sockets"])
def test_a_tls_handshake_that_never_ends_is_a_connect_timeout(
    tls: tuple[Any, Any], fast: bool
) -> None:
    server = TLSServer(tls[0], handshake=False)
    try:
        with _client(tls[1], fast, connect=0.3) as client:
            with pytest.raises(httpx.ConnectTimeout):
                client.post(server.url, content=b"{}")
    finally:
        server.close()


ECHOED = "sk-echoed-secret-0123456789abcdef"


@on_both_wires
@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 200 OK\r\nx-echo " + ECHOED.encode() + b"\r\n\r\n",
        b"HTTP/1.1 2000 " + ECHOED.encode() + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + ECHOED.encode() + b"\r\n",
    ],
    ids=["header line", "status line", "chunk size"],
)
@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_errors_of_malformed_replies_quote_no_reply_bytes(
    make_gateway: Any, server: TestServer, raw: bytes, sync: bool
) -> None:
    server.queue(Reply(raw=raw))
    gw = make_gateway(api_key=ECHOED, max_retries=0)
    with pytest.raises(GatewayConnectionError) as err:
        if sync:
            gw.create("chat/completions", {})
        else:
            await gw.acreate("chat/completions", {})
    chain: list[BaseException] = []
    error: BaseException | None = err.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    for link in chain:
        assert ECHOED not in str(link) and ECHOED not in repr(link)


def _h11_data(wire: bytes) -> bytes:
    """The body bytes h11 hands on from ``wire`` so far (no end of the connection yet), up to
    a fault."""
    import h11

    conn = h11.Connection(our_role=h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("host", "x")]))
    conn.send(h11.EndOfMessage())
    if not wire:
        return b""
    conn.receive_data(wire)
    body = b""
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError:
            return body
        if isinstance(event, h11.Data):
            body += event.data
        elif not isinstance(event, h11.Response):
            return body


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.binary(min_size=1, max_size=2000),
    sizes=st.lists(st.integers(1, 300), max_size=12),
    recv_size=st.one_of(st.integers(1, 64), st.integers(65, 8192)),
    at=st.integers(0, 10_000),
    bad_end=st.booleans(),
)
def test_no_body_byte_that_arrived_waits_for_the_next_read(
    body: bytes, sizes: list[int], recv_size: int, at: int, bad_end: bool
) -> None:
    """Sent in two parts, the second only once the client handed on every body byte of the
    first (as much as h11 hands on from it), any chunked body is read whole, up to a bad size
    line in place of its last one: no byte already read is held back while the reader waits
    for more, nor lost when the reader refuses what follows it."""
    wire = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + b"".join(
        _chunked(body, sizes, False)
    )
    if bad_end:
        wire = wire[: -len(b"0\r\n\r\n")] + b"zz\r\n"
    cut = min(at, len(wire))
    expected_first = _h11_data(wire[:cut])
    ours, theirs = socket.socketpair()
    transport = wire_module.SocketTransport(
        verify=httpx.create_ssl_context(), limits=httpx.Limits(max_keepalive_connections=1)
    )
    got: list[bytes] = []
    progress = threading.Condition()
    failure: list[BaseException] = []

    def read() -> None:
        try:
            conn = wire_module._Connection(ours, ("http", "x", 80))
            head = wire_module._read_head(conn, 10.0)
            framing, length = wire_module.body_framing(head, "POST")
            for piece in wire_module._Body(transport, conn, framing, length, True, 10.0):
                with progress:
                    got.append(piece)
                    progress.notify_all()
        except BaseException as exc:
            failure.append(exc)
        with progress:
            progress.notify_all()

    original = wire_module._RECV
    wire_module._RECV = recv_size
    reader = threading.Thread(target=read)
    reader.start()
    try:
        theirs.sendall(wire[:cut])
        with progress:
            handed_on = progress.wait_for(
                lambda: len(b"".join(got)) >= len(expected_first) or failure, 10
            )
            first = b"".join(got)
        with contextlib.suppress(OSError):  # the reader closes its end on a fault
            theirs.sendall(wire[cut:])
            theirs.shutdown(socket.SHUT_WR)
        reader.join()
    finally:
        wire_module._RECV = original
        ours.close()
        theirs.close()
        transport.close()
    assert [type(exc) for exc in failure] == ([httpx.RemoteProtocolError] if bad_end else [])
    assert handed_on and first == expected_first
    assert b"".join(got) == body
