"""The emulator's conversation types, and the reading of a ``chat/completions`` request body.

Both endpoints' bodies become a :class:`ModelRequest` (the ``responses`` reading lives in
:mod:`.responses_request` and uses the checks shared here): a list of :class:`Turn` (system, user,
assistant with tool calls, tool results), the function tools on offer, the tool choice, the
structured-output format, and the sampling limits the deterministic model honours. Requests the
real OpenAI API rejects are rejected here too, with its error message, by raising
:class:`InvalidRequest` — so a client bug shows up against the emulator as it would in production.
This module is the emulator's own reading of the wire format; it shares no code with the client.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class InvalidRequest(Exception):
    """A request body that OpenAI answers with HTTP 400."""

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


@dataclass
class CallRecord:
    """A tool call already made in the conversation."""

    id: str
    name: str
    arguments: str


@dataclass
class Turn:
    """One message of the conversation."""

    role: str  # "system" | "user" | "assistant" | "tool"
    text: str = ""
    images: int = 0
    files: int = 0
    audio: int = 0
    tool_calls: list[CallRecord] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


@dataclass
class FunctionSpec:
    """A function tool on offer."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass
class ModelRequest:
    """Everything the deterministic model needs from one request."""

    endpoint: str  # "chat/completions" | "responses"
    model: str
    turns: list[Turn]
    tools: list[FunctionSpec] = field(default_factory=list)
    tool_choice: str = "auto"  # "auto" | "none" | "required" | a function name
    parallel_tool_calls: bool = True
    response_format: dict[str, Any] | None = (
        None  # {"type": "json_schema"|"json_object", "schema"?}
    )
    max_tokens: int | None = None
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    include_usage: bool = False
    reasoning_effort: str | None = None
    reasoning_summary: str | None = None
    choices: int = 1
    previous_response_id: str | None = None
    store: bool = True
    body: dict[str, Any] = field(default_factory=dict)

    def last_user_turn(self) -> Turn | None:
        for turn in reversed(self.turns):
            if turn.role == "user":
                return turn
        return None


# --- shared helpers -------------------------------------------------------------------------


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else an empty dict."""
    return value if isinstance(value, dict) else {}


def content_text(content: Any, where: str, *, responses: bool = False) -> tuple[str, int, int, int]:
    """Text, image, file and audio counts of a ``content``; audio is chat-only (no Responses part)."""
    if content is None:
        return "", 0, 0, 0
    if isinstance(content, str):
        return content, 0, 0, 0
    if not isinstance(content, list):
        raise InvalidRequest(
            f"Invalid type for '{where}': expected a string or an array.", where, "invalid_type"
        )
    texts: list[str] = []
    images = files = audio = 0
    for index, part in enumerate(content):
        if isinstance(part, str):
            texts.append(part)
            continue
        if not isinstance(part, dict):
            raise InvalidRequest(
                f"Invalid type for '{where}': expected an object.", where, "invalid_type"
            )
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text"):
            texts.append(str(part.get("text", "")))
        elif kind == "refusal":
            texts.append(str(part.get("refusal", "")))
        elif kind in ("image_url", "input_image", "image"):
            images += 1
        elif kind in ("file", "input_file"):
            files += 1
        elif kind == "input_audio" and not responses:
            _check_input_audio(part.get("input_audio"), f"{where}[{index}].input_audio")
            audio += 1
        elif responses:
            raise InvalidRequest(
                f"Invalid value: '{kind}'. Supported values are: 'input_text', 'input_image', "
                "'input_file', 'output_text', and 'refusal'.",
                f"{where}[{index}].type",
                "invalid_value",
            )
        else:
            raise InvalidRequest(
                f"Invalid value: '{kind}'. Supported values are: 'text', 'image_url', "
                "'input_audio', 'refusal', and 'file'.",
                f"{where}.type",
                "invalid_value",
            )
    return "\n".join(t for t in texts if t), images, files, audio


def _check_input_audio(audio: Any, where: str) -> None:
    """An ``input_audio`` object: base64 ``data`` and a ``format`` of ``wav`` or ``mp3``."""
    if not isinstance(audio, dict):
        raise InvalidRequest(
            f"Missing required parameter: '{where}'.", where, "missing_required_parameter"
        )
    for key in ("data", "format"):
        if not isinstance(audio.get(key), str):
            raise InvalidRequest(
                f"Missing required parameter: '{where}.{key}'.",
                f"{where}.{key}",
                "missing_required_parameter",
            )
    if audio["format"] not in ("wav", "mp3"):
        raise InvalidRequest(
            f"Invalid value: '{audio['format']}'. Supported values are: 'wav' and 'mp3'.",
            f"{where}.format",
            "invalid_value",
        )


def function_spec(name: Any, description: Any, parameters: Any, where: str) -> FunctionSpec:
    if not isinstance(name, str) or not _TOOL_NAME.match(name):
        raise InvalidRequest(
            f"Invalid '{where}.name': string does not match pattern. Expected a string that matches "
            "the pattern '^[a-zA-Z0-9_-]+$'.",
            f"{where}.name",
            "invalid_value",
        )
    if parameters is None:
        parameters = {"type": "object", "properties": {}}
    if not isinstance(parameters, dict):
        raise InvalidRequest(
            f"Invalid type for '{where}.parameters': expected an object.",
            f"{where}.parameters",
            "invalid_type",
        )
    return FunctionSpec(name=name, description=str(description or ""), parameters=parameters)


def int_or_none(body: dict[str, Any], *names: str) -> int | None:
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidRequest(
                f"Invalid type for '{name}': expected an integer.", name, "invalid_type"
            )
        if value < 1:
            raise InvalidRequest(
                f"Invalid '{name}': integer below minimum value. Expected a value >= 1, "
                f"but got {value} instead.",
                name,
                "integer_below_min_value",
            )
        return value
    return None


def check_tool_choice(choice: str, tools: list[FunctionSpec]) -> None:
    if choice in ("auto", "none"):
        return
    if not tools:
        raise InvalidRequest(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' "
            "are specified.",
            "tool_choice",
        )
    if choice != "required" and choice not in {t.name for t in tools}:
        raise InvalidRequest(
            f"Invalid value for 'tool_choice': function '{choice}' not found in 'tools'.",
            "tool_choice",
        )


def require_json_word(turns: list[Turn], message: str, param: str) -> None:
    if not any("json" in turn.text.lower() for turn in turns):
        raise InvalidRequest(message, param)


# --- chat/completions ---------------------------------------------------------------------------


def read_chat_request(body: dict[str, Any]) -> ModelRequest:
    """Read a ``chat/completions`` body."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("you must provide a model parameter", None)
    messages = body.get("messages")
    if messages is None:
        raise InvalidRequest(
            "Missing required parameter: 'messages'.", "messages", "missing_required_parameter"
        )
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
            "an empty array instead.",
            "messages",
            "empty_array",
        )
    turns = _chat_turns(messages)
    tools = _chat_tools(body)
    tool_choice = _chat_tool_choice(body)
    check_tool_choice(tool_choice, tools)
    response_format = _chat_response_format(body.get("response_format"))
    if response_format and response_format["type"] == "json_object":
        require_json_word(
            turns,
            "'messages' must contain the word 'json' in some form, to use "
            "'response_format' of type 'json_object'.",
            "messages",
        )
    stream = bool(body.get("stream"))
    stream_options = body.get("stream_options")
    if stream_options is not None and not stream:
        raise InvalidRequest(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
        )
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else [s for s in (stop or []) if isinstance(s, str)]
    choices = body.get("n") or 1
    return ModelRequest(
        endpoint="chat/completions",
        model=model,
        turns=turns,
        tools=tools,
        tool_choice=tool_choice,
        parallel_tool_calls=body.get("parallel_tool_calls") is not False,
        response_format=response_format,
        max_tokens=int_or_none(body, "max_completion_tokens", "max_tokens"),
        stop=stops[:4],
        stream=stream,
        include_usage=bool(
            isinstance(stream_options, dict) and stream_options.get("include_usage")
        ),
        reasoning_effort=body.get("reasoning_effort"),
        choices=choices if isinstance(choices, int) and choices > 0 else 1,
        body=body,
    )


def _chat_turns(messages: list[Any]) -> list[Turn]:
    turns: list[Turn] = []
    open_calls: dict[str, int] = {}
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if not isinstance(message, dict):
            raise InvalidRequest(
                f"Invalid type for '{where}': expected an object.", where, "invalid_type"
            )
        role = message.get("role")
        if role in ("system", "developer"):
            text, *_ = content_text(message.get("content"), f"{where}.content")
            turns.append(Turn("system", text))
        elif role == "user":
            text, images, files, audio = content_text(message.get("content"), f"{where}.content")
            turns.append(
                Turn(
                    "user", text, images=images, files=files, audio=audio, name=message.get("name")
                )
            )
        elif role == "assistant":
            text, *_ = content_text(message.get("content"), f"{where}.content")
            calls = []
            for call in message.get("tool_calls") or []:
                if not isinstance(call, dict):
                    raise InvalidRequest(
                        f"Invalid type for '{where}.tool_calls': expected an object.",
                        f"{where}.tool_calls",
                        "invalid_type",
                    )
                function: dict[str, Any] = (
                    call["function"] if isinstance(call.get("function"), dict) else {}
                )
                call_id = str(call.get("id", ""))
                calls.append(
                    CallRecord(
                        call_id, str(function.get("name", "")), str(function.get("arguments", ""))
                    )
                )
                open_calls[call_id] = index
            legacy = message.get("function_call")
            if isinstance(legacy, dict):
                calls.append(
                    CallRecord("", str(legacy.get("name", "")), str(legacy.get("arguments", "")))
                )
            turns.append(Turn("assistant", text, tool_calls=calls))
        elif role == "tool":
            call_id = str(message.get("tool_call_id"))
            if call_id not in open_calls:
                raise InvalidRequest(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"{where}.role",
                )
            del open_calls[call_id]
            text, *_ = content_text(message.get("content"), f"{where}.content")
            name = _call_name(turns, call_id)
            turns.append(Turn("tool", text, tool_call_id=call_id, name=name))
        elif role == "function":
            text, *_ = content_text(message.get("content"), f"{where}.content")
            turns.append(Turn("tool", text, name=message.get("name")))
        else:
            raise InvalidRequest(
                f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
                "'function', 'tool', and 'developer'.",
                f"{where}.role",
                "invalid_value",
            )
        if role != "tool" and role != "assistant" and open_calls:
            _raise_unanswered(open_calls)
    if open_calls:
        _raise_unanswered(open_calls)
    return turns


def _raise_unanswered(open_calls: dict[str, int]) -> None:
    first = min(open_calls.values())
    ids = ", ".join(sorted(open_calls))
    raise InvalidRequest(
        "An assistant message with 'tool_calls' must be followed by tool messages responding "
        f"to each 'tool_call_id'. The following tool_call_ids did not have response messages: "
        f"{ids}",
        f"messages.[{first}].role",
    )


def _call_name(turns: list[Turn], call_id: str | None) -> str | None:
    for turn in reversed(turns):
        for call in turn.tool_calls:
            if call.id == call_id:
                return call.name
    return None


def _chat_tools(body: dict[str, Any]) -> list[FunctionSpec]:
    tools: list[FunctionSpec] = []
    for index, tool in enumerate(body.get("tools") or []):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            continue
        function = tool.get("function")
        if not isinstance(function, dict):
            raise InvalidRequest(
                f"Missing required parameter: 'tools[{index}].function'.",
                f"tools[{index}].function",
                "missing_required_parameter",
            )
        tools.append(
            function_spec(
                function.get("name"),
                function.get("description"),
                function.get("parameters"),
                f"tools[{index}].function",
            )
        )
    for index, function in enumerate(body.get("functions") or []):
        if isinstance(function, dict):
            tools.append(
                function_spec(
                    function.get("name"),
                    function.get("description"),
                    function.get("parameters"),
                    f"functions[{index}]",
                )
            )
    return tools


def _chat_tool_choice(body: dict[str, Any]) -> str:
    choice = body.get("tool_choice", body.get("function_call"))
    if choice is None:
        return "auto"
    if isinstance(choice, str):
        if choice not in ("auto", "none", "required"):
            raise InvalidRequest(
                f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'.",
                "tool_choice",
                "invalid_value",
            )
        return choice
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else choice.get("name")
        if isinstance(name, str):
            return name
    raise InvalidRequest("Invalid type for 'tool_choice'.", "tool_choice", "invalid_type")


def _chat_response_format(value: Any) -> dict[str, Any] | None:
    if value is None or not isinstance(value, dict) or value.get("type") in (None, "text"):
        return None
    if value["type"] == "json_object":
        return {"type": "json_object"}
    if value["type"] == "json_schema":
        spec = value.get("json_schema")
        if not isinstance(spec, dict):
            raise InvalidRequest(
                "Missing required parameter: 'response_format.json_schema'.",
                "response_format.json_schema",
                "missing_required_parameter",
            )
        if not spec.get("name"):
            raise InvalidRequest(
                "Missing required parameter: 'response_format.json_schema.name'.",
                "response_format.json_schema.name",
                "missing_required_parameter",
            )
        return {
            "type": "json_schema",
            "name": spec["name"],
            "schema": spec.get("schema") or {"type": "object"},
        }
    raise InvalidRequest(
        f"Invalid value: '{value['type']}'. Supported values are: 'json_object', "
        "'json_schema', and 'text'.",
        "response_format.type",
        "invalid_value",
    )


def tool_output_summary(turn: Turn) -> str:
    """A tool result as one line of text (JSON results are shown compactly)."""
    text = turn.text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return (
        json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
        if not isinstance(value, str)
        else value
    )
