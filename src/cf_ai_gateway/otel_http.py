"""Tracing of the OpenAI SDK clients built by ``Gateway.openai_client()``: an httpx transport wrapper.

The SDK builds and sends its own requests, so its calls are traced where they leave: the
client's transport is wrapped by :class:`TracingTransport` (and :class:`AsyncTracingTransport`),
which passes requests straight through unless tracing is on (:func:`cf_ai_gateway.otel.instrument`
or ``Gateway(tracing=True)``). When on, each HTTP request gets a ``CLIENT`` span with the same
attributes as the core's (see :mod:`cf_ai_gateway.otel`) and the trace-context headers; the span
ends when the response body has been read or closed, a stream's on its last event. The SDK's own
retries each get a span.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from . import otel
from . import otel_attributes as attributes
from .sse import SSEError
from .wire.events import TERMINAL_EVENTS

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from .client import Gateway
    from .config import GatewayConfig

__all__ = ["AsyncTracingTransport", "TracingTransport", "attach"]

MAX_OBSERVED_BODY = 8 * 1024 * 1024  # a JSON reply larger than this is not parsed for attributes


def _endpoint(path: str) -> str:
    for endpoint in ("chat/completions", "responses", "embeddings", "completions"):
        if path.rstrip("/").endswith("/" + endpoint):
            return endpoint
    return path.rsplit("/", 1)[-1]


def _request_body(request: httpx.Request) -> Any:
    try:
        content = request.content
    except httpx.RequestNotRead:
        return None
    try:
        return json.loads(content) if content else None
    except (ValueError, RecursionError):
        return None


class _Exchange:
    """The span of one HTTP exchange and what it learns from the response as it is read."""

    def __init__(self, config: GatewayConfig, request: httpx.Request, capture: bool) -> None:
        from opentelemetry.trace import SpanKind

        self.endpoint = _endpoint(request.url.path)
        self.capture = capture
        self._secrets = config.secrets()
        self.span: Span = otel._tracer().start_span("chat", kind=SpanKind.CLIENT)
        self.observer: otel._StreamObserver | None = None
        self._body = bytearray()
        self._status = 0
        self._headers: httpx.Headers = httpx.Headers()
        self._sse: Any = None
        self._undecodable = False  # the stream's bytes stopped being events
        self._first = True
        self._terminal = False
        if not self.span.is_recording():
            return
        body = _request_body(request)
        attrs = attributes.request_attributes(
            config, str(request.url), attributes.operation_name(self.endpoint), body
        )
        self.span.update_name(attributes.span_name(attrs))
        self.span.set_attributes(attrs)
        if capture:
            attributes.set_input(self.span, body)
        request.headers.update(attributes.propagation_headers(self.span))

    def fail(self, exc: BaseException) -> None:
        otel._safely(attributes.set_error, self.span, exc)
        self.span.end()

    def on_response(self, response: httpx.Response) -> None:
        from .info import GatewayInfo

        self._status = response.status_code
        self._headers = response.headers
        otel._safely(
            lambda: attributes.set_info(
                self.span, GatewayInfo.from_headers(response.headers, response.status_code)
            )
        )
        if (
            response.headers.get("content-type", "").startswith("text/event-stream")
            and response.status_code < 400
        ):
            from .sse import SSEDecoder

            self._sse = SSEDecoder()
            self.observer = otel._StreamObserver(self.span, self.endpoint, self.capture)

    def chunk(self, data: bytes) -> None:
        if self._sse is None:
            if len(self._body) + len(data) <= MAX_OBSERVED_BODY:
                self._body += data
            return
        observer = self.observer
        assert observer is not None
        if observer.ended or self._undecodable:
            return
        try:
            texts = self._sse.feed(data)
        except SSEError as exc:
            # The caller's stream fails here too, after the events ahead of the fault (unless
            # it ended before them); nothing after the fault is read as events.
            self._undecodable = True
            self._events(exc.before)
            if not self._terminal:
                from .info import GatewayInfo
                from .streams import _undecodable

                observer.finish(_undecodable(exc, GatewayInfo()))
            return
        self._events(texts)

    def _events(self, texts: list[str]) -> None:
        assert self.observer is not None
        for text in texts:
            if text == "[DONE]":
                self._terminal = True
                continue
            if self._first:
                self.observer.first()
                self._first = False
            try:
                event = json.loads(text)
            except (ValueError, RecursionError):
                continue
            if isinstance(event, dict):
                self._terminal = self._terminal or event.get("type") in TERMINAL_EVENTS
                self.observer.event(event)

    def finish(self, *, complete: bool) -> None:
        if self.observer is not None:
            self.observer.finish(complete=complete or self._terminal)
            return
        if not self.span.is_recording():
            self.span.end()
            return
        otel._safely(self._finish_body)
        self.span.end()

    def _finish_body(self) -> None:
        if self._status >= 400:
            from .errors import error_from_response

            attributes.set_error(
                self.span,
                error_from_response(
                    self._status, self._headers, bytes(self._body), secrets=self._secrets
                ),
            )
            return
        try:
            body = json.loads(bytes(self._body)) if self._body else None
        except (ValueError, RecursionError):
            return
        attributes.set_result(self.span, self.endpoint, body, self.capture)


class _ObservedStream(httpx.SyncByteStream):
    def __init__(self, inner: Any, exchange: _Exchange) -> None:
        self._inner = inner
        self._exchange = exchange
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for data in self._inner:
                otel._safely(self._exchange.chunk, data)
                yield data
        except Exception as exc:
            self._done = True
            self._exchange.fail(exc)
            raise
        self._done = True
        otel._safely(self._exchange.finish, complete=True)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            if not self._done:
                self._done = True
                otel._safely(self._exchange.finish, complete=False)


class _AsyncObservedStream(httpx.AsyncByteStream):
    def __init__(self, inner: Any, exchange: _Exchange) -> None:
        self._inner = inner
        self._exchange = exchange
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for data in self._inner:
                otel._safely(self._exchange.chunk, data)
                yield data
        except Exception as exc:
            self._done = True
            self._exchange.fail(exc)
            raise
        self._done = True
        otel._safely(self._exchange.finish, complete=True)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if not self._done:
                self._done = True
                otel._safely(self._exchange.finish, complete=False)


class TracingTransport(httpx.BaseTransport):
    """Wraps a sync transport; traces its requests while tracing is on for ``gateway``."""

    def __init__(self, inner: httpx.BaseTransport, gateway: Gateway) -> None:
        self._inner = inner
        self._gateway = gateway

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not otel.tracing_enabled(self._gateway):
            return self._inner.handle_request(request)
        exchange = _Exchange(self._gateway.config, request, otel._capture(self._gateway))
        try:
            response = self._inner.handle_request(request)
        except BaseException as exc:
            exchange.fail(exc)
            raise
        exchange.on_response(response)
        response.stream = _ObservedStream(response.stream, exchange)
        return response

    def close(self) -> None:
        self._inner.close()


class AsyncTracingTransport(httpx.AsyncBaseTransport):
    """Async twin of :class:`TracingTransport`."""

    def __init__(self, inner: httpx.AsyncBaseTransport, gateway: Gateway) -> None:
        self._inner = inner
        self._gateway = gateway

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not otel.tracing_enabled(self._gateway):
            return await self._inner.handle_async_request(request)
        exchange = _Exchange(self._gateway.config, request, otel._capture(self._gateway))
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException as exc:
            exchange.fail(exc)
            raise
        exchange.on_response(response)
        response.stream = _AsyncObservedStream(response.stream, exchange)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def attach(client: httpx.Client | httpx.AsyncClient, gateway: Gateway) -> None:
    """Wrap ``client``'s default transport so its requests are traced when tracing is on."""
    inner = client._transport
    if isinstance(inner, (TracingTransport, AsyncTracingTransport)):
        return
    if isinstance(client, httpx.AsyncClient):
        client._transport = AsyncTracingTransport(inner, gateway)  # type: ignore[arg-type]
    else:
        client._transport = TracingTransport(inner, gateway)  # type: ignore[arg-type]
