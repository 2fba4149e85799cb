"""Readers for OpenAI-shaped inputs: tools, tool choice, response format, tool calls, reasoning.

Users hand the adapters the shapes they know from the OpenAI SDK and from other frameworks:
Chat Completions tools (``{"type": "function", "function": {...}}``) or Responses tools (flat),
built-in tools (``{"type": "web_search"}``), every spelling of ``tool_choice``, a
``response_format`` in the chat or the Responses ``text.format`` shape, earlier assistant tool
calls as dicts or SDK objects, and ``reasoning`` as an effort or a dict. Each reader here turns
one of them into the neutral types of :mod:`cf_ai_gateway.wire.types`, the same way for every
adapter, and refuses what no endpoint takes with a
:class:`~cf_ai_gateway.errors.ConfigurationError` naming the argument. Pure, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.wire.types import (
    BuiltInToolChoice,
    FunctionTool,
    ResponseFormat,
    Tool,
    ToolCall,
    ToolChoice,
)

__all__ = [
    "BUILT_IN_TOOL_TYPES",
    "read_reasoning",
    "read_response_format",
    "read_tool_calls",
    "read_tool_choice",
    "read_tools",
    "tool_names",
]

# Hosted tools of the Responses API that a bare ``tool_choice`` string may name.
BUILT_IN_TOOL_TYPES = frozenset(
    {
        "code_interpreter",
        "computer",
        "computer_use",
        "computer_use_preview",
        "file_search",
        "image_generation",
        "mcp",
        "web_search",
        "web_search_preview",
    }
)
_MODES = frozenset({"auto", "none", "required"})
_FORCING = frozenset({"any", "required"})
_RESPONSE_FORMAT_TYPES = ("json_schema", "json_object", "text")
_REASONING_KEYS = frozenset({"effort", "summary", "generate_summary"})


def _type_name(value: Any) -> str:
    return type(value).__name__


# --- tools -------------------------------------------------------------------------------------


def read_tools(tools: Iterable[Any] | None) -> list[Tool]:
    """Neutral tools from OpenAI-shaped tool definitions.

    Accepts :class:`FunctionTool` objects, Chat Completions function tools (``function``
    nested), Responses function tools (flat), legacy function specs (``{"name", "parameters"}``)
    and built-in tools (any other ``type``), which pass through as copies of their dicts.
    """
    if tools is None:
        return []
    if isinstance(tools, (str, bytes, Mapping)) or not isinstance(tools, Iterable):
        raise ConfigurationError(f"tools must be a list of tools; got {_type_name(tools)}")
    converted: list[Tool] = []
    for index, tool in enumerate(tools):
        if isinstance(tool, FunctionTool):
            converted.append(tool)
        elif not isinstance(tool, Mapping):
            raise ConfigurationError(
                f"tools[{index}] must be a tool dict such as {{'type': 'function', 'function': "
                f"{{'name': ..., 'parameters': {{...}}}}}}; got {_type_name(tool)}"
            )
        elif tool.get("type") == "function":
            nested = tool.get("function")
            converted.append(_function_tool(nested if isinstance(nested, Mapping) else tool, index))
        elif "type" not in tool and "name" in tool:  # a bare function spec
            converted.append(_function_tool(tool, index))
        elif isinstance(tool.get("type"), str) and tool["type"]:
            converted.append(dict(tool))  # a built-in tool, passed through
        else:
            raise ConfigurationError(f"tools[{index}] needs a 'type' ('function' or a built-in)")
    return converted


def _function_tool(spec: Mapping[str, Any], index: int) -> FunctionTool:
    name = spec.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"tools[{index}]: a function tool needs a non-empty string 'name', as in "
            "{'type': 'function', 'function': {'name': ..., 'parameters': {...}}}"
        )
    parameters = spec.get("parameters")
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    if not isinstance(parameters, Mapping):
        raise ConfigurationError(
            f"tools[{index}] ({name}): 'parameters' must be a JSON schema dict; got "
            f"{_type_name(parameters)}"
        )
    description = spec.get("description")
    if description is not None and not isinstance(description, str):
        raise ConfigurationError(f"tools[{index}] ({name}): 'description' must be a string")
    strict = spec.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise ConfigurationError(f"tools[{index}] ({name}): 'strict' must be a bool")
    return FunctionTool(
        name=name, description=description, parameters=dict(parameters), strict=strict
    )


def tool_names(tools: Iterable[Tool]) -> list[str]:
    """The names of the function tools among neutral tools."""
    return [tool.name for tool in tools if isinstance(tool, FunctionTool)]


# --- tool choice -------------------------------------------------------------------------------


def read_tool_choice(choice: Any, tools: Sequence[Tool] | None = None) -> ToolChoice | None:
    """A neutral tool choice from any OpenAI-shaped spelling.

    ``None`` and ``False`` leave the choice to the model (None); ``True``, ``"any"`` and
    ``"required"`` force some tool (``"required"``); ``"auto"`` and ``"none"`` stay. A function
    choice (``{"type": "function", "function": {"name"}}``, the flat Responses form, or the bare
    name) becomes the name. A built-in tool (``{"type": "web_search"}``, ``{"type": "mcp",
    "server_label": ...}``, ``allowed_tools``, or the bare type name) becomes a
    :class:`BuiltInToolChoice`. With ``tools`` given, a bare string must name one of them (or a
    built-in tool type), so that a typo fails here rather than at the provider.
    """
    if isinstance(choice, BuiltInToolChoice) or choice is None:
        return choice
    if choice is False:
        return None
    if choice is True:
        return "required"
    if isinstance(choice, str):
        return _string_choice(choice, tools)
    if isinstance(choice, Mapping):
        return _dict_choice(choice)
    raise ConfigurationError(
        f"tool_choice must be a string, a bool or a dict; got {_type_name(choice)}"
    )


def _string_choice(choice: str, tools: Sequence[Tool] | None) -> ToolChoice:
    if choice in _FORCING:
        return "required"
    if choice in _MODES:
        return choice
    if tools is None:
        return BuiltInToolChoice(choice) if choice in BUILT_IN_TOOL_TYPES else choice
    names = tool_names(tools)
    if choice in names:
        return choice
    built_in = {tool.get("type") for tool in tools if isinstance(tool, Mapping)}
    if choice in built_in or choice in BUILT_IN_TOOL_TYPES:
        return BuiltInToolChoice(choice)
    raise ConfigurationError(
        f"tool_choice {choice!r} is neither 'auto', 'none', 'any', 'required', a built-in tool "
        f"nor the name of a given tool ({', '.join(names) or 'no function tools given'})"
    )


def _dict_choice(choice: Mapping[str, Any]) -> ToolChoice:
    kind = choice.get("type")
    if not isinstance(kind, str) or not kind:
        raise ConfigurationError("a tool_choice dict needs a 'type', e.g. {'type': 'web_search'}")
    if kind == "function":
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else choice.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigurationError(
                "tool_choice of type 'function' needs the function's name, as in "
                "{'type': 'function', 'function': {'name': ...}}"
            )
        return name
    if kind in _MODES:
        return kind
    return BuiltInToolChoice(kind, {k: v for k, v in choice.items() if k != "type"})


# --- response format ---------------------------------------------------------------------------


def read_response_format(value: Any) -> ResponseFormat | None:
    """A neutral response format from the chat or the Responses shape.

    Chat: ``{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}``; Responses
    ``text.format``: ``{"type": "json_schema", "name", "schema", "strict"}`` (or the whole
    ``text`` parameter, ``{"format": {...}}``); ``{"type": "json_object"}``; ``{"type": "text"}``.
    """
    if value is None or isinstance(value, ResponseFormat):
        return value
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            "response_format must be a dict such as {'type': 'json_object'} or "
            f"{{'type': 'json_schema', 'json_schema': {{...}}}}; got {_type_name(value)}"
        )
    if "type" not in value and isinstance(value.get("format"), Mapping):
        return read_response_format(value["format"])
    kind = value.get("type")
    if kind in ("json_object", "text"):
        return ResponseFormat(type=kind)
    if kind != "json_schema":
        raise ConfigurationError(
            f"response_format type must be one of {list(_RESPONSE_FORMAT_TYPES)}; got {kind!r}"
        )
    nested = value.get("json_schema")
    spec: Mapping[str, Any] = nested if isinstance(nested, Mapping) else value
    schema = spec.get("schema")
    if not isinstance(schema, Mapping):
        raise ConfigurationError(
            "response_format of type 'json_schema' needs a JSON schema dict under 'schema'"
        )
    name, strict, description = spec.get("name"), spec.get("strict"), spec.get("description")
    if name is not None and not isinstance(name, str):
        raise ConfigurationError("response_format json_schema 'name' must be a string")
    if strict is not None and not isinstance(strict, bool):
        raise ConfigurationError("response_format json_schema 'strict' must be a bool")
    if description is not None and not isinstance(description, str):
        raise ConfigurationError("response_format json_schema 'description' must be a string")
    return ResponseFormat(
        type="json_schema",
        name=name,
        schema=dict(schema),
        strict=strict,
        description=description,
    )


# --- earlier tool calls ------------------------------------------------------------------------


def read_tool_calls(calls: Iterable[Any] | None) -> list[ToolCall]:
    """Tool calls of an earlier assistant turn, from dicts or SDK objects.

    Reads the Chat Completions shape (``{"id", "function": {"name", "arguments"}}``), the
    Responses ``function_call`` item (``{"call_id", "name", "arguments", "id"}``) and objects
    with the same attributes (the OpenAI SDK's). Arguments that are not text are sent as JSON;
    missing (null) arguments as ``"{}"``.
    """
    if calls is None:
        return []
    if isinstance(calls, (str, bytes, Mapping)) or not isinstance(calls, Iterable):
        raise ConfigurationError(
            f"tool_calls must be a list of tool calls; got {_type_name(calls)}"
        )
    return [_tool_call(call, index) for index, call in enumerate(calls)]


def _tool_call(call: Any, index: int) -> ToolCall:
    def read(source: Any, key: str) -> Any:
        if isinstance(source, Mapping):
            return source.get(key)
        return getattr(source, key, None)

    function = read(call, "function")
    if function is not None:
        name, arguments = read(function, "name"), read(function, "arguments")
        call_id, item_id = read(call, "id") or read(call, "call_id"), None
    else:  # Responses function_call item
        name, arguments = read(call, "name"), read(call, "arguments")
        call_id, item_id = read(call, "call_id"), read(call, "id")
        if not call_id:
            call_id, item_id = item_id, None
    if not isinstance(name, str) or not name:
        raise ConfigurationError(
            f"tool_calls[{index}] needs a function name, as in "
            "{'id': ..., 'type': 'function', 'function': {'name': ..., 'arguments': '{...}'}}"
        )
    if call_id is not None and not isinstance(call_id, str):
        raise ConfigurationError(f"tool_calls[{index}] ({name}): 'id' must be a string")
    if item_id is not None and not isinstance(item_id, str):
        item_id = None
    return ToolCall(
        id=call_id or "", name=name, arguments=_arguments_text(arguments), item_id=item_id
    )


def _arguments_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    if arguments is None:
        return "{}"
    try:
        return json.dumps(arguments, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        raise ConfigurationError(
            f"tool-call arguments must be JSON text or a JSON-serialisable value; got "
            f"{_type_name(arguments)}"
        ) from None


# --- reasoning ---------------------------------------------------------------------------------


def read_reasoning(value: Any) -> tuple[str | None, str | None]:
    """``reasoning`` as ``(effort, summary)``: an effort string, or a Responses-style dict.

    ``"high"`` means effort ``high``; ``{"effort": "low", "summary": "auto"}`` sets both (the
    deprecated ``generate_summary`` is read as ``summary``). Either may be None.
    """
    if value is None:
        return None, None
    if isinstance(value, str):
        return value or None, None
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            "reasoning must be an effort string ('minimal', 'low', 'medium', 'high') or a dict "
            f"such as {{'effort': 'low', 'summary': 'auto'}}; got {_type_name(value)}"
        )
    unknown = sorted(str(key) for key in value if key not in _REASONING_KEYS)
    if unknown:
        raise ConfigurationError(
            f"reasoning takes 'effort' and 'summary'; unknown key(s): {', '.join(unknown)}"
        )
    effort = value.get("effort")
    summary = value.get("summary")
    if summary is None:
        summary = value.get("generate_summary")
    for key, item in (("effort", effort), ("summary", summary)):
        if item is not None and not isinstance(item, str):
            raise ConfigurationError(f"reasoning['{key}'] must be a string; got {_type_name(item)}")
    return effort or None, summary or None
