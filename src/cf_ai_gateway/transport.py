"""HTTP transport: pooled httpx clients, retries, and error translation at the boundary.

One sync and one async ``httpx`` client per :class:`Transport`, each created on first use.
Connection errors, timeouts before a response, 429 and 5xx are retried with exponential backoff
and jitter, honouring ``Retry-After``, up to ``max_retries`` times; other 4xx never are. Every
httpx exception is translated here, once, into a :class:`~cf_ai_gateway.GatewayError`
subclass with ``raise ... from exc``, and every failed response into the typed error its
envelope names. Streams are retried only until their first byte arrives.
"""

from __future__ import annotations

import json
import logging
import time
import weakref
from collections.abc import Mapping
from typing import Any

import httpx

from .auth import GatewayAuth
from .checks import check_timeout_value
from .config import GatewayConfig
from .errors import (
    ConfigurationError,
    GatewayConnectionError,
    GatewayError,
    GatewayTimeoutError,
    error_from_response,
    scrub,
)
from .info import GatewayInfo

__all__ = ["Transport", "is_retryable_status"]

logger = logging.getLogger("cf_ai_gateway")

MAX_RETRY_AFTER = 60.0
MAX_BACKOFF = 8.0
_USER_AGENT = "cf-ai-gateway-python/0.1.0"
_JSON_HEADERS = {"content-type": "application/json", "accept": "application/json"}
_SSE_HEADERS = {"content-type": "application/json", "accept": "text/event-stream"}


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
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise ConfigurationError("http_client must be an httpx.Client")
        if async_http_client is not None and not isinstance(async_http_client, httpx.AsyncClient):
            raise ConfigurationError("async_http_client must be an httpx.AsyncClient")
        if not isinstance(max_retries, int) or isinstance(max_retries, bool) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be a non-negative integer; got {max_retries!r}")
        self.config = config
        self.auth = GatewayAuth(config)
        self.timeout = check_timeout(timeout) or httpx.Timeout(None)
        self.max_retries = max_retries
        self.retry_base_delay = retry_base_delay
        self._client = http_client
        self._user_aclient = async_http_client
        # Our own async clients, one per live event loop: a pool is bound to the loop that opened it.
        self._aclients: dict[int, tuple[weakref.ref[Any], httpx.AsyncClient]] = {}
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
        self._timeout_ext = {"timeout": self.timeout.as_dict()}

    # -- clients ------------------------------------------------------------------------------
    def _new_client_kwargs(self) -> dict[str, Any]:
        return {
            "timeout": self.timeout,
            "limits": httpx.Limits(max_connections=100, max_keepalive_connections=20),
            "follow_redirects": False,
        }

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(**self._new_client_kwargs())
        return self._client

    @property
    def aclient(self) -> httpx.AsyncClient:
        """The async client for the running event loop (created on first use in that loop)."""
        if self._user_aclient is not None:
            return self._user_aclient
        import asyncio

        loop = asyncio.get_running_loop()
        entry = self._aclients.get(id(loop))
        if entry is not None and entry[0]() is loop:
            return entry[1]
        # Forget the clients of loops that are gone or closed (their sockets go with them).
        for key, (ref, _) in list(self._aclients.items()):
            old = ref()
            if old is None or old.is_closed():
                del self._aclients[key]
        client = httpx.AsyncClient(**self._new_client_kwargs())
        self._aclients[id(loop)] = (weakref.ref(loop), client)
        return client

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
            await entry[1].aclose()
        self.close()

    # -- request building ---------------------------------------------------------------------
    def build_request(
        self,
        client: httpx.Client | httpx.AsyncClient,
        method: str,
        url: str,
        body: Any,
        headers: Mapping[str, str],
        *,
        stream: bool,
        timeout: float | httpx.Timeout | None = None,
    ) -> httpx.Request:
        content = encode_body(body) if body is not None else None
        call_timeout = check_timeout(timeout)
        if call_timeout is not None:
            extensions = {"timeout": call_timeout.as_dict()}
        else:
            extensions = self._timeout_ext
        if (client is self._client and self._owns_client) or (
            isinstance(client, httpx.AsyncClient) and client is not self._user_aclient
        ):
            # Our own client has no defaults of its own: skip its merge step.
            merged = dict(self._signed_sse if stream else self._signed_json)
            if headers:
                merged.update(headers)
            return httpx.Request(method, url, content=content, headers=merged, extensions=extensions)
        merged = dict(self._sse_headers if stream else self._json_headers)
        if headers:
            merged.update(headers)
        request = client.build_request(
            method, url, content=content, headers=merged,
            extensions=extensions if timeout is not None else None,
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
        return is_retryable_status(status) and error.code not in NON_TRANSIENT_CODES

    def _translate(self, exc: httpx.HTTPError) -> GatewayError:
        url = str(exc.request.url) if _has_request(exc) else self.config.provider_base_url
        if isinstance(exc, httpx.TimeoutException):
            return GatewayTimeoutError(f"request to {url} timed out ({type(exc).__name__})")
        return GatewayConnectionError(
            f"could not reach {url}: {type(exc).__name__}: {_short(str(exc), self.secrets)}"
        )

    def error_for(self, response: httpx.Response) -> GatewayError:
        info = GatewayInfo.from_headers(response.headers, response.status_code)
        if response.status_code < 400:
            location = scrub(response.headers.get("location", "?"), self.secrets)[:200]
            return GatewayError(
                f"the gateway answered with a redirect to {location}, which is not followed: "
                "it would carry the credentials to another address; check base_url",
                status_code=response.status_code, log_id=info.log_id, info=info,
            )
        return error_from_response(
            response.status_code, response.headers, response.content, info=info, secrets=self.secrets
        )

    # -- sync ---------------------------------------------------------------------------------
    def send(self, request_factory: Any, *, stream: bool = False) -> httpx.Response:
        """Send with retries; return a successful response (streamed responses left open)."""
        attempt = 0
        while True:
            request = request_factory()
            try:
                response = self.client.send(request, stream=stream, follow_redirects=False)
            except httpx.HTTPError as exc:
                error = self._translate(exc)
                if attempt < self.max_retries and not isinstance(exc, httpx.UnsupportedProtocol):
                    self._sleep(attempt, None, error)
                    attempt += 1
                    continue
                raise error from exc
            if response.status_code < 300:
                return response
            try:
                if stream:
                    response.read()
            except httpx.HTTPError as exc:
                raise self._translate(exc) from exc
            finally:
                if stream:
                    response.close()
            error = self.error_for(response)
            if self._retryable(response.status_code, error) and attempt < self.max_retries:
                self._sleep(attempt, error.retry_after, error)
                attempt += 1
                continue
            raise error

    def _sleep(self, attempt: int, retry_after: float | None, error: GatewayError) -> None:
        delay = self._delay(attempt, retry_after)
        logger.info("retrying in %.2fs after %s (attempt %d)", delay, type(error).__name__, attempt + 1)
        time.sleep(delay)

    # -- async --------------------------------------------------------------------------------
    async def asend(self, request_factory: Any, *, stream: bool = False) -> httpx.Response:
        attempt = 0
        while True:
            request = request_factory()
            try:
                response = await self.aclient.send(request, stream=stream, follow_redirects=False)
            except httpx.HTTPError as exc:
                error = self._translate(exc)
                if attempt < self.max_retries and not isinstance(exc, httpx.UnsupportedProtocol):
                    await self._asleep(attempt, None, error)
                    attempt += 1
                    continue
                raise error from exc
            if response.status_code < 300:
                return response
            try:
                if stream:
                    await response.aread()
            except httpx.HTTPError as exc:
                raise self._translate(exc) from exc
            finally:
                if stream:
                    await response.aclose()
            error = self.error_for(response)
            if self._retryable(response.status_code, error) and attempt < self.max_retries:
                await self._asleep(attempt, error.retry_after, error)
                attempt += 1
                continue
            raise error

    async def _asleep(self, attempt: int, retry_after: float | None, error: GatewayError) -> None:
        delay = self._delay(attempt, retry_after)
        logger.info("retrying in %.2fs after %s (attempt %d)", delay, type(error).__name__, attempt + 1)
        import asyncio  # deferred: sync users never load asyncio

        await asyncio.sleep(delay)


def _has_request(exc: httpx.HTTPError) -> bool:
    try:
        exc.request  # noqa: B018
    except RuntimeError:
        return False
    return True


def _short(text: str, secrets: tuple[str, ...]) -> str:
    return scrub(text, secrets)[:300]
