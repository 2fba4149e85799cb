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

One difference remains, which is why this wire is chosen (``transport="aiohttp"``) rather than
the default: aiohttp parses each socket read whole, so when a reply's headers arrive in the same
read as a malformed body, both are lost and the reply surfaces as :class:`UnreadableReply`
without its headers (no log id). The request may have been answered, so it is never sent again,
whereas httpx would report the broken body after the headers. ``httpx-aiohttp`` (the transport
the openai SDK offers) was measured as fast, but maps a refused connection and a server that
hangs up to ``ConnectTimeout`` and lets aiohttp's own exceptions escape for malformed replies,
so the core carries this small transport instead. Sync calls stay on httpx.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from yarl import URL

__all__ = ["AiohttpTransport", "UnreadableReply"]

# httpcore lets h11 buffer up to 100 KiB of status line and headers; aiohttp's defaults are
# 8 KiB a line and 128 headers. Allow what httpx allows.
_MAX_HEADER_BYTES = 100 * 1024
_NO_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")


def _error(exc: BaseException, *, reading: bool) -> httpx.HTTPError:
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
        return httpx.RemoteProtocolError(message) if reading else UnreadableReply(message)
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message)
    if isinstance(exc, (OSError, aiohttp.ClientOSError, aiohttp.ClientConnectionError)):
        return httpx.ReadError(message) if reading else httpx.WriteError(message)
    return httpx.TransportError(message)


_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


class UnreadableReply(httpx.RemoteProtocolError):
    """A reply aiohttp could not parse before handing over its headers.

    aiohttp parses each read whole, so a status line and headers that arrive in the same read
    as a malformed body are lost with it: the request may have been answered, and the
    transport never sends it again (httpx would have reported the broken body after the
    headers, with their log id).
    """

    may_be_answered = True


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
        self._session: aiohttp.ClientSession | None = None
        self._urls: dict[str, URL] = {}

    def _open(self) -> aiohttp.ClientSession:
        limits = self._limits
        connector = aiohttp.TCPConnector(
            ssl=self._ssl,
            limit=limits.max_connections or 0,
            keepalive_timeout=limits.keepalive_expiry,
        )
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
            raise _error(exc, reading=False) from exc
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
