"""Tool definitions and tool choice: LangChain inputs to the core's neutral tool types.

``bind_tools`` formats whatever the user gave (pydantic models, functions, ``@tool``s, dict
schemas) with LangChain's own ``convert_to_openai_tool``, so traces show the familiar OpenAI
tool shape, and checks them there (a function tool without a name fails at bind time, not at
the call). At call time :func:`neutral_tools` turns those dicts into
:class:`~cf_ai_gateway.wire.types.FunctionTool` objects (built-in tools such as
``{"type": "web_search"}`` pass through as raw dicts), and :func:`neutral_tool_choice`
folds every accepted ``tool_choice`` spelling into the neutral string form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langchain_core.utils.function_calling import convert_to_openai_tool

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.wire.types import FunctionTool, Tool

__all__ = [
    "format_tools",
    "neutral_tool_choice",
    "neutral_tools",
    "tool_names",
    "validate_tool_choice",
]

_FORCING_CHOICES = frozenset({"any", "required"})
_PLAIN_CHOICES = frozenset({"auto", "none"})
# Responses built-in tools that a bare ``tool_choice`` string may name.
_BUILT_IN_TOOLS = frozenset(
    {
        "code_interpreter",
        "computer_use_preview",
        "file_search",
        "image_generation",
        "mcp",
        "web_search",
        "web_search_preview",
    }
)


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
    neutral_tools(formatted)
    return formatted


def neutral_tools(tools: Iterable[Any]) -> list[Tool]:
    """Convert OpenAI-format tool dicts (as bound by ``bind_tools``) to neutral tools."""
    if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Iterable):
        raise ConfigurationError(f"tools must be a list of tools; got {type(tools).__name__}")
    converted: list[Tool] = []
    for index, tool in enumerate(tools):
        if isinstance(tool, FunctionTool):
            converted.append(tool)
            continue
        if not isinstance(tool, Mapping):
            raise ConfigurationError(
                f"tools[{index}]: expected OpenAI-format tool dicts (use bind_tools), got "
                f"{type(tool).__name__}"
            )
        if tool.get("type") != "function":
            converted.append(dict(tool))  # a built-in tool, passed through
        elif isinstance(tool.get("function"), Mapping):
            converted.append(_function_tool(tool["function"], index))
        else:  # Responses flat shape
            converted.append(_function_tool(tool, index))
    return converted


def _function_tool(spec: Mapping[str, Any], index: int) -> FunctionTool:
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"tools[{index}]: a function tool needs a non-empty string 'name', as in "
            "{'type': 'function', 'function': {'name': ..., 'parameters': {...}}}"
        )
    parameters = spec.get("parameters") or {"type": "object", "properties": {}}
    if not isinstance(parameters, Mapping):
        raise ConfigurationError(
            f"tools[{index}] ({name}): 'parameters' must be a JSON schema dict; got "
            f"{type(parameters).__name__}"
        )
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        raise ConfigurationError(f"tools[{index}] ({name}): 'description' must be a string")
    return FunctionTool(
        name=name,
        description=description,
        parameters=dict(parameters),
        strict=spec.get("strict"),
    )


def tool_names(formatted_tools: Sequence[Mapping[str, Any]]) -> list[str]:
    """The function names among OpenAI-format tool dicts."""
    names = []
    for tool in formatted_tools:
        function = tool.get("function")
        if isinstance(function, Mapping) and "name" in function:
            names.append(str(function["name"]))
        elif "name" in tool:
            names.append(str(tool["name"]))
    return names


def validate_tool_choice(choice: Any, names: Sequence[str]) -> str | dict[str, Any] | None:
    """Normalise ``bind_tools``' ``tool_choice`` to ``auto``/``none``/``required``/a name.

    ``True``, ``"any"`` and ``"required"`` force some tool; ``False`` and ``None`` leave the
    choice to the model. A dict that is not a function choice (a built-in tool) is kept.
    """
    if choice is None or choice is False:
        return None
    if choice is True:
        return "required"
    if isinstance(choice, str):
        if choice in names:
            return choice
        if choice in _FORCING_CHOICES:
            return "required"
        if choice in _PLAIN_CHOICES:
            return choice
        if choice in _BUILT_IN_TOOLS:
            return {"type": choice}
        raise ConfigurationError(
            f"tool_choice {choice!r} is neither 'auto', 'none', 'any', 'required' nor the "
            f"name of a bound tool ({', '.join(names) or 'none bound'})"
        )
    if isinstance(choice, Mapping):
        name = _function_choice_name(choice)
        return name if name is not None else dict(choice)
    raise ConfigurationError(
        f"tool_choice must be a str, bool or dict, got {type(choice).__name__}"
    )


def neutral_tool_choice(choice: Any) -> tuple[str | None, dict[str, Any] | None]:
    """Per-call ``tool_choice`` as ``(neutral string, raw endpoint dict)``; one is None."""
    if choice is None or choice is False:
        return None, None
    if choice is True or choice == "any":
        return "required", None
    if isinstance(choice, str):
        return choice, None
    if isinstance(choice, Mapping):
        name = _function_choice_name(choice)
        return (name, None) if name is not None else (None, dict(choice))
    raise ConfigurationError(
        f"tool_choice must be a str, bool or dict, got {type(choice).__name__}"
    )


def _function_choice_name(choice: Mapping[str, Any]) -> str | None:
    if choice.get("type") != "function":
        return None
    function = choice.get("function")
    if isinstance(function, Mapping) and "name" in function:
        return str(function["name"])
    if "name" in choice:  # Responses flat shape
        return str(choice["name"])
    return None
