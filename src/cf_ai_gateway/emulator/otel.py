"""The emulated gateway's own OpenTelemetry span, exported the way AI Gateway's OTel integration does.

Cloudflare's gateway exports one span per request to the configured OTLP endpoints with
``gen_ai.request.model``, ``gen_ai.model.provider``, ``gen_ai.usage.input_tokens``,
``gen_ai.usage.output_tokens``, ``gen_ai.prompt_json``, ``gen_ai.completion_json`` and
``gen_ai.usage.cost``, plus the ``cf-aig-metadata`` entries (keys starting ``gen_ai.`` are not
added). The request headers ``cf-aig-otel-trace-id`` (32 hex) and ``cf-aig-otel-parent-span-id``
(16 hex) put the span in the caller's trace; without them it starts a new trace. The emulator
adds its log id as ``cloudflare.ai_gateway.log_id``.

``Emulator(otel_exporter=...)`` takes an OTLP/HTTP JSON collector URL (``http://…/v1/traces``),
an OpenTelemetry SDK ``SpanExporter`` (such as the SDK's ``InMemorySpanExporter``; needs
``opentelemetry-sdk``), or any callable, which receives a :class:`GatewaySpan`. Export failures
are logged, never answered to the client. This module uses OpenTelemetry only when given an
SDK exporter.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from .logs import LogEntry

__all__ = ["GatewaySpan", "export_gateway_span", "gateway_span"]

logger = logging.getLogger("cf_ai_gateway.emulator")

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
_SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
SERVICE_NAME = "cloudflare-ai-gateway-emulator"
EXPORT_TIMEOUT = 2.0


@dataclass(frozen=True)
class GatewaySpan:
    """One exported gateway span (ids in lower-case hex, times in epoch nanoseconds)."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    start_time_ns: int
    end_time_ns: int
    ok: bool
    attributes: dict[str, str | int | float | bool] = field(default_factory=dict)


def _valid(value: str | None, pattern: re.Pattern[str]) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    return value if pattern.match(value) and value.strip("0") else None


def gateway_span(entry: LogEntry, headers: dict[str, str]) -> GatewaySpan:
    """The span the gateway exports for the request that wrote ``entry``."""
    trace_id = _valid(headers.get("cf-aig-otel-trace-id"), _TRACE_ID)
    parent = _valid(headers.get("cf-aig-otel-parent-span-id"), _SPAN_ID) if trace_id else None
    attributes: dict[str, str | int | float | bool] = {
        "gen_ai.model.provider": entry.provider,
        "gen_ai.usage.input_tokens": entry.tokens_in,
        "gen_ai.usage.output_tokens": entry.tokens_out,
        "gen_ai.usage.cost": entry.cost,
        "cloudflare.ai_gateway.log_id": entry.id,
    }
    if entry.model:
        attributes["gen_ai.request.model"] = entry.model
    if entry.payload_collected:
        if entry.request_body is not None:
            attributes["gen_ai.prompt_json"] = json.dumps(entry.request_body, ensure_ascii=False)
        if entry.response_body is not None:
            attributes["gen_ai.completion_json"] = json.dumps(
                entry.response_body, ensure_ascii=False
            )
    for key, value in entry.metadata.items():
        if not key.startswith("gen_ai."):
            attributes[key] = value
    start = int(entry.created_at * 1e9)
    return GatewaySpan(
        trace_id=trace_id or secrets.token_hex(16),
        span_id=secrets.token_hex(8),
        parent_span_id=parent,
        name=f"AI Gateway {entry.request_type} {entry.model or ''}".rstrip(),
        start_time_ns=start,
        end_time_ns=start + max(entry.duration_ms, 0) * 1_000_000,
        ok=entry.success,
        attributes=attributes,
    )


def export_gateway_span(exporter: Any, entry: LogEntry, headers: dict[str, str]) -> None:
    """Send the span of ``entry`` to ``exporter`` (a URL, an SDK SpanExporter or a callable)."""
    try:
        span = gateway_span(entry, headers)
        if isinstance(exporter, str):
            _post_otlp_json(exporter, span)
        elif hasattr(exporter, "export"):
            exporter.export([_sdk_span(span)])
        else:
            exporter(span)
    except Exception:
        logger.warning("could not export the gateway span of log %s", entry.id, exc_info=True)


def _value(value: str | int | float | bool) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    return {"stringValue": str(value)}


def otlp_json(span: GatewaySpan) -> dict[str, Any]:
    """The OTLP/HTTP JSON ``ExportTraceServiceRequest`` carrying ``span``."""
    body: dict[str, Any] = {
        "traceId": span.trace_id,
        "spanId": span.span_id,
        "name": span.name,
        "kind": 2,  # SPAN_KIND_SERVER
        "startTimeUnixNano": str(span.start_time_ns),
        "endTimeUnixNano": str(span.end_time_ns),
        "attributes": [{"key": k, "value": _value(v)} for k, v in span.attributes.items()],
        "status": {"code": 1 if span.ok else 2},
    }
    if span.parent_span_id:
        body["parentSpanId"] = span.parent_span_id
    return {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": SERVICE_NAME}}]
                },
                "scopeSpans": [{"scope": {"name": SERVICE_NAME}, "spans": [body]}],
            }
        ]
    }


def _post_otlp_json(url: str, span: GatewaySpan) -> None:
    data = json.dumps(otlp_json(span)).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=EXPORT_TIMEOUT) as response:
        response.read()


def _sdk_span(span: GatewaySpan) -> Any:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

    flags = TraceFlags(TraceFlags.SAMPLED)
    context = SpanContext(
        int(span.trace_id, 16), int(span.span_id, 16), is_remote=False, trace_flags=flags
    )
    parent = (
        SpanContext(
            int(span.trace_id, 16), int(span.parent_span_id, 16), is_remote=True, trace_flags=flags
        )
        if span.parent_span_id
        else None
    )
    return ReadableSpan(
        name=span.name,
        context=context,
        parent=parent,
        resource=Resource.create({"service.name": SERVICE_NAME}),
        attributes=dict(span.attributes),
        kind=SpanKind.SERVER,
        status=Status(StatusCode.OK if span.ok else StatusCode.ERROR),
        start_time=span.start_time_ns,
        end_time=span.end_time_ns,
    )
