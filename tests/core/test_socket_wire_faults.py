"""A hostile server against both sync wires: the socket transport ends where httpx's wire ends.

Each test runs on httpx's own wire and on the fast extra's
:class:`~cf_ai_gateway.socket_transport.SocketTransport` against a real loopback server that sends
what a well-behaved server never sends: long runs of blanks inside header values, trailers past
the header limit or written like a header block, a protocol switch nobody asked for, folded
header lines, heads, chunk size lines and trailers trickled a byte at a time, endless interim
replies, bytes after a reply's end. Property tests read arbitrary header blocks, chunk size
lines and whole replies with the socket transport (in arbitrary reads) and with h11: both
refuse them, or both read the same fields, status and body. Every call ends in the same
result or a ``GatewayError`` subclass on both wires, by its deadline, and threads sharing one
gateway each get their own reply on a correctly reused connection.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_ai_gateway import GatewayConnectionError, GatewayError, GatewayTimeoutError
from cf_ai_gateway import socket_transport as wire_module

from .test_socket_wire import TLSServer, _client, _read
from .test_socket_wire import tls as tls  # a fixture
from .testserver import Reply, TestServer, sse

on_both_wires = pytest.mark.usefixtures("wire")

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
CHUNKED = HEAD + b"transfer-encoding: chunked\r\n\r\n"
OK_CHUNK = b'8\r\n{"ok":1}\r\n'

# The bytes to send at once, then the bytes to trickle (one every ``gap`` seconds); None: hang up.
Answer = Callable[[int, bytes], "tuple[bytes, bytes] | None"]


class ScriptedServer:
    """A loopback HTTP/1.1 server on raw sockets, one thread per connection, that reads each
    request to the end of its body and answers with ``answer(number on this connection, body)``.
    It counts its open connections, so a test sees every socket the client closed."""

    def __init__(self, answer: Answer, gap: float = 0.0) -> None:
        self.answer = answer
        self.gap = gap
        self.accepted = 0
        self.open = 0
        self._changed = threading.Condition()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self._changed:
                self.accepted += 1
                self.open += 1
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn: socket.socket) -> None:
        try:
            with conn:
                data, number = b"", 0
                while True:
                    while b"\r\n\r\n" not in data:
                        more = conn.recv(65536)
                        if not more:
                            return
                        data += more
                    head, _, data = data.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            length = int(value)
                    while len(data) < length:
                        data += conn.recv(65536)
                    body, data = data[:length], data[length:]
                    number += 1
                    answer = self.answer(number, body)
                    if answer is None:
                        return
                    at_once, trickled = answer
                    conn.sendall(at_once)
                    for i in range(len(trickled)):
                        conn.sendall(trickled[i : i + 1])
                        threading.Event().wait(self.gap)
        except OSError:
            return
        finally:
            with self._changed:
                self.open -= 1
                self._changed.notify_all()

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """Whether every connection was closed within ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self.open == 0, timeout)

    def close(self) -> None:
        self.sock.close()


def _raw_once(raw: bytes) -> Answer:
    return lambda number, body: (raw, b"") if number == 1 else None


@pytest.fixture
def scripted() -> Any:
    made: list[ScriptedServer] = []

    def make(answer: Answer, gap: float = 0.0) -> ScriptedServer:
        made.append(ScriptedServer(answer, gap))
        return made[-1]

    yield make
    for one in made:
        one.close()


# -- parsing stays linear ---------------------------------------------------------------------


@on_both_wires
def test_long_runs_of_blanks_inside_header_and_trailer_values_are_read(
    make_gateway: Any, server: TestServer
) -> None:
    # A field pattern that backtracks over every blank run is quadratic: 50 000 blanks then a
    # letter cost it minutes, well past this call's deadline.
    value = b"a" + b" \t" * 25_000 + b"b"
    raw = (
        HEAD
        + b"x-pad: "
        + value
        + b"\r\ntransfer-encoding: chunked\r\n\r\n"
        + OK_CHUNK
        + b"0\r\nx-t: "
        + value
        + b"\r\n\r\n"
    )
    server.queue(Reply(raw=raw))
    reply = make_gateway(timeout=5.0, max_retries=0).create("chat/completions", {})
    assert reply.body == {"ok": 1}
    assert reply.headers["x-pad"] == value.decode()


# -- trailers are a header block --------------------------------------------------------------


@on_both_wires
def test_trailers_past_the_header_limit_are_refused(make_gateway: Any, server: TestServer) -> None:
    raw = CHUNKED + OK_CHUNK + b"0\r\n" + b"x-t: 1\r\n" * 30_000 + b"\r\n"
    server.queue(Reply(raw=raw))
    with pytest.raises(GatewayConnectionError):
        make_gateway(max_retries=0).create("chat/completions", {})


TRAILERS = {
    "bare line ends": b"x-t: 1\nx-u: 2\n\n",
    "a folded line": b"x-t: 1\r\n 2\r\n\r\n",
    "none, bare line end": b"\n",
}


@pytest.mark.parametrize("trailers", TRAILERS.values(), ids=TRAILERS.keys())
@on_both_wires
def test_trailers_are_read_as_httpx_reads_them(
    make_gateway: Any, server: TestServer, trailers: bytes
) -> None:
    server.queue(Reply(raw=CHUNKED + OK_CHUNK + b"0\r\n" + trailers))
    assert make_gateway(max_retries=0).create("chat/completions", {}).body == {"ok": 1}


# -- heads ------------------------------------------------------------------------------------


@on_both_wires
def test_a_protocol_switch_nobody_asked_for_is_a_connection_error(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(raw=b"HTTP/1.1 101 Switching Protocols\r\nupgrade: x\r\n\r\n{}"))
    with pytest.raises(GatewayConnectionError):
        make_gateway(max_retries=0).create("chat/completions", {})


@on_both_wires
def test_a_status_line_of_another_http_version_is_read_as_httpx_reads_it(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(raw=b'HTTP/2.0 200 OK\r\ncontent-length: 8\r\n\r\n{"ok":1}'))
    assert make_gateway(max_retries=0).create("chat/completions", {}).body == {"ok": 1}


@on_both_wires
def test_folded_header_lines_are_joined_as_httpx_joins_them(
    make_gateway: Any, server: TestServer
) -> None:
    raw = HEAD + b'x-a: a  \r\n  b \r\n\tc\r\ncontent-length: 8\r\n\r\n{"ok":1}'
    server.queue(Reply(raw=raw))
    reply = make_gateway(max_retries=0).create("chat/completions", {})
    assert reply.headers["x-a"] == "a   b  c"


CONTROL_BYTES = {
    "in a value": (b"x-a: a\x01\x7fb", True),
    "in a folded line": (b"x-a: a\r\n \x01b", True),
    "NUL in a folded line": (b"x-a: a\r\n \x00b", False),
    "in the reason": (b"x-a: a", True),
}


@pytest.mark.parametrize("field, ok", CONTROL_BYTES.values(), ids=CONTROL_BYTES.keys())
@on_both_wires
def test_control_bytes_in_a_head_are_read_as_httpx_reads_them(
    make_gateway: Any, server: TestServer, field: bytes, ok: bool
) -> None:
    # h11 lets control bytes other than NUL through (some servers send them in cookies).
    raw = b"HTTP/1.1 200 O\x01K\x7f\r\n" + field + b'\r\ncontent-length: 8\r\n\r\n{"ok":1}'
    server.queue(Reply(raw=raw))
    gw = make_gateway(max_retries=0)
    if ok:
        assert gw.create("chat/completions", {}).body == {"ok": 1}
    else:
        with pytest.raises(GatewayConnectionError):
            gw.create("chat/completions", {})


SIZE_LINES = {
    "a blank before the extension": (b"8 ;x=1", False),
    "a CR inside the extension": (b"8;x=\r1", True),
    "blanks after the size": (b"8 \t", True),
}


@pytest.mark.parametrize("line, ok", SIZE_LINES.values(), ids=SIZE_LINES.keys())
@on_both_wires
def test_chunk_size_lines_are_read_as_httpx_reads_them(
    make_gateway: Any, server: TestServer, line: bytes, ok: bool
) -> None:
    server.queue(Reply(raw=CHUNKED + line + b'\r\n{"ok":1}\r\n0\r\n\r\n'))
    gw = make_gateway(max_retries=0)
    if ok:
        assert gw.create("chat/completions", {}).body == {"ok": 1}
    else:
        with pytest.raises(GatewayConnectionError):
            gw.create("chat/completions", {})


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"0", b"8", b"f", b"A", b"g", b";", b"=", b" ", b"\t", b"\r", b"x"]),
        max_size=25,
    ).map(b"".join)
)
def test_any_chunk_size_line_is_read_as_h11_reads_it(line: bytes) -> None:
    from h11._abnf import chunk_header  # the pattern h11 matches a size line with

    theirs = re.fullmatch(chunk_header.encode(), line + b"\r\n")
    ours = wire_module._CHUNK_SIZE.fullmatch(line)
    assert (ours and int(ours[1], 16)) == (theirs and int(theirs["chunk_size"], 16))


@on_both_wires
def test_bad_framing_headers_on_a_reply_without_a_body_are_refused(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(raw=b"HTTP/1.1 204 No Content\r\ncontent-length: x\r\n\r\n"))
    with pytest.raises(GatewayConnectionError):
        make_gateway(max_retries=0).create("chat/completions", {})


# -- h11's grammar, for any head ------------------------------------------------------------


def _h11_head(wire: bytes) -> tuple[int, list[tuple[bytes, bytes]]] | None:
    """Status and headers h11 (httpx's own wire) reads from ``wire``; None if it refuses it."""
    import h11

    conn = h11.Connection(our_role=h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(wire)
    try:
        event = conn.next_event()
    except h11.RemoteProtocolError:
        return None
    assert isinstance(event, h11.Response)
    return event.status_code, [(k.lower(), v) for k, v in event.headers.raw_items()]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fields=st.lists(
        st.tuples(
            st.sampled_from([b"x-a", b"X-b", b"", b"x a", b"("]),
            st.sampled_from([b":", b"", b" :"]),
            st.lists(
                st.sampled_from(
                    [
                        b" ",
                        b"\t",
                        b"v",
                        b",",
                        b"\x01",
                        b"\x7f",
                        b"\xff",
                        b"\x00",
                        b"\x0b",
                        b"\r",
                        b"\r\n ",
                        b"\n\t",
                    ]
                ),
                max_size=8,
            ).map(b"".join),
            st.sampled_from([b"\r\n", b"\n"]),
        ).map(b"".join),
        max_size=6,
    ).map(b"".join),
    recv_size=st.integers(1, 64),
)
def test_any_header_block_is_read_as_h11_reads_it(fields: bytes, recv_size: int) -> None:
    wire = b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n"
    expected = _h11_head(wire)
    ours = socket.socketpair()
    try:
        threading.Thread(target=ours[1].sendall, args=(wire,)).start()
        original = wire_module._RECV
        wire_module._RECV = recv_size
        try:
            head = wire_module._read_head(wire_module._Connection(ours[0], ("http", "x", 80)), 5.0)
        except httpx.RemoteProtocolError:
            assert expected is None
            return
        finally:
            wire_module._RECV = original
    finally:
        ours[0].close()
        ours[1].close()
    assert (head.status, [(k.lower(), v) for k, v in head.headers]) == expected


def _h11_reply(wire: bytes) -> tuple[int, bytes] | None:
    """Status and body h11 reads from ``wire`` and then the end of the connection; None if it
    refuses them."""
    import h11

    conn = h11.Connection(our_role=h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(wire)
    conn.receive_data(b"")
    status, body = 0, b""
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return status, body
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return None
    except h11.RemoteProtocolError:
        return None


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    interim=st.sampled_from([b"", b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 103 X\r\na: 1\n\n"]),
    version=st.sampled_from([b"HTTP/1.1", b"HTTP/1.0"]),
    status=st.sampled_from([b"200", b"204", b"304", b"404"]),
    fields=st.lists(
        st.sampled_from(
            [
                b"content-length: 5",
                b"content-length: 3",
                b"content-length: x",
                b"transfer-encoding: chunked",
                b"transfer-encoding: gzip",
                b"connection: close",
                b"x-a: 1",
                b" folded",
                b"bad line",
            ]
        ),
        max_size=4,
    ),
    body=st.lists(
        st.sampled_from(
            [
                b"5\r\n",
                b"3;x\r\n",
                b"abcde",
                b"abc",
                b"\r\n",
                b"0\r\n",
                b"x-t: 1\r\n",
                b"\n",
                b"zz\r\n",
                b"0\r\n\r\n",
            ]
        ),
        max_size=8,
    ).map(b"".join),
    recv_size=st.integers(1, 64),
)
def test_any_reply_is_read_as_h11_reads_it(
    interim: bytes, version: bytes, status: bytes, fields: list[bytes], body: bytes, recv_size: int
) -> None:
    head = b"".join(f + b"\r\n" for f in fields)
    wire = interim + b"%s %s X\r\n%s\r\n%s" % (version, status, head, body)
    expected = _h11_reply(wire)
    try:
        assert _read(wire, recv_size) == expected
    except httpx.HTTPError:
        assert expected is None


# -- deadlines --------------------------------------------------------------------------------

TRICKLED = {
    "header block": (b"HTTP/1.1 200 OK\r\n", b"x-a: " + b"v" * 4000),
    "interim replies": (b"", b"HTTP/1.1 100 Continue\r\n\r\n" * 200),
    "chunk size line": (CHUNKED, b"8;" + b"x" * 4000),
    "trailers": (CHUNKED + OK_CHUNK + b"0\r\n", b"x-t: " + b"1" * 4000),
}


@pytest.mark.parametrize("parts", TRICKLED.values(), ids=TRICKLED.keys())
@on_both_wires
def test_a_reply_trickled_in_any_part_ends_at_the_deadline(
    make_gateway: Any, scripted: Any, parts: tuple[bytes, bytes]
) -> None:
    server = scripted(lambda number, body: parts, gap=0.02)
    gw = make_gateway(base_url=server.base_url, timeout=0.5, max_retries=0)
    with pytest.raises(GatewayTimeoutError):
        gw.create("chat/completions", {})


# -- sockets ----------------------------------------------------------------------------------


@on_both_wires
def test_a_stream_read_after_it_was_closed_raises_a_gateway_error(
    make_gateway: Any, server: TestServer
) -> None:
    server.queue(Reply(chunks=sse({"a": 1}, {"a": 2}, done=False), hold=True))
    stream = make_gateway(max_retries=0).stream("chat/completions", {})
    events = iter(stream)
    assert next(events) == {"a": 1}
    stream.close()
    with pytest.raises(GatewayError):  # the server holds the stream open: it cannot just end
        for _ in events:
            pass


def _numbered(number: int, body: bytes) -> tuple[bytes, bytes]:
    reply = json.dumps({"n": number, "echo": json.loads(body)}).encode()
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(reply), reply), b""


AFTER_THE_END = {
    "length": b'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\n{"n":99}',
    "chunked": CHUNKED + b'8\r\n{"n":99}\r\n0\r\n\r\n',
}


@pytest.mark.parametrize("extra", AFTER_THE_END.values(), ids=AFTER_THE_END.keys())
@on_both_wires
def test_a_connection_with_bytes_after_a_reply_is_not_reused(
    make_gateway: Any, scripted: Any, extra: bytes, wire: str
) -> None:
    if wire == "httpx":
        pytest.xfail(
            "httpcore keeps the bytes after a reply for the next request on its connection"
        )

    def answer(number: int, body: bytes) -> tuple[bytes, bytes]:
        at_once, _ = _numbered(number, body)
        return at_once + extra, b""  # a second reply nobody asked for, right behind the first

    server = scripted(answer)
    gw = make_gateway(base_url=server.base_url, max_retries=0)
    assert [gw.create("chat/completions", {"i": i}).body["n"] for i in range(3)] == [1, 1, 1]
    assert server.accepted == 3


@on_both_wires
def test_threads_sharing_a_gateway_each_get_their_own_reply(
    make_gateway: Any, scripted: Any
) -> None:
    server = scripted(_numbered)
    gw = make_gateway(base_url=server.base_url, max_retries=0)
    wrong: list[Any] = []

    def calls(thread: int) -> None:
        for i in range(25):
            try:
                body = gw.create("chat/completions", {"t": thread, "i": i}).body
                if body["echo"] != {"t": thread, "i": i}:
                    wrong.append(body)
            except Exception as exc:  # reported below
                wrong.append(exc)

    threads = [threading.Thread(target=calls, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert server.accepted <= 8  # connections were reused, never shared by two calls at once
    gw.close()
    assert server.wait_closed()


class ClosingTLSServer(TLSServer):
    """Answers one request per TLS connection (kept alive, it says), then ends the connection
    with a TLS close_notify, or with a bare close (``notify=False``)."""

    def __init__(self, context: Any, notify: bool) -> None:
        self.notify = notify
        self.ended = threading.Event()  # set once a connection's end has been sent
        super().__init__(context)

    def _answer(self, raw: socket.socket) -> None:
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            conn.sendall(b'HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\n{"ok":1}')
            if self.notify:  # send close_notify, without waiting for the client's
                conn.settimeout(0.2)
                with contextlib.suppress(OSError, ValueError):
                    conn.unwrap()
            conn.close()
        except (OSError, ValueError):
            return
        finally:
            self.ended.set()


@pytest.mark.parametrize("notify", [True, False], ids=["close_notify", "bare close"])
@pytest.mark.parametrize("fast", [False, True], ids=["httpx", "sockets"])
def test_a_tls_connection_the_server_ended_is_not_reused(
    tls: tuple[Any, Any], fast: bool, notify: bool
) -> None:
    if not fast and not notify:
        pytest.xfail("httpcore reuses a TLS connection the server closed without close_notify")
    server = ClosingTLSServer(tls[0], notify)
    try:
        with _client(tls[1], fast) as client:
            for _ in range(3):
                assert client.post(server.url, content=b"{}").json() == {"ok": 1}
                assert server.ended.wait(5)  # the next call finds the connection ended
                server.ended.clear()
        assert server.accepted == 3
    finally:
        server.close()


# -- what comes before a fault ----------------------------------------------------------------


def _h11_body_before_end(wire: bytes) -> tuple[bytes, bool]:
    """The body bytes h11 hands on from ``wire`` (then the end of the connection) before the
    reply ends or fails, and whether it ended."""
    import h11

    conn = h11.Connection(our_role=h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(wire)
    conn.receive_data(b"")
    body = b""
    try:
        while True:
            event = conn.next_event()
            if isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return body, True
            elif event is h11.NEED_DATA or isinstance(event, h11.ConnectionClosed):
                return body, False
    except h11.RemoteProtocolError:
        return body, False


def _read_before_end(wire: bytes, recv_size: int) -> tuple[bytes, bool]:
    """The body bytes the socket transport hands on from ``wire`` before it ends or fails."""
    ours, theirs = socket.socketpair()
    transport = wire_module.SocketTransport(
        verify=httpx.create_ssl_context(), limits=httpx.Limits(max_keepalive_connections=1)
    )
    sent = threading.Thread(target=lambda: (theirs.sendall(wire), theirs.shutdown(socket.SHUT_WR)))
    sent.start()
    original = wire_module._RECV
    wire_module._RECV = recv_size
    got: list[bytes] = []
    try:
        conn = wire_module._Connection(ours, ("http", "x", 80))
        head = wire_module._read_head(conn, 5.0)
        framing, length = wire_module.body_framing(head, "POST")
        body = wire_module._Body(transport, conn, framing, length, head.keep_alive, 5.0)
        got.extend(body)
    except httpx.HTTPError:
        return b"".join(got), False
    finally:
        wire_module._RECV = original
        sent.join()
        ours.close()
        theirs.close()
        transport.close()
    return b"".join(got), True


def test_chunks_read_ahead_of_a_bad_size_line_are_handed_on_before_the_error() -> None:
    wire = CHUNKED + b"5\r\nhello\r\n3\r\nabc\r\nzz\r\n0\r\n\r\n"
    assert _read_before_end(wire, 65536) == (b"helloabc", False)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(
        st.sampled_from(
            [
                b"5\r\n",
                b"3;x\r\n",
                b"abcde",
                b"abc",
                b"\r\n",
                b"0\r\n",
                b"x-t: 1\r\n",
                b"bad trailer\r\n",
                b"\n",
                b"zz\r\n",
                b"0\r\n\r\n",
                b"5\r\nabcde\r\n",
                b"3\r\nabc\r\n",
            ]
        ),
        max_size=12,
    ).map(b"".join),
    recv_size=st.one_of(st.integers(1, 64), st.integers(65, 8192)),
)
def test_the_body_ahead_of_a_chunked_fault_is_what_h11_hands_on(
    body: bytes, recv_size: int
) -> None:
    """Whatever a chunked body holds and however it is cut into reads (large reads bring many
    chunks at once), the bytes handed on before it ends or fails are those h11 hands on."""
    wire = CHUNKED + body
    assert _read_before_end(wire, recv_size) == _h11_body_before_end(wire)
