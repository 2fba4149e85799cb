"""One model call's OpenAI-shaped keyword arguments, sorted into a request and HTTP options.

Both adapters take the OpenAI SDK's per-call vocabulary (``invoke(..., max_tokens=5,
extra_headers={...}, extra_body={...})``, ``chat(..., tool_choice="required")``) and their
own defaults in the same shape. :class:`RequestBuilder` applies them in order, later values
winning, and sorts each one once:

- the token-limit aliases ``max_tokens``, ``max_completion_tokens`` and ``max_output_tokens``
  all set the request's ``max_tokens``;
- ``tools``, ``tool_choice``, ``response_format`` and ``reasoning`` go through the readers of
  :mod:`cf_ai_gateway.wire.inbound`; ``stop`` takes a string or a list of strings;
- the HTTP options ``gateway_options``, ``timeout`` (or ``request_timeout``) and
  ``extra_headers`` become :class:`CallOptions` for the core call; ``extra_query`` is refused
  (the gateway's provider routes take no query string);
- ``extra_body`` entries are merged last into the wire body, over every other field;
- the other :class:`~cf_ai_gateway.wire.types.ChatRequest` fields are set as they are, and
  unknown names are sent as extra body fields.

A None value leaves the field as it was. Without tools, ``parallel_tool_calls`` and a
``tool_choice`` of ``"auto"`` or ``"none"`` are not sent (the endpoints refuse them without
tools); a forcing choice is sent as asked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import fields as dataclass_fields
from typing import Any

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.records import record
from cf_ai_gateway.wire.inbound import (
    read_reasoning,
    read_response_format,
    read_tool_choice,
    read_tools,
)
from cf_ai_gateway.wire.types import ChatRequest, Message, Tool

__all__ = ["HTTP_OPTIONS", "TOKEN_LIMIT_ALIASES", "CallOptions", "RequestBuilder"]

TOKEN_LIMIT_ALIASES = frozenset({"max_tokens", "max_completion_tokens", "max_output_tokens"})
HTTP_OPTIONS = frozenset(
    {
        "gateway_options",
        "timeout",
        "request_timeout",
        "extra_headers",
        "extra_query",
        "fallbacks",
        "fallback_on",
    }
)
# Fields the call itself decides, never taken from keyword arguments.
_CALL_DECIDES = frozenset({"messages", "stream"})
_REQUEST_FIELDS = frozenset(f.name for f in dataclass_fields(ChatRequest))
_READ_FIELDS = frozenset({"tools", "tool_choice", "response_format", "stop", "extra_body"})


@record(slots=True)
class CallOptions:
    """What a call sends besides its body: gateway options, a timeout, extra headers and
    the call's fallbacks (``fallbacks``, ``fallback_on``; see :mod:`cf_ai_gateway.failover`)."""

    options: Any = None
    timeout: Any = None
    extra_headers: dict[str, str] | None = None
    fallbacks: Any = None
    fallback_on: Any = None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for :meth:`Gateway.chat <cf_ai_gateway.Gateway.chat>` and kin."""
        kwargs = {
            "options": self.options,
            "timeout": self.timeout,
            "extra_headers": self.extra_headers,
        }
        if self.fallbacks is not None:
            kwargs["fallbacks"] = self.fallbacks
        if self.fallback_on is not None:
            kwargs["fallback_on"] = self.fallback_on
        return kwargs


class RequestBuilder:
    """Collects defaults and per-call keyword arguments into one request and its call options.

    ``ignored`` names framework plumbing that reaches the call's keyword arguments but is no
    request field (it is dropped).
    """

    __slots__ = ("_extra", "_extra_body", "_fields", "_ignored", "_tool_choice", "_tools", "call")

    def __init__(self, model: str, *, ignored: Collection[str] = ()) -> None:
        self._fields: dict[str, Any] = {"model": model}
        self._extra: dict[str, Any] = {}
        self._extra_body: dict[str, Any] = {}
        self._tools: list[Tool] | None = None
        self._tool_choice: Any = None
        self._ignored = frozenset(ignored) | _CALL_DECIDES
        self.call = CallOptions()

    def update(self, values: Mapping[str, Any] | None) -> RequestBuilder:
        """Apply several values in order (see :meth:`set`)."""
        for key, value in (values or {}).items():
            self.set(key, value)
        return self

    def set(self, key: str, value: Any) -> RequestBuilder:
        """Apply one OpenAI-shaped value; None leaves the field as it was."""
        if value is None or key in self._ignored:
            return self
        if key in HTTP_OPTIONS:
            self._set_http_option(key, value)
        elif key in TOKEN_LIMIT_ALIASES:
            self._fields["max_tokens"] = value
        elif key == "tools":
            self._tools = read_tools(value) or None
        elif key == "tool_choice":
            read_tool_choice(value)  # refuse a bad value now; names are checked in build()
            self._tool_choice = value
        elif key == "response_format":
            self._fields["response_format"] = read_response_format(value)
        elif key == "reasoning":
            effort, summary = read_reasoning(value)
            if effort is not None:
                self._fields["reasoning_effort"] = effort
            if summary is not None:
                self._fields["reasoning_summary"] = summary
        elif key == "stop":
            self._fields["stop"] = _stop_list(value)
        elif key == "extra_body":
            self._extra_body.update(_mapping("extra_body", value))
        elif key in _REQUEST_FIELDS:
            self._fields[key] = value
        else:
            self._extra[key] = value
        return self

    def _set_http_option(self, key: str, value: Any) -> None:
        if key == "extra_query":
            if value:
                raise ConfigurationError(
                    "extra_query is not supported: the gateway's provider routes take no query "
                    "parameters; send extra request fields with extra_body"
                )
        elif key == "extra_headers":
            from cf_ai_gateway.config import check_extra_headers

            headers = check_extra_headers(value)
            replaced = {name.lower() for name in headers}
            earlier = self.call.extra_headers or {}
            kept = {k: v for k, v in earlier.items() if k.lower() not in replaced}
            self.call.extra_headers = {**kept, **headers}
        elif key == "gateway_options":
            self.call.options = value
        elif key in ("fallbacks", "fallback_on"):
            from cf_ai_gateway import failover

            if key == "fallbacks":
                self.call.fallbacks = failover.check_fallbacks(value)
            else:
                self.call.fallback_on = failover.check_fallback_on(value)
        else:  # timeout / request_timeout
            from cf_ai_gateway.transport import check_timeout

            try:
                check_timeout(value, key)
            except ConfigurationError:
                # Said without the value itself: a misplaced argument may be a secret.
                got = "a number <= 0" if type(value) in (int, float) else type(value).__name__
                raise ConfigurationError(
                    f"{key} must be a positive number of seconds, an httpx.Timeout or None; "
                    f"got {got}"
                ) from None
            self.call.timeout = value

    def build(self, messages: list[Message]) -> tuple[ChatRequest, CallOptions]:
        """The neutral request for ``messages`` and the call's options."""
        fields = dict(self._fields)
        extra = {**self._extra, **self._extra_body}
        tools = self._tools
        choice = read_tool_choice(self._tool_choice, tools)
        if not (tools or "tools" in extra):
            # Without tools the endpoints refuse these; a forcing choice is sent as asked.
            fields.pop("parallel_tool_calls", None)
            if choice in ("auto", "none"):
                choice = None
        fields["tool_choice"] = choice
        model = fields.pop("model")
        if not isinstance(model, str) or not model:
            raise ConfigurationError("model must be a non-empty string")
        request = ChatRequest(
            model=model,
            messages=messages,
            tools=tools,
            extra_body=extra or None,
            **fields,
        )
        return request, self.call


def _stop_list(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return list(value) or None
    raise ConfigurationError(
        f"stop must be a string or a list of strings; got {type(value).__name__}"
    )


def _mapping(name: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{name} must be a dict of request fields; got {type(value).__name__}"
        )
    return value
