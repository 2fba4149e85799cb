"""Read a ``responses`` request body into the emulator's conversation types.

:func:`read_responses_request` turns a body's ``instructions``, ``input`` items (messages,
function calls and their outputs, continued from ``previous_response_id``), function tools,
``tool_choice`` and ``text.format`` into a :class:`~.conversation.ModelRequest`, rejecting what
the real Responses API rejects with its own message. The ``chat/completions`` reading and the
shared types live in :mod:`.conversation`; this module shares no code with the client.
"""

from __future__ import annotations

from typing import Any

from .conversation import (
    CallRecord,
    FunctionSpec,
    InvalidRequest,
    ModelRequest,
    Turn,
    as_dict,
    check_tool_choice,
    content_text,
    function_spec,
    int_or_none,
    require_json_word,
)

__all__ = ["read_responses_request"]


def read_responses_request(body: dict[str, Any], history: list[Turn] | None = None) -> ModelRequest:
    """Read a ``responses`` body; ``history`` holds the turns of ``previous_response_id``."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest(
            "Missing required parameter: 'model'.", "model", "missing_required_parameter"
        )
    turns: list[Turn] = list(history or [])
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        turns.insert(0, Turn("system", instructions))
    turns.extend(_responses_turns(body.get("input"), turns))
    tools = _responses_tools(body)
    tool_choice, tools = _responses_tool_choice(body.get("tool_choice"), tools)
    check_tool_choice(tool_choice, tools)
    response_format = _responses_format(as_dict(body.get("text")).get("format"))
    if response_format and response_format["type"] == "json_object":
        require_json_word(
            turns,
            "Response input messages must contain the word 'json' in some form to use "
            "'text.format' of type 'json_object'.",
            "input",
        )
    reasoning = as_dict(body.get("reasoning"))
    return ModelRequest(
        endpoint="responses",
        model=model,
        turns=turns,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        response_format=response_format,
        max_tokens=int_or_none(body, "max_output_tokens"),
        stream=bool(body.get("stream")),
        include_usage=True,
        reasoning_effort=reasoning.get("effort"),
        reasoning_summary=reasoning.get("summary"),
        previous_response_id=body.get("previous_response_id"),
        store=body.get("store") is not False,
        body=body,
    )


def _responses_turns(value: Any, earlier: list[Turn]) -> list[Turn]:
    if value is None:
        raise InvalidRequest(
            "Missing required parameter: 'input'.", "input", "missing_required_parameter"
        )
    if isinstance(value, str):
        return [Turn("user", value)]
    if not isinstance(value, list):
        raise InvalidRequest(
            "Invalid type for 'input': expected a string or an array.", "input", "invalid_type"
        )
    turns: list[Turn] = []
    known_calls = {call.id: call.name for turn in earlier for call in turn.tool_calls}
    for index, item in enumerate(value):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise InvalidRequest(
                f"Invalid type for '{where}': expected an object.", where, "invalid_type"
            )
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            text, images, files, _ = content_text(
                item.get("content"), f"{where}.content", responses=True
            )
            if role in ("system", "developer"):
                turns.append(Turn("system", text))
            elif role in ("user", "assistant"):
                turns.append(Turn(role, text, images=images, files=files))
            else:
                raise InvalidRequest(
                    f"Invalid value: '{role}'. Supported values are: 'assistant', 'system', "
                    "'developer', and 'user'.",
                    f"{where}.role",
                    "invalid_value",
                )
        elif kind == "function_call":
            call = CallRecord(
                str(item.get("call_id", "")),
                str(item.get("name", "")),
                str(item.get("arguments", "")),
            )
            known_calls[call.id] = call.name
            if turns and turns[-1].role == "assistant" and not turns[-1].text:
                turns[-1].tool_calls.append(call)
            else:
                turns.append(Turn("assistant", "", tool_calls=[call]))
        elif kind == "function_call_output":
            call_id = str(item.get("call_id", ""))
            if call_id not in known_calls:
                raise InvalidRequest(
                    f"No tool call found for function call output with call_id {call_id}.", "input"
                )
            output = item.get("output")
            text = (
                output
                if isinstance(output, str)
                else content_text(output, f"{where}.output", responses=True)[0]
            )
            turns.append(Turn("tool", text, tool_call_id=call_id, name=known_calls[call_id]))
        elif kind in (
            "reasoning",
            "item_reference",
            "web_search_call",
            "file_search_call",
            "computer_call",
        ):
            continue
        else:
            raise InvalidRequest(f"Invalid value: '{kind}'.", f"{where}.type", "invalid_value")
    return turns


def _responses_tools(body: dict[str, Any]) -> list[FunctionSpec]:
    tools: list[FunctionSpec] = []
    for index, tool in enumerate(body.get("tools") or []):
        if isinstance(tool, dict) and tool.get("type") == "function":
            tools.append(
                function_spec(
                    tool.get("name"),
                    tool.get("description"),
                    tool.get("parameters"),
                    f"tools[{index}]",
                )
            )
    return tools


def _responses_tool_choice(value: Any, tools: list[FunctionSpec]) -> tuple[str, list[FunctionSpec]]:
    if value is None:
        return "auto", tools
    if isinstance(value, str):
        if value not in ("auto", "none", "required"):
            raise InvalidRequest(
                f"Invalid value: '{value}'. Supported values are: 'none', 'auto', and 'required'.",
                "tool_choice",
                "invalid_value",
            )
        return value, tools
    if isinstance(value, dict):
        if value.get("type") == "function" and isinstance(value.get("name"), str):
            return value["name"], tools
        if value.get("type") == "allowed_tools":
            allowed = {t.get("name") for t in value.get("tools") or [] if isinstance(t, dict)}
            narrowed = [t for t in tools if t.name in allowed]
            return ("required" if value.get("mode") == "required" else "auto"), narrowed
        return "auto", tools  # built-in tool choices: the emulator has no built-in tools
    raise InvalidRequest("Invalid type for 'tool_choice'.", "tool_choice", "invalid_type")


def _responses_format(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or value.get("type") in (None, "text"):
        return None
    if value["type"] == "json_object":
        return {"type": "json_object"}
    if value["type"] == "json_schema":
        if not value.get("name"):
            raise InvalidRequest(
                "Missing required parameter: 'text.format.name'.",
                "text.format.name",
                "missing_required_parameter",
            )
        if not isinstance(value.get("schema"), dict):
            raise InvalidRequest(
                "Missing required parameter: 'text.format.schema'.",
                "text.format.schema",
                "missing_required_parameter",
            )
        return {"type": "json_schema", "name": value["name"], "schema": value["schema"]}
    raise InvalidRequest(
        f"Invalid value: '{value['type']}'. Supported values are: 'text', 'json_object', and "
        "'json_schema'.",
        "text.format.type",
        "invalid_value",
    )
