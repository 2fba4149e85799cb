"""Convert LangChain messages into the core's neutral :class:`~cf_ai_gateway.wire.types.Message`.

LangChain messages arrive in many shapes: plain strings, OpenAI Chat Completions content
blocks (``image_url``, ``file``, ``input_audio``), Responses blocks (``input_text``,
``input_image``), LangChain standard content blocks (v0 ``source_type`` blocks and v1
``{"type": "image"|"audio", "url"|"base64"}`` blocks) and Anthropic-style blocks (``tool_use``,
``thinking``, base64 ``source`` images). This module folds all of them into the neutral text,
image, file and audio parts, carries tool-call ids and Responses reasoning items over, and
rejects what the gateway cannot take with a clear error.
The functions are pure: no I/O and no knowledge of either endpoint's wire format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.wire.inbound import read_tool_calls
from cf_ai_gateway.wire.types import (
    AudioPart,
    ContentPart,
    FilePart,
    ImagePart,
    Message,
    Role,
    TextPart,
    ToolCall,
)

__all__ = [
    "FUNCTION_CALL_ITEM_IDS_KEY",
    "REASONING_ITEMS_KEY",
    "convert_content",
    "convert_message",
    "convert_messages",
]

#: ``additional_kwargs`` key holding the Responses reasoning items of an assistant turn.
REASONING_ITEMS_KEY = "reasoning_items"
#: ``additional_kwargs`` key mapping each tool-call id to its Responses ``fc_…`` item id.
FUNCTION_CALL_ITEM_IDS_KEY = "function_call_item_ids"
# The key langchain-openai uses for the same mapping; read so its messages round-trip too.
_OPENAI_FUNCTION_CALL_IDS_KEY = "__openai_function_call_ids__"

# Content blocks that describe model output already carried elsewhere (tool calls,
# reasoning) or that the gateway has no use for: skipped, never sent as text.
_SKIPPED_BLOCK_TYPES = frozenset(
    {
        "tool_use",
        "tool_call",
        "tool_call_chunk",
        "invalid_tool_call",
        "server_tool_call",
        "server_tool_call_chunk",
        "server_tool_result",
        "function_call",
        "thinking",
        "redacted_thinking",
        "reasoning",
        "reasoning_content",
        "refusal",
        "non_standard",
    }
)
_TEXT_BLOCK_TYPES = frozenset({"text", "input_text", "output_text", "text-plain"})
_CHAT_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "developer",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "ai": "assistant",
    "tool": "tool",
}


def convert_messages(messages: Sequence[BaseMessage]) -> list[Message]:
    """Convert a LangChain conversation into neutral messages, in order."""
    return [convert_message(message, position) for position, message in enumerate(messages)]


def convert_message(message: BaseMessage, position: int = 0) -> Message:
    """Convert one LangChain message; ``position`` only improves error messages."""
    if isinstance(message, HumanMessage):
        return Message(
            role="user",
            content=convert_content(message.content, position),
            name=message.name,
        )
    if isinstance(message, AIMessage):
        return _convert_ai_message(message, position)
    if isinstance(message, SystemMessage):
        role: Role = (
            "developer"
            if message.additional_kwargs.get("__openai_role__") == "developer"
            else "system"
        )
        return Message(role=role, content=convert_content(message.content, position))
    if isinstance(message, ToolMessage):
        return Message(
            role="tool",
            content=_tool_output(message.content, position),
            tool_call_id=message.tool_call_id,
        )
    if isinstance(message, ChatMessage):
        chat_role = _CHAT_ROLES.get(message.role.lower())
        if chat_role is None:
            raise ConfigurationError(
                f"messages[{position}]: ChatMessage role {message.role!r} is not supported; "
                f"use one of {sorted(set(_CHAT_ROLES))}"
            )
        return Message(
            role=chat_role,
            content=convert_content(message.content, position),
            name=message.name,
            tool_call_id=message.additional_kwargs.get("tool_call_id"),
        )
    if isinstance(message, FunctionMessage):
        raise ConfigurationError(
            f"messages[{position}]: FunctionMessage is the legacy function-calling format; "
            "use ToolMessage with the tool call's id"
        )
    raise ConfigurationError(
        f"messages[{position}]: message type {type(message).__name__!r} is not supported"
    )


def convert_content(content: Any, position: int = 0) -> str | list[ContentPart]:
    """Convert message content (a string or a list of blocks) into neutral content.

    A list made only of text becomes one string, which every endpoint accepts in every
    role; anything multimodal stays a list of parts.
    """
    if isinstance(content, str):
        return content
    parts: list[ContentPart] = []
    for block in content:
        part = _convert_block(block, position)
        if part is not None:
            parts.append(part)
    if all(isinstance(part, TextPart) for part in parts):
        return "".join(part.text for part in parts if isinstance(part, TextPart))
    return parts


def _convert_block(block: Any, position: int) -> ContentPart | None:
    if isinstance(block, str):
        return TextPart(block)
    if not isinstance(block, Mapping):
        raise ConfigurationError(
            f"messages[{position}]: content block of type {type(block).__name__} is not supported"
        )
    kind = block.get("type")
    if kind in _TEXT_BLOCK_TYPES and "source_type" not in block:
        text = block.get("text")
        return TextPart(text) if isinstance(text, str) and text else None
    if kind in _SKIPPED_BLOCK_TYPES:
        return None
    if kind == "image_url":
        return _image_url_block(block, position)
    if kind == "input_image":
        url = block.get("image_url")
        if isinstance(url, str):
            return ImagePart(url=url, detail=block.get("detail"))
        raise _unsupported(position, "input_image blocks need an image_url string")
    if kind == "image":
        return _image_block(block, position)
    if kind == "file":
        return _file_block(block, position)
    if kind == "input_file":
        return FilePart(
            data=block.get("file_data"),
            file_id=block.get("file_id"),
            filename=block.get("filename"),
        )
    if kind == "audio":
        return _audio_block(block, position)
    if kind == "input_audio":
        return _input_audio_block(block, position)
    if kind == "video":
        raise _unsupported(position, "video content is not supported by the gateway adapter")
    if kind == "text" and block.get("source_type") == "text":
        return TextPart(str(block.get("text", "")))
    raise _unsupported(position, f"content block type {kind!r} is not supported")


def _image_url_block(block: Mapping[str, Any], position: int) -> ImagePart:
    image = block.get("image_url")
    if isinstance(image, str):
        return ImagePart(url=image)
    if isinstance(image, Mapping) and isinstance(image.get("url"), str):
        return ImagePart(url=image["url"], detail=image.get("detail"))
    raise _unsupported(position, "image_url blocks need a url")


def _image_block(block: Mapping[str, Any], position: int) -> ImagePart:
    detail = _detail(block)
    source = block.get("source")
    if isinstance(source, Mapping):  # Anthropic style
        if source.get("type") == "base64" and source.get("data"):
            media_type = source.get("media_type") or "image/png"
            return ImagePart(url=f"data:{media_type};base64,{source['data']}", detail=detail)
        if source.get("type") == "url" and source.get("url"):
            return ImagePart(url=str(source["url"]), detail=detail)
        raise _unsupported(position, "image source must be base64 data or a url")
    source_type = block.get("source_type")
    if isinstance(block.get("url"), str) and source_type in (None, "url"):
        return ImagePart(url=block["url"], detail=detail)
    data = block.get("base64") if source_type is None else block.get("data")
    if isinstance(data, str) and data:
        mime_type = block.get("mime_type")
        if not mime_type:
            raise _unsupported(position, "base64 image blocks need a mime_type")
        return ImagePart(url=f"data:{mime_type};base64,{data}", detail=detail)
    raise _unsupported(position, "image blocks need a url or base64 data with a mime_type")


def _file_block(block: Mapping[str, Any], position: int) -> FilePart:
    nested = block.get("file")
    if isinstance(nested, Mapping):  # Chat Completions style
        return FilePart(
            data=nested.get("file_data"),
            file_id=nested.get("file_id"),
            filename=nested.get("filename"),
        )
    filename = _filename(block)
    source_type = block.get("source_type")
    data = block.get("base64") if source_type is None else block.get("data")
    if isinstance(data, str) and data and source_type in (None, "base64"):
        mime_type = block.get("mime_type")
        if not mime_type:
            raise _unsupported(position, "base64 file blocks need a mime_type")
        return FilePart(data=f"data:{mime_type};base64,{data}", filename=filename or "file")
    file_id = block.get("file_id") if source_type is None else block.get("id")
    if isinstance(file_id, str) and file_id:
        return FilePart(file_id=file_id, filename=filename)
    raise _unsupported(position, "file blocks need base64 data with a mime_type, or a file_id")


def _audio_block(block: Mapping[str, Any], position: int) -> AudioPart:
    """A standard audio block (v1 ``base64``, v0 ``source_type="base64"`` + ``data``)."""
    source_type = block.get("source_type")
    if source_type not in (None, "base64") or block.get("url") or block.get("file_id"):
        raise _unsupported(
            position, "audio blocks must hold base64 data: OpenAI takes no audio URL or file id"
        )
    data = block.get("base64") or block.get("data")
    if not isinstance(data, str) or not data:
        raise _unsupported(position, "audio blocks need base64 data with a mime_type")
    mime_type = block.get("mime_type")
    if data.startswith("data:"):  # a data URL carries its own MIME type
        header, _, data = data.partition(",")
        mime_type = mime_type or header[5:].split(";", 1)[0]
    if not isinstance(mime_type, str) or not mime_type:
        raise _unsupported(position, "base64 audio blocks need a mime_type such as 'audio/wav'")
    try:
        return AudioPart.from_mime_type(data, mime_type)
    except ValueError as error:
        raise _unsupported(position, str(error)) from None


def _input_audio_block(block: Mapping[str, Any], position: int) -> AudioPart:
    """An OpenAI Chat Completions ``{"type": "input_audio", "input_audio": {...}}`` block."""
    audio = block.get("input_audio")
    if isinstance(audio, Mapping):
        data, audio_format = audio.get("data"), audio.get("format")
        if isinstance(data, str) and data and isinstance(audio_format, str) and audio_format:
            return AudioPart(data=data, format=audio_format)
    raise _unsupported(position, "input_audio blocks need input_audio.data and input_audio.format")


def _filename(block: Mapping[str, Any]) -> str | None:
    if isinstance(block.get("filename"), str):
        return str(block["filename"])
    for key in ("extras", "metadata"):
        extra = block.get(key)
        if isinstance(extra, Mapping) and isinstance(extra.get("filename"), str):
            return str(extra["filename"])
    return None


def _detail(block: Mapping[str, Any]) -> str | None:
    detail = block.get("detail")
    if detail is None and isinstance(block.get("extras"), Mapping):
        detail = block["extras"].get("detail")
    return detail if isinstance(detail, str) else None


def _unsupported(position: int, problem: str) -> ConfigurationError:
    return ConfigurationError(f"messages[{position}]: {problem}")


def _tool_output(content: Any, position: int) -> str | list[ContentPart]:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return convert_content(content, position)
    return json.dumps(content, ensure_ascii=False, default=str)


def _convert_ai_message(message: AIMessage, position: int) -> Message:
    extra = message.additional_kwargs
    item_ids: Mapping[str, Any] = (
        extra.get(FUNCTION_CALL_ITEM_IDS_KEY) or extra.get(_OPENAI_FUNCTION_CALL_IDS_KEY) or {}
    )
    tool_calls: list[ToolCall] = []
    for call in message.tool_calls:
        call_id = call.get("id") or ""
        tool_calls.append(
            ToolCall(
                id=call_id,
                name=call["name"],
                arguments=json.dumps(call["args"], ensure_ascii=False),
                item_id=item_ids.get(call_id),
            )
        )
    for invalid in message.invalid_tool_calls:
        call_id = invalid.get("id") or ""
        args = invalid.get("args")
        tool_calls.append(
            ToolCall(
                id=call_id,
                name=invalid.get("name") or "",
                arguments=args if args is not None else "{}",
                item_id=item_ids.get(call_id),
            )
        )
    if not tool_calls and isinstance(extra.get("tool_calls"), list):
        tool_calls = read_tool_calls(extra["tool_calls"])

    reasoning_items = [dict(item) for item in extra.get(REASONING_ITEMS_KEY) or ()]
    content = message.content
    if isinstance(content, list):
        reasoning_items.extend(_reasoning_items_in_content(content, reasoning_items))
        text = "".join(
            part.text
            for part in (_convert_block(block, position) for block in content)
            if isinstance(part, TextPart)
        )
    else:
        text = content
    return Message(
        role="assistant",
        content=text if text or not tool_calls else None,
        tool_calls=tool_calls,
        name=message.name,
        reasoning_items=reasoning_items,
    )


def _reasoning_items_in_content(
    content: list[Any], known: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Responses reasoning items that langchain-openai keeps as content blocks."""
    known_ids = {item.get("id") for item in known}
    found = []
    for block in content:
        if (
            isinstance(block, Mapping)
            and block.get("type") == "reasoning"
            and isinstance(block.get("id"), str)
            and block["id"].startswith("rs_")
            and "summary" in block
            and block["id"] not in known_ids
        ):
            found.append({k: v for k, v in block.items() if k != "index"})
    return found
