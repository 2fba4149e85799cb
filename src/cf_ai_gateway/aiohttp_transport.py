"""An httpx transport on aiohttp, whose HTTP parser is written in C: the async wire of ``[fast]``.

httpx parses HTTP in pure Python (h11), which is most of a streamed event's cost when a server
flushes one HTTP chunk per event. :class:`AiohttpTransport` sends httpx requests through an
aiohttp session and returns plain ``httpx.Response`` objects, so everything above it (retries,
deadlines, auth, redirect refusal, gzip decoding, error translation) is the same code on both
wires. It keeps httpx's semantics where aiohttp's defaults differ: the URL goes out exactly as
httpx encoded it, aiohttp adds no header of its own and keeps no cookies, header blocks as large
as httpx accepts are read, content decoding is left to httpx, and every aiohttp or socket error
becomes the ``httpx`` exception httpx raises in that case (refused: ``ConnectError``; closed
before a reply: ``RemoteProtocolError``; a body cut off or badly chunked: ``RemoteProtocolError``;
a stalled read: ``ReadTimeout``). Proxies from the environment still go through httpx, which
mounts its own transports for them.

aiohttp parses each socket read whole and drops what it parsed when the read fails, so a reply's
headers that share a read with a malformed body would be lost with it (no log id, and a request
that was answered would look unanswered). The connections this transport opens feed each read
to the parser cut after every header terminator (:class:`_HeadersFirst`), so the headers are
handed over first and the broken body is reported after them, as httpx does. On an aiohttp
whose protocol cannot be swapped that way, a reply that does not parse is
:class:`UnreadableReply` and is never sent again. ``httpx-aiohttp`` (the transport the openai
SDK offers) was measured as fast, but maps a refused connection and a server that hangs up to
``ConnectTimeout``, lets aiohttp's own exceptions escape for malformed replies and has the
lost-headers problem, so the core carries this small transport instead. Sync calls of the
same wire go through :mod:`~cf_ai_gateway.socket_transport`.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from aiohttp.client_proto import ResponseHandler
from yarl import URL

__all__ = ["AiohttpTransport", "UnreadableReply"]

# httpcore lets h11 buffer up to 100 KiB of status line and headers; aiohttp's defaults are
# 8 KiB a line and 128 headers. Allow what httpx allows.
_MAX_HEADER_BYTES = 100 * 1024
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


def _error(exc: BaseException, *, reading: bool, headers_first: bool = True) -> httpx.HTTPError:
    """The httpx exception httpx raises where aiohttp raised ``exc``."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError, TimeoutError)):
        return httpx.ReadTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(exc, (aiohttp.NonHttpUrlClientError, aiohttp.InvalidURL)):
        return httpx.UnsupportedProtocol(message)
    if isinstance(exc, aiohttp.ServerDisconnectedError) and not reading:
        return httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if isinstance(exc, (aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        if reading or headers_first:
            return httpx.RemoteProtocolError(message)
        return UnreadableReply(message)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message)
    if isinstance(exc, (OSError, aiohttp.ClientOSError, aiohttp.ClientConnectionError)):
        return httpx.ReadError(message) if reading else httpx.WriteError(message)
    return httpx.TransportError(message)


_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


class UnreadableReply(httpx.RemoteProtocolError):
    """A reply that did not parse, on an aiohttp whose protocol could not be fed headers first.

    Such an aiohttp parses each read whole, so a status line and headers that arrive in the
    same read as a malformed body are lost with it: the request may have been answered, and
    the transport never sends it again.
    """

    may_be_answered = True


_END_OF_HEADERS = b"\r\n\r\n"


class _HeadersFirst(ResponseHandler):
    """aiohttp's protocol, fed so that a reply's headers are parsed before any byte after them.

    aiohttp parses each socket read whole and drops what it parsed when the read fails to parse,
    so a status line and headers that share a read with a malformed body would be lost with it.
    Feeding the read in pieces cut after each header terminator (``\\r\\n\\r\\n``, also
    when it began in the previous read) hands the headers over first, as h11 does; the parser
    is incremental, so the cuts change nothing else. A parse error after the headers then fails
    the body being read, which aiohttp would otherwise leave waiting.
    """

    _unparsed_tail = (
        b""  # the last bytes of the previous read (a terminator may straddle two reads)
    )

    def data_received(self, data: bytes) -> None:
        feed = super().data_received
        prefix = self._unparsed_tail  # bytes since the last terminator, from the previous read
        cuts = []
        found = (prefix + data[:3]).find(_END_OF_HEADERS)
        start = found + 4 - len(prefix) if found >= 0 else 0
        if start > 0:
            cuts.append(start)
        while (found := data.find(_END_OF_HEADERS, start)) >= 0:
            start = found + 4
            cuts.append(start)
        self._unparsed_tail = ((b"" if cuts else prefix) + data[start:])[-3:]
        done = 0
        for cut in cuts:
            if cut < len(data):
                feed(data[done:cut])
                done = cut
                if getattr(self, "_exception", None) is not None:
                    return  # the parser failed: the rest of this read is not parsed
        feed(data[done:] if done else data)

    def set_exception(self, exc: BaseException, *cause: Any) -> None:
        """Fail the body being read too: a reply that stops parsing mid-body is cut off."""
        super().set_exception(exc, *cause)
        body = getattr(self, "_payload", None)
        if body is not None and not body.is_eof() and body.exception() is None:
            if isinstance(exc, (aiohttp.ServerTimeoutError, asyncio.TimeoutError)):
                body.set_exception(exc)  # a stalled read stays a timeout
            else:
                body.set_exception(aiohttp.ClientPayloadError(f"the reply body broke off: {exc}"))


def _headers_first(connector: aiohttp.BaseConnector) -> bool:
    """Make ``connector`` open :class:`_HeadersFirst` connections; False if it cannot."""
    factory = getattr(connector, "_factory", None)
    if not (isinstance(factory, functools.partial) and factory.func is ResponseHandler):
        return False
    headers_first = functools.partial(_HeadersFirst, *factory.args, **factory.keywords)
    setattr(connector, "_factory", headers_first)  # noqa: B010 - a private attribute of aiohttp
    return True


class _Body(httpx.AsyncByteStream):
    """A response body read as aiohttp delivers it; closing a body not read to its end closes
    its connection instead of returning it to the pool."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        read = self._response.content.readany
        try:
            while chunk := await read():
                yield chunk
        except _ERRORS as exc:
            raise _error(exc, reading=True) from exc

    async def aclose(self) -> None:
        response = self._response
        if response.content.at_eof():
            response.release()
        else:
            response.close()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An ``httpx.AsyncBaseTransport`` on one aiohttp session, opened on first use."""

    def __init__(self, *, verify: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._ssl = verify
        self._limits = limits
        self._urls: dict[str, URL] = {}
        self.headers_first = False
        # Opened at once (the client is made inside its event loop), so that ``headers_first``
        # tells whether this aiohttp hands headers over as httpx does.
        self._session: aiohttp.ClientSession | None = self._open()

    def _open(self) -> aiohttp.ClientSession:
        limits = self._limits
        connector = aiohttp.TCPConnector(
            ssl=self._ssl,
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry,
        )
        self.headers_first = _headers_first(connector)
        return aiohttp.ClientSession(
            connector=connector,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=_NO_AUTO_HEADERS,
            auto_decompress=False,
            trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None),
            max_line_size=_MAX_HEADER_BYTES,
            max_field_size=_MAX_HEADER_BYTES,
            max_headers=_MAX_HEADER_BYTES,
        )

    def _url(self, url: httpx.URL) -> URL:
        text = str(url)
        parsed = self._urls.get(text)
        if parsed is None:
            if len(self._urls) >= 256:
                self._urls.clear()
            # Already percent-encoded by httpx: sent as is, never re-quoted.
            parsed = self._urls[text] = URL(text, encoded=True)
        return parsed

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(
                f"Request URL has an unsupported protocol '{request.url.scheme}://'."
            )
        session = self._session
        if session is None:
            session = self._session = self._open()
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        try:
            response = await session.request(
                request.method,
                self._url(request.url),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        except _ERRORS as exc:
            raise _error(exc, reading=False, headers_first=self.headers_first) from exc
        version = response.version
        extensions: dict[str, Any] = {
            "http_version": b"HTTP/%d.%d" % (version.major, version.minor) if version else b"",
            "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
        }
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Body(response),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
