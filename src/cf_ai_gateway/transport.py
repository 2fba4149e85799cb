"""HTTP transport: pooled httpx clients, retries, and error translation at the boundary.

One sync client per :class:`Transport` and one async client per event loop, each created on
first use; the async client of a loop is closed when that loop shuts down. Each holds at most
``max_connections`` connections, and requests beyond them wait their turn in a
:mod:`.pool_gate` in front of its pool, within their deadline. Connection errors,
timeouts before a response, 429 and 5xx are retried with exponential backoff and jitter,
honouring ``Retry-After``, up to ``max_retries`` times; other 4xx never are. A response that
began is never sent again: a body that breaks off, stalls or does not decode is raised. The
whole call, retries and waits included, ends by its ``timeout`` (see :mod:`.deadline`). Every
httpx exception is translated here, once, into a :class:`~cf_ai_gateway.GatewayError`
subclass with ``raise ... from exc``, and every failed response into the typed error its
envelope names; error bodies are read up to :data:`MAX_ERROR_BODY` bytes.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from .auth import GatewayAuth
from .checks import check_timeout_value
from .config import DEFAULT_MAX_CONNECTIONS, KEEPALIVE_EXPIRY, GatewayConfig
from .deadline import Deadline, bounded, deadline_client, deadline_seconds
from .errors import (
    ConfigurationError,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    SpendLimitError,
    StreamError,
    error_from_response,
    scrub,
    scrub_chain,
)
from .info import GatewayInfo
from .loop_clients import LoopClient
from .pool_gate import PoolGate, ThreadPoolGate
from .sse import DEFAULT_MAX_EVENT_SIZE

if TYPE_CHECKING:
    import ssl

__all__ = ["Transport", "is_retryable_status"]

logger = logging.getLogger("cf_ai_gateway")

MAX_RETRY_AFTER = 60.0
MAX_BACKOFF = 8.0
MAX_ERROR_BODY = 1024 * 1024  # far more than any real error message
# The largest reply body read (after decoding): the biggest real replies, embeddings of 2048
# texts at 3072 dimensions as JSON floats, are about half of it.
MAX_REPLY_BODY = 256 * 1024 * 1024


class _ReplyTooLarge(httpx.HTTPError):
    """A reply body longer than :data:`MAX_REPLY_BODY` bytes."""


_USER_AGENT = "cf-ai-gateway-python/0.1.0"
_CLIENT_LOCK = threading.Lock()
_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_SSE_HEADERS = {"content-type": "application/json", "accept": "text/event-stream"}
_MAX_CACHED_URLS = 256  # parsed endpoint URLs kept per transport (a gateway has a handful)


def is_retryable_status(status: int) -> bool:
    """429 and every 5xx are retried; no other status is."""
    return status == 429 or status >= 500


# Codes whose 429/5xx will not clear within a retry's wait: spend limits, exhausted credits.
NON_TRANSIENT_CODES = frozenset({2021, 2041, 2045})


def encode_body(body: Any) -> bytes:
    """Compact JSON bytes of a request body; NaN, infinities and non-JSON values are refused."""
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigurationError(f"the request body is not valid JSON: {exc}") from None


def check_timeout(timeout: Any, arg: str = "timeout") -> httpx.Timeout | None:
    """A positive number of seconds, an ``httpx.Timeout``, or None (no timeout)."""
    if timeout is None or isinstance(timeout, httpx.Timeout):
        return timeout
    return httpx.Timeout(check_timeout_value(timeout, arg))


class Transport:
    """Sends requests for one :class:`GatewayConfig`. Thread-safe for the sync client."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        timeout: float | httpx.Timeout | None = 60.0,
        max_retries: int = 2,
        retry_base_delay: float = 0.5,
        http_client: httpx.Client | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_keepalive: int | None = None,
        wire: str = "httpx",
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise ConfigurationError("http_client must be an httpx.Client")
        if async_http_client is not None and not isinstance(async_http_client, httpx.AsyncClient):
            raise ConfigurationError("async_http_client must be an httpx.AsyncClient")
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise ConfigurationError(
                f"max_retries must be a non-negative integer; got {max_retries!r}"
            )
        if (
            not isinstance(max_event_size, int)
            or isinstance(max_event_size, bool)
            or max_event_size < 1
        ):
            raise ConfigurationError(
                f"max_event_size must be a positive number of bytes; got {max_event_size!r}"
            )
        self.config = config
        self.auth = GatewayAuth(config)
        self.timeout = check_timeout(timeout) or httpx.Timeout(None)
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self.max_event_size = max_event_size
        # Pool limits of the clients this transport creates, and the gate of the sync one
        # (each event loop's async client has its own gate: see ``_aclient_and_gate``).
        self.max_connections = max_connections
        self.max_keepalive = max_connections if max_keepalive is None else max_keepalive
        self._sync_gate = ThreadPoolGate(max_connections) if http_client is None else None
        self.wire = wire  # "httpx", or "aiohttp": the fast wires (aiohttp async, sockets sync)
        self._client = http_client
        self._user_aclient = async_http_client
        # Our own async clients, one per live event loop: a pool is bound to the loop that opened
        # it. Each has a closer that the loop runs at shutdown (see ``_closer``).
        self._aclients: dict[int, LoopClient] = {}
        self._ssl_context: ssl.SSLContext | None = None
        self._owns_client = http_client is None
        self.secrets = config.secrets()
        base = {
            "accept-encoding": "gzip, deflate",
            "connection": "keep-alive",
            "user-agent": _USER_AGENT,
            **config.default_headers,
        }
        self._json_headers = {**base, **_JSON_HEADERS}
        self._sse_headers = {**base, **_SSE_HEADERS}
        # Requests on our own clients are built directly, with the auth headers already merged.
        signed: httpx.Headers = httpx.Headers()
        self.auth.apply(signed)
        self._signed_json = {**self._json_headers, **dict(signed)}
        self._signed_sse = {**self._sse_headers, **dict(signed)}
        self._urls: dict[str, httpx.URL] = {}

    def sibling(self, config: GatewayConfig) -> Transport:
        """A transport for another provider route of the same gateway, on this one's clients."""
        other = Transport(
            config,
            timeout=self.timeout,
            max_retries=self.max_retries,
            retry_base_delay=self.retry_base_delay,
            http_client=self.client,
            async_http_client=self._user_aclient,
            max_event_size=self.max_event_size,
            max_connections=self.max_connections,
            max_keepalive=self.max_keepalive,
            wire=self.wire,
        )
        # The per-loop async clients and the gates are shared too: closing this transport
        # closes them.
        other._aclients = self._aclients
        other._sync_gate = self._sync_gate
        return other

    # -- clients ------------------------------------------------------------------------------
    def _new_client_kwargs(self) -> dict[str, Any]:
        if self._ssl_context is None:
            # Loading the CA bundle costs ~0.2 s: once per transport, not once per event loop.
            self._ssl_context = httpx.create_ssl_context()
        return {
            "verify": self._ssl_context,
            "timeout": self.timeout,
            "limits": httpx.Limits(
                max_connections=self.max_connections,
                max_keepalive_connections=self.max_keepalive,
                keepalive_expiry=KEEPALIVE_EXPIRY,
            ),
            "follow_redirects": False,
        }

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            with _CLIENT_LOCK:  # threads racing to the first call share one client and pool
                if self._client is None:
                    client = deadline_client(wire=self.wire, **self._new_client_kwargs())
                    # Closed with this transport when the caller never closes it: no socket
                    # outlives it.
                    self._finalizer = weakref.finalize(self, client.close)
                    self._client = client
        return self._client

    @property
    def aclient(self) -> httpx.AsyncClient:
        """The async client for the running event loop (created on first use in that loop)."""
        return self._aclient_and_gate()[0]

    def _aclient_and_gate(self) -> tuple[httpx.AsyncClient, PoolGate | None]:
        """The running loop's async client and its pool gate (none on a client passed in)."""
        if self._user_aclient is not None:
            return self._user_aclient, None
        import asyncio

        loop = asyncio.get_running_loop()
        entry = self._aclients.get(id(loop))
        if entry is not None and entry.loop() is loop:
            return entry.client, entry.gate
        # Drop the clients of loops that are gone: their closers ran at the loop's shutdown.
        for key, old in list(self._aclients.items()):
            old_loop = old.loop()
            if old_loop is None or old_loop.is_closed():
                old.abandon()
                del self._aclients[key]
        client = self._new_aclient()
        # httpcore's pool (the httpx wire) needs its requests to enter one at a time;
        # aiohttp's connector hands each waiting request its own connection.
        gate = PoolGate(self.max_connections, serial_entry=self.wire != "aiohttp")
        entry = LoopClient(loop, client, gate)
        self._aclients[id(loop)] = entry
        return entry.client, entry.gate

    def _new_aclient(self) -> httpx.AsyncClient:
        kwargs = self._new_client_kwargs()
        if self.wire == "aiohttp":
            from .aiohttp_transport import AiohttpTransport

            kwargs["transport"] = AiohttpTransport(verify=kwargs["verify"], limits=kwargs["limits"])
        return httpx.AsyncClient(**kwargs)

    def close(self) -> None:
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close the async client of the running loop, forget the others, and close the sync one."""
        import asyncio

        entry = self._aclients.pop(id(asyncio.get_running_loop()), None)
        self._aclients.clear()
        if entry is not None:
            await entry.aclose()
        self.close()

    # -- request building ---------------------------------------------------------------------
    def parsed_url(self, url: str) -> httpx.URL:
        """``url`` parsed once and kept: parsing costs more than building the rest of a request."""
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _MAX_CACHED_URLS:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    def build_request(
        self,
        client: httpx.Client | httpx.AsyncClient,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str],
        *,
        stream: bool,
    ) -> httpx.Request:
        """A signed request; :meth:`send` sets its timeouts from the call's deadline."""
        content = encode_body(body) if body is not None else None
        if (client is self._client and self._owns_client) or (
            isinstance(client, httpx.AsyncClient) and client is not self._user_aclient
        ):
            # Our own client has no defaults of its own: skip its merge step.
            merged = dict(self._signed_sse if stream else self._signed_json)
            if headers:
                merged.update(headers)
            return httpx.Request(method, self.parsed_url(url), content=content, headers=merged)
        merged = dict(self._sse_headers if stream else self._json_headers)
        if headers:
            merged.update(headers)
        request = client.build_request(
            method, self.parsed_url(url), content=content, headers=merged
        )
        self.auth.apply(request.headers)
        return request

    # -- retry policy -------------------------------------------------------------------------
    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        import random  # deferred: only retries need it

        base: float = min(self.retry_base_delay * (2.0**attempt), MAX_BACKOFF)
        return base * (0.75 + random.random() * 0.25)

    def _retryable(self, status: int, error: GatewayError) -> bool:
        return (
            is_retryable_status(status)
            and error.code not in NON_TRANSIENT_CODES
            and not isinstance(error, SpendLimitError)
        )

    def _wait_before_retry(
        self, attempt: int, error: GatewayError, deadline: Deadline, retry_after: float | None
    ) -> float | None:
        """Seconds to wait before the next attempt, or None when none may follow."""
        if attempt >= self.max_retries:
            return None
        delay = self._delay(attempt, retry_after)
        left = deadline.remaining()
        if left is not None and max(delay, retry_after or 0.0) >= left:
            return None  # the wait the server asks for outlasts the deadline: raise at once
        logger.info(
            "retrying in %.2fs after %s (attempt %d)", delay, type(error).__name__, attempt + 1
        )
        return delay

    def _translate(self, exc: httpx.HTTPError) -> GatewayError:
        scrub_chain(exc, self.secrets)  # a parser's message may quote reply bytes
        url = str(exc.request.url) if _has_request(exc) else self.config.provider_base_url
        if isinstance(exc, httpx.TimeoutException):
            return GatewayTimeoutError(f"request to {url} timed out ({type(exc).__name__})")
        if getattr(exc, "may_be_answered", False):
            return GatewayConnectionError(
                f"the reply from {url} could not be parsed ({type(exc).__name__}); it may have "
                "been answered, so it is not sent again"
            )
        return GatewayConnectionError(
            f"could not reach {url}: {type(exc).__name__}: {_short(str(exc), self.secrets)}"
        )

    def error_for(self, response: httpx.Response, content: bytes | None = None) -> GatewayError:
        info = GatewayInfo.from_headers(response.headers, response.status_code)
        if response.status_code < 400:
            location = scrub(response.headers.get("location", "?"), self.secrets)[:200]
            return GatewayError(
                f"the gateway answered with a redirect to {location}, which is not followed: "
                "it would carry the credentials to another address; check base_url",
                status_code=response.status_code,
                log_id=info.log_id,
                info=info,
            )
        body = response.content if content is None else content
        return error_from_response(
            response.status_code, response.headers, body, info=info, secrets=self.secrets
        )

    def body_error(self, exc: httpx.HTTPError, response: httpx.Response) -> GatewayError:
        """The error for a reply whose body broke off, stalled or did not decode.

        The request was answered, so it is never sent again: a retry would pay twice.
        """
        scrub_chain(exc, self.secrets)  # a parser's message may quote reply bytes
        info = GatewayInfo.from_headers(response.headers, response.status_code)
        fields: dict[str, Any] = {
            "status_code": response.status_code,
            "log_id": info.log_id,
            "info": info,
        }
        if isinstance(exc, httpx.TimeoutException):
            return GatewayTimeoutError(
                "the reply did not arrive within the timeout; the request was answered, "
                "so it is not sent again",
                **fields,
            )
        if isinstance(exc, _ReplyTooLarge):
            return StreamError(
                f"the reply body is larger than {MAX_REPLY_BODY // (1024 * 1024)} MiB, more than "
                "any answer of the endpoints this client calls; it was not read to its end, and "
                "the request is not sent again",
                **fields,
            )
        if isinstance(exc, httpx.DecodingError):
            return StreamError(
                f"the reply body could not be decoded ({type(exc).__name__}); "
                "the request was answered, so it is not sent again",
                **fields,
            )
        return GatewayConnectionError(
            f"the connection broke while the reply was read ({type(exc).__name__}); "
            "the request was answered, so it is not sent again",
            **fields,
        )

    def deadline(
        self,
        timeout: float | httpx.Timeout | None,
        user_client: httpx.Client | httpx.AsyncClient | None,
    ) -> tuple[Deadline, httpx.Timeout]:
        """The deadline of a call and its per-phase limits: the call's ``timeout`` if given,
        else the timeout of the user's own httpx client, else this transport's."""
        if timeout is not None:
            call = check_timeout(timeout) or self.timeout
        elif user_client is not None:
            call = user_client.timeout
        else:
            call = self.timeout
        return Deadline(deadline_seconds(call)), call

    def call_seconds(
        self, timeout: float | httpx.Timeout | None, *, asynchronous: bool
    ) -> float | None:
        """The deadline of one call in seconds; for a stream, the longest wait for an event."""
        user = self._user_aclient if asynchronous else (None if self._owns_client else self._client)
        return self.deadline(timeout, user)[0].seconds

    # -- sync ---------------------------------------------------------------------------------
    def send(
        self,
        request_factory: Any,
        *,
        stream: bool = False,
        timeout: float | httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Send with retries, all within one deadline (``timeout``, else the client's).

        Returns a successful response: read whole, or with ``stream=True`` left open after
        its headers. Only failures before a response, 429 and 5xx are retried.
        """
        deadline, call_timeout = self.deadline(timeout, None if self._owns_client else self._client)
        gate = self._sync_gate  # None on a client passed in
        attempt = 0
        while True:
            request = request_factory()
            request.extensions["timeout"] = deadline.timeouts(call_timeout)
            try:
                with bounded(deadline.end):
                    if gate is None:
                        response = self.client.send(request, stream=True, follow_redirects=False)
                    else:  # holds a pool permit until the response is closed
                        response = gate.send(self.client, request, deadline.remaining())
            except httpx.HTTPError as exc:
                error = self._translate(exc)
                delay = None
                if not isinstance(exc, httpx.UnsupportedProtocol):
                    delay = self._wait_before_retry(attempt, error, deadline, None)
                if delay is None:
                    raise error from exc
                time.sleep(delay)
                attempt += 1
                continue
            if response.status_code < 300:
                if not stream:
                    self._read_reply(response, deadline)
                return response
            content = self._read_error_body(response, deadline)
            error = self.error_for(response, content)
            delay = None
            if self._retryable(response.status_code, error):
                delay = self._wait_before_retry(attempt, error, deadline, error.retry_after)
            if delay is None:
                raise error
            time.sleep(delay)
            attempt += 1

    def _read_reply(self, response: httpx.Response, deadline: Deadline) -> None:
        chunks: list[bytes] = []
        size = 0
        try:
            with bounded(deadline.end):
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_REPLY_BODY:
                        raise _ReplyTooLarge("the reply body is too large")
                    if deadline.expired:
                        raise httpx.ReadTimeout("the call's deadline has passed")
        except httpx.HTTPError as exc:
            raise self.body_error(exc, response) from exc
        finally:
            response.close()
        response._content = b"".join(chunks)

    def _read_error_body(self, response: httpx.Response, deadline: Deadline) -> bytes:
        """Up to ``MAX_ERROR_BODY`` bytes of a failed reply (what arrived, if it broke off)."""
        chunks: list[bytes] = []
        size = 0
        try:
            with bounded(deadline.end):
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= MAX_ERROR_BODY or deadline.expired:
                        break
        except httpx.HTTPError:
            pass  # the status says enough; keep what arrived
        finally:
            response.close()
        return b"".join(chunks)[:MAX_ERROR_BODY]

    # -- async --------------------------------------------------------------------------------
    async def asend(
        self,
        request_factory: Any,
        *,
        stream: bool = False,
        timeout: float | httpx.Timeout | None = None,
    ) -> httpx.Response:
        """Async twin of :meth:`send`."""
        import anyio  # deferred: sync users never load it

        deadline, call_timeout = self.deadline(timeout, self._user_aclient)
        client, gate = self._aclient_and_gate()
        attempt = 0
        while True:
            request = request_factory()
            if gate is not None:  # a pool permit, held until the response is closed
                await gate.acquire(deadline.remaining())
            request.extensions["timeout"] = deadline.timeouts(call_timeout)
            try:
                try:
                    with anyio.fail_after(deadline.remaining()):
                        if gate is None:
                            response = await client.send(
                                request, stream=True, follow_redirects=False
                            )
                        else:
                            response = await gate.send(client, request)
                except TimeoutError:
                    raise httpx.ReadTimeout(
                        "the call's deadline has passed", request=request
                    ) from None
            except httpx.HTTPError as exc:
                error = self._translate(exc)
                delay = None
                if not _never_retried(exc):
                    delay = self._wait_before_retry(attempt, error, deadline, None)
                if delay is None:
                    raise error from exc
                await anyio.sleep(delay)
                attempt += 1
                continue
            if response.status_code < 300:
                if not stream:
                    await self._aread_reply(response, deadline)
                return response
            content = await self._aread_error_body(response, deadline)
            error = self.error_for(response, content)
            delay = None
            if self._retryable(response.status_code, error):
                delay = self._wait_before_retry(attempt, error, deadline, error.retry_after)
            if delay is None:
                raise error
            await anyio.sleep(delay)
            attempt += 1

    async def _aread_reply(self, response: httpx.Response, deadline: Deadline) -> None:
        import anyio

        chunks: list[bytes] = []
        size = 0
        try:
            try:
                with anyio.fail_after(deadline.remaining()):
                    async for chunk in response.aiter_bytes():
                        chunks.append(chunk)
                        size += len(chunk)
                        if size > MAX_REPLY_BODY:
                            raise _ReplyTooLarge("the reply body is too large")
            except TimeoutError:
                raise httpx.ReadTimeout("the call's deadline has passed") from None
        except httpx.HTTPError as exc:
            raise self.body_error(exc, response) from exc
        finally:
            await response.aclose()
        response._content = b"".join(chunks)

    async def _aread_error_body(self, response: httpx.Response, deadline: Deadline) -> bytes:
        import anyio

        chunks: list[bytes] = []
        size = 0
        try:
            with anyio.move_on_after(deadline.remaining()):
                async for chunk in response.aiter_bytes():
                    chunks.append(chunk)
                    size += len(chunk)
                    if size >= MAX_ERROR_BODY:
                        break
        except httpx.HTTPError:
            pass  # the status says enough; keep what arrived
        finally:
            await response.aclose()
        return b"".join(chunks)[:MAX_ERROR_BODY]


def _never_retried(exc: httpx.HTTPError) -> bool:
    """A URL httpx cannot send, or a reply that may have been answered (see aiohttp_transport)."""
    return isinstance(exc, httpx.UnsupportedProtocol) or bool(
        getattr(exc, "may_be_answered", False)
    )


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018
    except RuntimeError:
        return False
    return True


def _short(text: str, secrets: tuple[str, ...]) -> str:
    return scrub(text, secrets)[:300]
