"""Build the core's neutral :class:`~cf_ai_gateway.wire.types.ChatRequest` for one model call.

The model's fields give the defaults; ``model_kwargs``, then the model's ``extra_body``, then the
call's keyword arguments (from ``invoke``, ``.bind`` or ``bind_tools``) override them, in that
order. Known names land in their request field (``tools``, ``tool_choice``,
``response_format``, ``reasoning``, ``stop``, ``max_completion_tokens``…), anything else in the
request's ``extra_body`` so that it reaches the endpoint as is. HTTP options are never body:
``gateway_options`` (headers), ``timeout`` and ``extra_headers`` are returned as keyword
arguments for the core call, and ``extra_query`` is refused (the gateway routes take no query).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields as dataclass_fields
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage

from cf_ai_gateway.checks import check_extra_headers
from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.options import GatewayOptions
from cf_ai_gateway.transport import check_timeout
from cf_ai_gateway.wire.types import ChatRequest

from .messages import convert_messages
from .structured import neutral_response_format
from .tools import neutral_tool_choice, neutral_tools

if TYPE_CHECKING:
    from .chat_models import ChatCloudflareAIGateway

__all__ = ["build_request", "check_reasoning", "options_dict"]

_REQUEST_FIELDS = frozenset(f.name for f in dataclass_fields(ChatRequest))
# Per-call kwargs that are LangChain plumbing (or fixed by the call), never request fields.
_IGNORED_CALL_KWARGS = frozenset({"stream", "run_manager", "callbacks", "messages"})
_MAX_TOKENS_ALIASES = ("max_completion_tokens", "max_output_tokens")
# Per-call options of the HTTP request rather than of the model (as in the OpenAI SDK).
_HTTP_OPTIONS = frozenset({"timeout", "request_timeout", "extra_headers", "extra_query"})


def options_dict(value: Any) -> dict[str, Any] | None:
    """Check gateway options now (bad values raise ``ConfigurationError``), keep a dict."""
    if value is None:
        return None
    if not isinstance(value, (GatewayOptions, Mapping)):
        raise ConfigurationError(
            "gateway_options must be a GatewayOptions or a dict of its fields; got "
            f"{type(value).__name__}"
        )
    return GatewayOptions.coerce(value).to_dict()


def build_request(
    model: ChatCloudflareAIGateway,
    messages: list[BaseMessage],
    stop: list[str] | None,
    kwargs: dict[str, Any],
) -> tuple[ChatRequest, dict[str, Any]]:
    """The neutral request and the core call's keyword arguments (options, timeout, headers)."""
    call: dict[str, Any] = {"options": kwargs.pop("gateway_options", None)}
    request = ChatRequest(
        model=model.model,
        messages=convert_messages(messages),
        temperature=model.temperature,
        top_p=model.top_p,
        max_tokens=model.max_tokens,
        stop=stop or model.stop or None,
        seed=model.seed,
        presence_penalty=model.presence_penalty,
        frequency_penalty=model.frequency_penalty,
        logprobs=model.logprobs,
        top_logprobs=model.top_logprobs,
        reasoning_effort=model.reasoning_effort,
        stream_usage=model.stream_usage,
        previous_response_id=model.previous_response_id,
        store=model.store,
        include=model.include,
        truncation=model.truncation,
    )
    extra: dict[str, Any] = {}
    if model.service_tier is not None:
        extra["service_tier"] = model.service_tier
    if model.reasoning:
        _apply_reasoning(request, model.reasoning)
    for key, value in model.model_kwargs.items():
        _apply(request, extra, call, key, value)
    if model.extra_body:
        extra.update(model.extra_body)
    for key, value in kwargs.items():
        _apply(request, extra, call, key, value)
    if extra:
        request.extra_body = extra
    if request.n not in (None, 1):
        raise ConfigurationError(f"n must be 1 (one message per call); got n={request.n}")
    return request, call


def check_reasoning(reasoning: Any) -> tuple[str | None, str | None]:
    """``reasoning`` as ``(effort, summary)``: an effort string, or a dict of both."""
    if reasoning is None or isinstance(reasoning, str):
        return reasoning or None, None
    if not isinstance(reasoning, Mapping):
        raise ConfigurationError(
            "reasoning must be an effort string ('minimal', 'low', 'medium', 'high') or a dict "
            f"such as {{'effort': 'low', 'summary': 'auto'}}; got {type(reasoning).__name__}"
        )
    effort, summary = reasoning.get("effort"), reasoning.get("summary")
    for name, value in (("effort", effort), ("summary", summary)):
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(
                f"reasoning['{name}'] must be a string; got {type(value).__name__}"
            )
    return effort, summary


def _apply_reasoning(request: ChatRequest, reasoning: Any) -> None:
    effort, summary = check_reasoning(reasoning)
    if effort is not None:
        request.reasoning_effort = effort
    if summary is not None:
        request.reasoning_summary = summary


def _apply(
    request: ChatRequest, extra: dict[str, Any], call: dict[str, Any], key: str, value: Any
) -> None:
    """Put one per-call (or ``model_kwargs``) value where it belongs: request or HTTP call."""
    if key in _HTTP_OPTIONS:
        _apply_http_option(call, key, value)
    elif key == "tools":
        request.tools = neutral_tools(value) if value else None
    elif key == "tool_choice":
        choice, raw_choice = neutral_tool_choice(value)
        request.tool_choice = choice
        if raw_choice is not None:
            extra["tool_choice"] = raw_choice
    elif key == "response_format":
        request.response_format = neutral_response_format(value)
    elif key == "reasoning":
        _apply_reasoning(request, value)
    elif key == "stop":
        request.stop = list(value) if value else None
    elif key in _MAX_TOKENS_ALIASES:
        request.max_tokens = value
    elif key == "extra_body":
        extra.update(_mapping_argument(key, value))
    elif key == "model_kwargs":  # per call: the same as passing its entries directly
        for name, item in _mapping_argument(key, value).items():
            _apply(request, extra, call, name, item)
    elif key in _IGNORED_CALL_KWARGS:
        return
    elif key in _REQUEST_FIELDS:
        setattr(request, key, value)
    else:
        extra[key] = value


def _mapping_argument(name: str, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{name} must be a dict of request fields; got {type(value).__name__}"
        )
    return value


def _apply_http_option(call: dict[str, Any], key: str, value: Any) -> None:
    if key == "extra_query":
        if value:
            raise ConfigurationError(
                "extra_query is not supported: the gateway's provider routes take no query "
                "parameters; put request fields in extra_body"
            )
    elif key == "extra_headers":
        # Checked now (names, values, no auth headers) so that nothing is sent on bad input.
        headers = check_extra_headers(value)
        call["extra_headers"] = {**call.get("extra_headers", {}), **headers}
    elif value is not None:  # timeout / request_timeout; None keeps the model's timeout
        check_timeout(value, key)
        call["timeout"] = value
