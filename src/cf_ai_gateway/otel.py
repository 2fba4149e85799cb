"""OpenTelemetry tracing of gateway calls, joined to the gateway's own exported spans.

``cf_ai_gateway.otel.instrument()`` traces every :class:`~cf_ai_gateway.Gateway` (and so both
chat adapters), and every OpenAI SDK client built by ``Gateway.openai_client()``;
``Gateway(tracing=True)`` traces one client. Each call opens a ``CLIENT`` span named
``"{operation} {model}"`` with the GenAI semantic-convention attributes
(``gen_ai.operation.name``, ``gen_ai.provider.name``, ``gen_ai.request.model``,
``gen_ai.response.model``, ``gen_ai.usage.*``, ``gen_ai.response.finish_reasons``,
``error.type``) and the gateway's under ``cloudflare.ai_gateway.*`` (log id, cache status, step,
event id, request id, gateway id, routed model). While a span records, the request carries its
context as ``cf-aig-otel-trace-id`` (32 hex) and ``cf-aig-otel-parent-span-id`` (16 hex), so the
span the gateway exports nests under it; nothing is sent when no span records. A stream's span
ends on its terminal event or error and records the time to the first event. Prompts and
completions are recorded only with ``capture_content=True`` (or
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true``).

Needs ``opentelemetry-api`` (``pip install 'cf-ai-gateway[otel]'``); an SDK and exporter decide
where spans go. Telemetry never changes a call's outcome: a failure inside it is swallowed.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError
from .otel_attributes import (
    PARENT_SPAN_ID_HEADER,
    TRACE_ID_HEADER,
    operation_name,
    propagation_headers,
    request_attributes,
    set_error,
    set_info,
    set_input,
    set_result,
    set_result_fields,
    span_name,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from .client import Gateway, RawResponse
    from .streams import AsyncRawStream, RawStream

__all__ = ["instrument", "is_instrumented", "uninstrument"]

CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_TRACED_METHODS = ("create", "acreate", "stream", "astream")


@dataclass
class _Settings:
    enabled: bool = False
    capture_content: bool = False
    tracer: Any = None


_settings = _Settings()
_lock = threading.Lock()
_originals: dict[str, Callable[..., Any]] = {}


def _require_api() -> Any:
    try:
        from opentelemetry import trace
    except ImportError as exc:
        raise ConfigurationError(
            "tracing needs the OpenTelemetry API: pip install 'cf-ai-gateway[otel]'"
        ) from exc
    return trace


def _content_from_env() -> bool:
    return os.environ.get(CONTENT_ENV, "").strip().lower() in ("1", "true", "yes")


def _make_tracer(tracer_provider: TracerProvider | None) -> Tracer:
    trace = _require_api()
    from . import __version__

    tracer: Tracer = trace.get_tracer("cf_ai_gateway", __version__, tracer_provider=tracer_provider)
    return tracer


def instrument(
    *, tracer_provider: TracerProvider | None = None, capture_content: bool | None = None
) -> None:
    """Trace every gateway call of this process (idempotent; see the module docstring).

    ``tracer_provider`` defaults to the global one; ``capture_content`` records prompts and
    completions (default: the ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` variable).
    """
    tracer = _make_tracer(tracer_provider)
    from .client import Gateway

    with _lock:
        _settings.tracer = tracer
        _settings.capture_content = (
            _content_from_env() if capture_content is None else bool(capture_content)
        )
        if not _settings.enabled:
            _remember_originals(Gateway)
            for name in _TRACED_METHODS:
                setattr(Gateway, name, _TRACED[name])
            _settings.enabled = True


def uninstrument() -> None:
    """Stop tracing what :func:`instrument` traced (clients built with ``tracing=True`` go on)."""
    from .client import Gateway

    with _lock:
        if _settings.enabled:
            for name in _TRACED_METHODS:
                setattr(Gateway, name, _originals[name])
            _settings.enabled = False
        _settings.tracer = None  # clients built with tracing=True use the global provider again
        _settings.capture_content = False


def is_instrumented() -> bool:
    """True between :func:`instrument` and :func:`uninstrument`."""
    return _settings.enabled


def _remember_originals(gateway_class: type[Gateway]) -> None:
    if not _originals:
        for name in _TRACED_METHODS:
            _originals[name] = getattr(gateway_class, name)


def trace_gateway(
    gateway: Gateway, tracing: Any = True, *, capture_content: bool | None = None
) -> None:
    """Trace one client (what ``Gateway(tracing=True)`` does)."""
    if tracing is not True:
        raise ConfigurationError(f"tracing must be True or False; got {tracing!r}")
    _require_api()
    from .client import Gateway

    with _lock:
        _remember_originals(Gateway)
    gateway._otel_content = _content_from_env() if capture_content is None else capture_content  # type: ignore[attr-defined]
    for name in _TRACED_METHODS:
        method = _TRACED[name].__get__(gateway, type(gateway))
        setattr(gateway, name, method)


def tracing_enabled(gateway: Any) -> bool:
    """Whether calls of ``gateway`` (a Gateway) are traced."""
    return _settings.enabled or "_otel_content" in getattr(gateway, "__dict__", {})


def _tracer() -> Tracer:
    tracer = _settings.tracer
    if tracer is None:
        tracer = _settings.tracer = _make_tracer(None)
    return tracer  # type: ignore[no-any-return]


def _capture(gateway: Any) -> bool:
    return bool(
        getattr(gateway, "_otel_content", False)
        or (_settings.enabled and _settings.capture_content)
    )


# --- the traced Gateway calls ------------------------------------------------------------------


def _start(gateway: Any, endpoint: str, body: Any) -> tuple[Span, dict[str, str]]:
    from opentelemetry.trace import SpanKind

    span = _tracer().start_span("chat", kind=SpanKind.CLIENT)
    if not span.is_recording():
        return span, {}
    url = gateway.config.url(endpoint)
    attrs = request_attributes(gateway.config, url, operation_name(endpoint), body)
    span.update_name(span_name(attrs))
    span.set_attributes(attrs)
    if _capture(gateway):
        set_input(span, body)
    return span, propagation_headers(span)


def _with_headers(kwargs: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    """``kwargs`` with the trace context added to the call's gateway options."""
    if headers:
        from .options import GatewayOptions

        context = {
            "otel_trace_id": headers[TRACE_ID_HEADER],
            "otel_parent_span_id": headers[PARENT_SPAN_ID_HEADER],
        }
        kwargs["options"] = GatewayOptions.coerce(kwargs.get("options")).merge(context)
    return kwargs


def _safely(action: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    with contextlib.suppress(Exception):  # telemetry must never change the call's outcome
        action(*args, **kwargs)


def _traced_create(self: Gateway, endpoint: str, body: Any, **kwargs: Any) -> RawResponse:
    from opentelemetry.trace import use_span

    span, headers = _start(self, endpoint, body)
    if not headers and not span.is_recording():
        return _originals["create"](self, endpoint, body, **kwargs)  # type: ignore[no-any-return]
    with use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
        try:
            raw: RawResponse = _originals["create"](
                self, endpoint, body, **_with_headers(kwargs, headers)
            )
        except BaseException as exc:
            _safely(set_error, span, exc)
            raise
        if span.is_recording():
            _safely(set_info, span, raw.info)
            _safely(set_result, span, endpoint, raw.body, _capture(self))
        return raw


async def _traced_acreate(self: Gateway, endpoint: str, body: Any, **kwargs: Any) -> RawResponse:
    from opentelemetry.trace import use_span

    span, headers = _start(self, endpoint, body)
    if not headers and not span.is_recording():
        return await _originals["acreate"](self, endpoint, body, **kwargs)  # type: ignore[no-any-return]
    with use_span(span, end_on_exit=True, record_exception=False, set_status_on_exception=False):
        try:
            raw: RawResponse = await _originals["acreate"](
                self, endpoint, body, **_with_headers(kwargs, headers)
            )
        except BaseException as exc:
            _safely(set_error, span, exc)
            raise
        if span.is_recording():
            _safely(set_info, span, raw.info)
            _safely(set_result, span, endpoint, raw.body, _capture(self))
        return raw


class _StreamObserver:
    """Watches a stream's events for its span: first-event time, result fields, the end."""

    __slots__ = ("_capture", "_endpoint", "_handler", "_started", "ended", "info_source", "span")

    def __init__(self, span: Span, endpoint: str, capture: bool) -> None:
        self.span = span
        self._endpoint = endpoint.strip("/")
        self._capture = capture
        self._started = time.monotonic()
        self._handler: Any = None
        self.ended = False
        self.info_source: Callable[[], Any] | None = None
        try:
            if self._endpoint in ("chat/completions", "responses"):
                from .wire import chat, responses

                wire = chat if self._endpoint == "chat/completions" else responses
                self._handler = wire.StreamHandler()
        except Exception:
            self._handler = None

    def first(self) -> None:
        elapsed = time.monotonic() - self._started
        _safely(self.span.set_attribute, "gen_ai.response.time_to_first_chunk", elapsed)
        _safely(self.span.add_event, "gen_ai.first_chunk")

    def event(self, event: dict[str, Any]) -> None:
        if self._handler is not None:
            try:
                self._handler.on_event(event)
            except Exception:
                self._handler = None

    def finish(self, exc: BaseException | None = None, *, complete: bool = True) -> None:
        if self.ended:
            return
        self.ended = True
        span = self.span
        if self.info_source is not None:
            _safely(lambda: set_info(span, self.info_source() if self.info_source else None))
        if exc is not None:
            _safely(set_error, span, exc)
        elif self._handler is not None:
            handler = self._handler
            _safely(lambda: set_result_fields(span, handler.result(), self._capture))
        if exc is None and not complete:
            _safely(span.set_attribute, "cloudflare.ai_gateway.stream_closed_early", True)
        span.end()


def _observe(stream: Any, observer: _StreamObserver) -> Iterator[dict[str, Any]]:
    first = True
    try:
        for event in stream:
            if first:
                observer.first()
                first = False
            observer.event(event)
            yield event
    except GeneratorExit:
        observer.finish(complete=False)
        raise
    except BaseException as exc:
        observer.finish(exc)
        raise
    observer.finish()


async def _aobserve(stream: Any, observer: _StreamObserver) -> AsyncIterator[dict[str, Any]]:
    first = True
    try:
        async for event in stream:
            if first:
                observer.first()
                first = False
            observer.event(event)
            yield event
    except GeneratorExit:
        observer.finish(complete=False)
        raise
    except BaseException as exc:
        observer.finish(exc)
        raise
    observer.finish()


def _traced_stream(self: Gateway, endpoint: str, body: Any, **kwargs: Any) -> RawStream:
    from opentelemetry.trace import use_span

    span, headers = _start(self, endpoint, body)
    if not span.is_recording():
        return _originals["stream"](self, endpoint, body, **kwargs)  # type: ignore[no-any-return]
    with use_span(span, end_on_exit=False, record_exception=False, set_status_on_exception=False):
        try:
            raw: RawStream = _originals["stream"](
                self, endpoint, body, **_with_headers(kwargs, headers)
            )
        except BaseException as exc:
            _safely(set_error, span, exc)
            span.end()
            raise
    _safely(set_info, span, raw.info)
    observer = _StreamObserver(span, endpoint, _capture(self))
    # The stream yields through the observer from its first event to its end.
    raw._iterator = _observe(iter(raw), observer)
    close = raw.close

    def close_traced() -> None:
        close()
        observer.finish(complete=False)

    raw.close = close_traced  # type: ignore[method-assign]
    return raw


def _traced_astream(self: Gateway, endpoint: str, body: Any, **kwargs: Any) -> AsyncRawStream:
    from opentelemetry.trace import use_span

    span, headers = _start(self, endpoint, body)
    if not span.is_recording():
        return _originals["astream"](self, endpoint, body, **kwargs)  # type: ignore[no-any-return]
    with use_span(span, end_on_exit=False):
        raw: AsyncRawStream = _originals["astream"](
            self, endpoint, body, **_with_headers(kwargs, headers)
        )
    observer = _StreamObserver(span, endpoint, _capture(self))
    observer.info_source = lambda: raw.info
    opener = raw.open

    async def open_traced() -> AsyncRawStream:
        try:
            opened = await opener()
        except BaseException as exc:
            observer.finish(exc)
            raise
        _safely(set_info, span, raw.info)
        return opened

    raw.open = open_traced  # type: ignore[method-assign]
    # The stream yields through the observer (iter() builds, and keeps, its event iterator).
    raw._iterator = _aobserve(raw.__aiter__(), observer)
    aclose = raw.aclose

    async def aclose_traced() -> None:
        await aclose()
        observer.finish(complete=False)

    raw.aclose = aclose_traced  # type: ignore[method-assign]
    return raw


_TRACED: dict[str, Any] = {
    "create": _traced_create,
    "acreate": _traced_acreate,
    "stream": _traced_stream,
    "astream": _traced_astream,
}
