"""Build the core's neutral :class:`~cf_ai_gateway.wire.types.ChatRequest` for one model call.

The model's fields give the defaults; ``model_kwargs``, then the model's ``extra_body``, then the
call's keyword arguments (from ``invoke``, ``.bind`` or ``bind_tools``) override them, in that
order. The OpenAI-shaped values are sorted by the core's
:class:`~cf_ai_gateway.wire.inbound_kwargs.RequestBuilder` (token-limit aliases, tools,
``tool_choice``, ``response_format``, ``reasoning``, HTTP options, ``extra_body``); this module
adds only LangChain's own vocabulary: its plumbing keywords, per-call ``model_kwargs``, and
structured-output schemas given as pydantic classes, TypedDicts or JSON schemas.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from langchain_core.messages import BaseMessage

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.options import GatewayOptions
from cf_ai_gateway.wire.inbound import read_reasoning as check_reasoning
from cf_ai_gateway.wire.inbound_kwargs import RequestBuilder
from cf_ai_gateway.wire.types import ChatRequest

from .messages import convert_messages
from .structured import neutral_response_format

if TYPE_CHECKING:
    from .chat_models import ChatCloudflareAIGateway

__all__ = ["build_request", "check_reasoning", "options_dict"]

# Per-call kwargs that are LangChain plumbing, never request fields.
_PLUMBING = frozenset({"run_manager", "callbacks"})
# Model fields sent as request fields when set.
_MODEL_FIELDS = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
    "reasoning",
    "service_tier",
    "stream_usage",
    "previous_response_id",
    "store",
    "include",
    "truncation",
)


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
    builder = RequestBuilder(model.model, ignored=_PLUMBING)
    for name in _MODEL_FIELDS:
        builder.set(name, getattr(model, name))
    _apply(builder, model.model_kwargs)
    builder.set("extra_body", model.extra_body)
    if stop:
        builder.set("stop", stop)
    _apply(builder, kwargs)
    request, call = builder.build(convert_messages(messages))
    if request.n not in (None, 1):
        raise ConfigurationError(f"n must be 1 (one message per call); got n={request.n}")
    return request, call.kwargs()


def _apply(builder: RequestBuilder, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        if key == "model_kwargs":  # per call: the same as passing its entries directly
            if value is not None and not isinstance(value, Mapping):
                raise ConfigurationError(
                    f"model_kwargs must be a dict of request fields; got {type(value).__name__}"
                )
            _apply(builder, value or {})
        elif key == "response_format":
            builder.set(key, neutral_response_format(value))
        else:
            builder.set(key, value)
