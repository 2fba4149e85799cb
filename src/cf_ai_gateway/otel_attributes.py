"""The attributes of a gateway call's span: GenAI semantic conventions plus ``cloudflare.ai_gateway.*``.

Request attributes come from the request body and the gateway config, response attributes from
the reply parsed by the wire modules (so each piece of OpenAI wire knowledge stays in ``wire/``),
gateway attributes from :class:`~cf_ai_gateway.GatewayInfo`. :func:`propagation_headers` gives
the ``cf-aig-otel-*`` headers of a recording span. The OpenTelemetry API is imported only by the
functions that need it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from .config import GatewayConfig
    from .info import GatewayInfo

__all__ = [
    "PARENT_SPAN_ID_HEADER",
    "TRACE_ID_HEADER",
    "operation_name",
    "propagation_headers",
    "provider_name",
    "request_attributes",
    "set_error",
    "set_info",
    "set_input",
    "set_result",
    "set_result_fields",
    "span_name",
]

TRACE_ID_HEADER = "cf-aig-otel-trace-id"
PARENT_SPAN_ID_HEADER = "cf-aig-otel-parent-span-id"
_OPERATIONS = {
    "chat/completions": "chat",
    "responses": "chat",
    "embeddings": "embeddings",
    "completions": "text_completion",
}
# The semantic conventions' well-known provider names, by gateway provider slug.
_PROVIDER_NAMES = {
    "openai": "openai",
    "azure-openai": "azure.ai.openai",
    "anthropic": "anthropic",
    "aws-bedrock": "aws.bedrock",
    "google-ai-studio": "gcp.gemini",
    "google-vertex-ai": "gcp.vertex_ai",
    "groq": "groq",
    "mistral": "mistral_ai",
    "perplexity-ai": "perplexity",
    "grok": "x_ai",
    "deepseek": "deepseek",
    "cohere": "cohere",
    "workers-ai": "cloudflare.workers_ai",
}


def operation_name(endpoint: str) -> str:
    return _OPERATIONS.get(endpoint.strip("/"), endpoint.strip("/"))


def provider_name(provider: str, model: Any) -> str:
    if provider == "compat" and isinstance(model, str) and "/" in model:
        provider = model.split("/", 1)[0]
    return _PROVIDER_NAMES.get(provider, provider)


def request_attributes(
    config: GatewayConfig, url: str, operation: str, body: Any
) -> dict[str, Any]:
    model = body.get("model") if isinstance(body, dict) else None
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": provider_name(config.provider, model),
        "cloudflare.ai_gateway.gateway_id": config.gateway_id,
    }
    if isinstance(model, str):
        attrs["gen_ai.request.model"] = model
    if isinstance(body, dict):
        for key, name in (
            ("max_tokens", "max_tokens"),
            ("max_completion_tokens", "max_tokens"),
            ("max_output_tokens", "max_tokens"),
            ("temperature", "temperature"),
            ("top_p", "top_p"),
            ("seed", "seed"),
        ):
            value = body.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                attrs[f"gen_ai.request.{name}"] = value
    parts = urlsplit(url)
    if parts.hostname:
        attrs["server.address"] = parts.hostname
        attrs["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
    return attrs


def span_name(attrs: Mapping[str, Any]) -> str:
    model = attrs.get("gen_ai.request.model")
    operation = str(attrs.get("gen_ai.operation.name", "chat"))
    return f"{operation} {model}" if model else operation


def propagation_headers(span: Span) -> dict[str, str]:
    """The gateway's trace-context headers for ``span``; empty when it does not record."""
    if not span.is_recording():
        return {}
    context = span.get_span_context()
    if not context.is_valid:
        return {}
    return {
        TRACE_ID_HEADER: format(context.trace_id, "032x"),
        PARENT_SPAN_ID_HEADER: format(context.span_id, "016x"),
    }


def set_info(span: Span, info: GatewayInfo | None) -> None:
    if info is None:
        return
    for name, value in (
        ("log_id", info.log_id),
        ("cache_status", info.cache_status),
        ("event_id", info.event_id),
        ("request_id", info.request_id),
        ("step", info.step),
        ("routed_model", info.routed_model or info.model),
        ("provider", info.provider),
    ):
        if value is not None:
            span.set_attribute(f"cloudflare.ai_gateway.{name}", value)
    if info.status_code is not None:
        span.set_attribute("http.response.status_code", info.status_code)


def set_result(span: Span, endpoint: str, body: Any, capture: bool) -> None:
    """Response model, id, usage and finish reasons of a parsed reply (via the wire modules)."""
    if not isinstance(body, dict):
        return
    result = _parse(endpoint, body)
    if result is None:
        return
    set_result_fields(span, result, capture)


def _parse(endpoint: str, body: dict[str, Any]) -> Any:
    endpoint = endpoint.strip("/")
    if endpoint == "chat/completions":
        from .wire import chat

        return chat.parse_result(body)
    if endpoint == "responses":
        from .wire import responses

        return responses.parse_result(body)
    return None


def set_result_fields(span: Span, result: Any, capture: bool) -> None:
    if result.model:
        span.set_attribute("gen_ai.response.model", result.model)
    if result.id:
        span.set_attribute("gen_ai.response.id", result.id)
    if result.usage is not None:
        span.set_attribute("gen_ai.usage.input_tokens", result.usage.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", result.usage.output_tokens)
    if result.finish_reason:
        span.set_attribute("gen_ai.response.finish_reasons", (str(result.finish_reason),))
    if capture:
        output = {
            "role": "assistant",
            "content": result.text,
            "finish_reason": str(result.finish_reason or ""),
        }
        if result.tool_calls:
            output["tool_calls"] = [
                {"name": c.name, "arguments": c.arguments} for c in result.tool_calls
            ]
        span.set_attribute(
            "gen_ai.output.messages", json.dumps([output], ensure_ascii=False, default=str)
        )


def set_input(span: Span, body: Any) -> None:
    if isinstance(body, dict):
        messages = body.get("messages", body.get("input"))
        if messages is not None:
            span.set_attribute(
                "gen_ai.input.messages", json.dumps(messages, ensure_ascii=False, default=str)
            )
        if isinstance(body.get("instructions"), str):
            span.set_attribute("gen_ai.system_instructions", body["instructions"])


def set_error(span: Span, exc: BaseException) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", type(exc).__qualname__)
    span.set_status(Status(StatusCode.ERROR, str(exc)[:300]))
    info = getattr(exc, "info", None)
    if info is not None and hasattr(info, "log_id"):
        set_info(span, info)
