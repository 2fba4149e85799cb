"""Builds the core's neutral ``ChatRequest`` from LlamaIndex messages, LLM fields and call kwargs.

Per-call keyword arguments win over the LLM's fields. Known names (sampling parameters, tools,
``tool_choice``, ``response_format``, Responses-only fields) map to neutral request fields;
``gateway_options``, ``timeout`` and ``extra_headers`` go to the gateway call; ``extra_body`` is
merged into the body; everything else is merged over the LLM's ``additional_kwargs`` into the
request body as extra fields. ``extra_headers``/``extra_body`` in ``additional_kwargs`` act as
defaults for every call; ``extra_query`` is refused (gateway calls carry no query string).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from llama_index.core.base.llms.types import ChatMessage

from cf_ai_gateway import ConfigurationError
from cf_ai_gateway.wire.types import ChatRequest, Tool

from .convert import response_format_from, to_neutral_messages, tool_choice_from, tools_from
from .settings import check_stop, check_timeout

__all__ = ["LLM_REQUEST_FIELDS", "CallSettings", "build_request"]

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

# Call kwargs that map one-to-one onto ChatRequest fields.
_DIRECT_FIELDS = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "seed",
        "n",
        "presence_penalty",
        "frequency_penalty",
        "logprobs",
        "top_logprobs",
        "user",
        "reasoning_effort",
        "reasoning_summary",
        "parallel_tool_calls",
        "previous_response_id",
        "store",
        "include",
        "instructions",
        "truncation",
        "stream_usage",
    }
)
_ALIASES = {"max_output_tokens": "max_tokens", "max_completion_tokens": "max_tokens"}
# LlamaIndex plumbing that must never reach the request body.
_IGNORED = frozenset({"use_chat_completions", "formatted"})


class CallSettings:
    """What a call sends besides the request: gateway options, timeout and extra HTTP headers."""

    __slots__ = ("extra_headers", "options", "timeout")

    def __init__(
        self, options: Any, timeout: float | None, extra_headers: dict[str, str] | None = None
    ) -> None:
        self.options = options
        self.timeout = timeout
        self.extra_headers = extra_headers


def _merged(
    name: str, earlier: dict[str, Any] | None, value: Any, *, fold_case: bool = False
) -> dict[str, Any] | None:
    """``value`` (a dict, or None) merged over ``earlier``; header names compare case-blind."""
    if value is None:
        return earlier
    if not isinstance(value, Mapping):
        what = "header names to values" if fold_case else "extra request-body fields"
        raise ConfigurationError(f"{name} must be a dict of {what}, not {type(value).__name__}")
    if not earlier:
        return dict(value)
    if fold_case:
        replaced = {str(key).lower() for key in value}
        earlier = {k: v for k, v in earlier.items() if str(k).lower() not in replaced}
    return {**earlier, **value}


def _pop_http_options(
    sources: tuple[dict[str, Any] | None, ...],
) -> tuple[dict[str, str] | None, dict[str, Any] | None]:
    """The OpenAI SDK's per-request ``extra_headers``/``extra_body``, taken out of ``sources``.

    Later sources win. ``extra_query`` is refused: the gateway URL takes no query parameters.
    """
    headers: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    for source in sources:
        if not source:
            continue
        if source.pop("extra_query", None) is not None:
            raise ConfigurationError(
                "extra_query is not supported: gateway calls carry no query parameters; "
                "send extra fields with extra_body"
            )
        headers = _merged(
            "extra_headers", headers, source.pop("extra_headers", None), fold_case=True
        )
        body = _merged("extra_body", body, source.pop("extra_body", None))
    return headers, body


def _stop_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return list(value)


def build_request(
    model: str,
    messages: Sequence[ChatMessage],
    defaults: Mapping[str, Any],
    extra_defaults: Mapping[str, Any],
    built_in_tools: Sequence[Mapping[str, Any]] | None,
    kwargs: dict[str, Any],
) -> tuple[ChatRequest, CallSettings]:
    """The neutral request and call settings for one call.

    ``defaults`` holds the LLM's request-field values (None for unset), ``extra_defaults`` its
    ``additional_kwargs``. ``kwargs`` (the call's keyword arguments) is consumed.
    """
    fields: dict[str, Any] = {k: v for k, v in defaults.items() if v is not None}
    extra: dict[str, Any] | None = dict(extra_defaults) if extra_defaults else None
    headers, extra_body = _pop_http_options((extra, kwargs))
    options = kwargs.pop("gateway_options", None)
    timeout = kwargs.pop("timeout", None)
    if not isinstance(timeout, httpx.Timeout):
        check_timeout(timeout)
    tools: list[Tool] | None = None
    raw_tools = kwargs.pop("tools", None)
    if raw_tools:
        tools = tools_from(raw_tools)
    if built_in_tools:
        tools = [*(dict(t) for t in built_in_tools), *(tools or [])]
    tool_choice = kwargs.pop("tool_choice", None)
    response_format = kwargs.pop("response_format", None)
    reasoning = kwargs.pop("reasoning", None)
    if isinstance(reasoning, Mapping):
        if reasoning.get("effort") is not None:
            fields["reasoning_effort"] = reasoning["effort"]
        if reasoning.get("summary") is not None:
            fields["reasoning_summary"] = reasoning["summary"]
    elif reasoning is not None:
        extra = {**(extra or {}), "reasoning": reasoning}
    for key, value in kwargs.items():
        name = _ALIASES.get(key, key)
        if name in _DIRECT_FIELDS:
            if value is not None:
                fields[name] = value
        elif name == "stop":
            check_stop(value)
            fields["stop"] = _stop_list(value)
        elif name == "model":
            model = value
        elif name not in _IGNORED:
            if extra is None:
                extra = {}
            extra[key] = value
    if extra_body:
        extra = {**(extra or {}), **extra_body}
    if "stop" in fields:
        fields["stop"] = _stop_list(fields["stop"])
    if not tools:
        fields.pop("parallel_tool_calls", None)
        tool_choice = None
    request = ChatRequest(
        model=model,
        messages=to_neutral_messages(messages),
        tools=tools or None,
        tool_choice=tool_choice_from(tool_choice),
        response_format=response_format_from(response_format),
        extra_body=extra or None,
        **fields,
    )
    return request, CallSettings(options, timeout, headers)
