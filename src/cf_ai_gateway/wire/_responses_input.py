"""Request side of the ``responses`` wire format: chat-style messages as input items.

:func:`input_items` turns neutral messages into ``responses`` input items (messages, reasoning
items, ``function_call`` and ``function_call_output`` items); :func:`tool` and
:func:`tool_choice` give the flat Responses forms of tools and tool choices. Pure, stdlib only.
"""

from __future__ import annotations

from typing import Any

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.wire._common import TOOL_CHOICE_MODES, bad_part, content_text, put
from cf_ai_gateway.wire.types import (
    AudioPart,
    BuiltInToolChoice,
    ContentPart,
    FilePart,
    FunctionTool,
    ImagePart,
    Message,
    TextPart,
    Tool,
)

__all__ = ["input_items", "tool", "tool_choice"]


def input_items(messages: list[Message]) -> list[dict[str, Any]]:
    """The ``input`` items of a neutral conversation.

    Audio parts raise :class:`~cf_ai_gateway.errors.ConfigurationError`: the Responses API
    has no audio input part (``chat/completions`` takes it).
    """
    items: list[dict[str, Any]] = []
    for position, message in enumerate(messages):
        role = message.role
        if role == "assistant":
            items.extend(message.reasoning_items)
            text = _assistant_parts(message.content)
            if text:
                items.append({"type": "message", "role": "assistant", "content": text})
            for call in message.tool_calls:
                item: dict[str, Any] = {
                    "type": "function_call",
                    "call_id": call.id,
                    "name": call.name,
                    "arguments": call.arguments,
                }
                put(item, "id", call.item_id)
                items.append(item)
        elif role == "tool":
            items.append(
                {
                    "type": "function_call_output",
                    "call_id": message.tool_call_id or "",
                    "output": _tool_output(message.content, position),
                }
            )
        else:
            content = message.content
            items.append(
                {
                    "type": "message",
                    "role": role,
                    "content": (
                        content
                        if isinstance(content, str)
                        else [_input_part(part, position) for part in content]
                        if content is not None
                        else ""
                    ),
                }
            )
    return items


def _assistant_parts(content: str | list[ContentPart] | None) -> list[dict[str, Any]]:
    """An earlier assistant reply as ``output_text`` parts (empty when it had no text)."""
    if not content:
        return []
    if isinstance(content, str):
        return [{"type": "output_text", "text": content, "annotations": []}]
    return [
        {"type": "output_text", "text": part.text, "annotations": []}
        for part in content
        if isinstance(part, TextPart) and part.text
    ]


def _tool_output(
    content: str | list[ContentPart] | None, position: int
) -> str | list[dict[str, Any]]:
    """A tool result: its text, or input parts when it holds images or files."""
    if isinstance(content, list) and not all(isinstance(part, TextPart) for part in content):
        return [_input_part(part, position) for part in content]
    return content_text(content)


def _input_part(part: ContentPart, position: int) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, ImagePart):
        return {"type": "input_image", "image_url": part.url, "detail": part.detail or "auto"}
    if isinstance(part, FilePart):
        file: dict[str, Any] = {"type": "input_file"}
        put(file, "filename", part.filename)
        data = part.data
        if data is not None and data.startswith(("https:", "http:")):
            file["file_url"] = data
        else:
            put(file, "file_data", data)
        put(file, "file_id", part.file_id)
        return file
    if isinstance(part, AudioPart):
        raise ConfigurationError(
            f"messages[{position}]: the Responses API takes no audio input (AudioPart); "
            'audio input needs api="chat" (chat/completions)'
        )
    if isinstance(part, dict):  # an endpoint-native part passes through
        return part
    raise bad_part(part)


def tool(tool: Tool) -> dict[str, Any]:
    """A tool in the flat Responses form; endpoint-native dicts pass through."""
    if isinstance(tool, FunctionTool):
        out: dict[str, Any] = {"type": "function", "name": tool.name}
        put(out, "description", tool.description)
        out["parameters"] = tool.parameters
        put(out, "strict", tool.strict)
        return out
    return tool


def tool_choice(choice: Any) -> Any:
    """A tool choice: a mode, ``"any"`` as ``"required"``, a function name or a built-in tool."""
    if isinstance(choice, BuiltInToolChoice):
        return choice.to_dict()
    if not isinstance(choice, str):
        return choice  # an endpoint-native dict passes through
    if choice in TOOL_CHOICE_MODES:
        return choice
    if choice == "any":
        return "required"
    return {"type": "function", "name": choice}
