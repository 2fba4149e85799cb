"""Builds the core's neutral ``ChatRequest`` from LlamaIndex messages, LLM fields and call kwargs.

The LLM's request fields come first, then its ``additional_kwargs``, then the call's keyword
arguments; later values win. The OpenAI-shaped values are sorted by the core's
:class:`~cf_ai_gateway.wire.inbound_kwargs.RequestBuilder` (token-limit aliases, tools,
``tool_choice``, ``response_format``, ``reasoning``, ``gateway_options``, ``timeout``,
``extra_headers``, ``extra_body``; ``extra_query`` is refused); this module adds only
LlamaIndex's own vocabulary: its plumbing keywords, LlamaIndex tools among ``tools`` and the
LLM's ``built_in_tools``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from llama_index.core.base.llms.types import ChatMessage

from cf_ai_gateway.wire.inbound_kwargs import CallOptions, RequestBuilder
from cf_ai_gateway.wire.types import ChatRequest

from .convert import llama_tool_to_neutral, to_neutral_messages

__all__ = ["LLM_REQUEST_FIELDS", "build_request"]

# LLM fields sent as neutral request fields (None means "not sent").
LLM_REQUEST_FIELDS = (
    "temperature",
    "top_p",
    "max_tokens",
    "stop",
    "seed",
    "user",
    "logprobs",
    "top_logprobs",
    "reasoning_effort",
    "reasoning_summary",
    "store",
    "include",
    "instructions",
    "truncation",
)

# LlamaIndex plumbing that must never reach the request body.
_IGNORED = frozenset({"use_chat_completions", "formatted"})


def _neutral_tools(tools: Iterable[Any]) -> list[Any]:
    """Per-call ``tools`` with LlamaIndex tools turned into neutral function tools."""
    return [
        llama_tool_to_neutral(tool, strict=False)
        if hasattr(getattr(tool, "metadata", None), "to_openai_tool")
        else tool
        for tool in tools
    ]


def build_request(
    model: str,
    messages: Sequence[ChatMessage],
    defaults: Mapping[str, Any],
    extra_defaults: Mapping[str, Any],
    built_in_tools: Sequence[Mapping[str, Any]] | None,
    kwargs: dict[str, Any],
) -> tuple[ChatRequest, CallOptions]:
    """The neutral request and call options for one call.

    ``defaults`` holds the LLM's request-field values (None for unset), ``extra_defaults`` its
    ``additional_kwargs``, ``kwargs`` the call's keyword arguments.
    """
    builder = RequestBuilder(model, ignored=_IGNORED).update(defaults).update(extra_defaults)
    tools = kwargs.pop("tools", None)
    builder.update(kwargs)
    if tools or built_in_tools:
        builder.set("tools", [*(built_in_tools or ()), *_neutral_tools(tools or ())])
    return builder.build(to_neutral_messages(messages))
