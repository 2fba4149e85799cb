"""Tool definitions and tool choice for ``bind_tools``.

``bind_tools`` formats whatever the user gave (pydantic models, functions, ``@tool``s, dict
schemas) with LangChain's own ``convert_to_openai_tool``, so traces show the familiar OpenAI
tool shape, and checks them there with the core's readers (a function tool without a name, or
a ``tool_choice`` that names no bound tool, fails at bind time, not at the call). At call time
the core's :class:`~cf_ai_gateway.wire.inbound_kwargs.RequestBuilder` reads the bound values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langchain_core.utils.function_calling import convert_to_openai_tool

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.wire.inbound import read_tool_choice, read_tools
from cf_ai_gateway.wire.types import BuiltInToolChoice

__all__ = ["format_tools", "validate_tool_choice"]


def format_tools(tools: Sequence[Any], *, strict: bool | None) -> list[dict[str, Any]]:
    """``bind_tools``' tools in OpenAI format, checked now so that bad ones fail at bind time."""
    if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Iterable):
        raise ConfigurationError(f"tools must be a list of tools; got {type(tools).__name__}")
    formatted = []
    for index, tool in enumerate(tools):
        try:
            formatted.append(convert_to_openai_tool(tool, strict=strict))
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"tools[{index}]: {exc}") from None
    read_tools(formatted)
    return formatted


def validate_tool_choice(
    choice: Any, formatted_tools: Sequence[Mapping[str, Any]]
) -> str | dict[str, Any] | None:
    """``bind_tools``' ``tool_choice``, checked against the bound tools, in OpenAI form.

    ``True``, ``"any"`` and ``"required"`` force some tool; ``False`` and ``None`` leave the
    choice to the model; a tool's name forces it; a built-in tool (``"web_search"`` or a dict)
    is kept as its dict.
    """
    neutral = read_tool_choice(choice, read_tools(formatted_tools))
    return neutral.to_dict() if isinstance(neutral, BuiltInToolChoice) else neutral
