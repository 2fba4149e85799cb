"""Tool calling for the LlamaIndex adapter: preparing tool calls and reading them back.

:func:`prepare_chat_with_tools` turns LlamaIndex tools into neutral function tools (strict
schemas when asked) and resolves ``tool_choice``/``tool_required``; :func:`tool_selections`
reads a response's tool calls from its ``ToolCallBlock`` blocks, falling back to
``message.additional_kwargs["tool_calls"]`` (messages restored from storage, or built by other
code), and parses partial JSON arguments the way LlamaIndex's own integrations do.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import ChatMessage, ChatResponse, MessageRole, ToolCallBlock
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

from cf_ai_gateway.wire.inbound import read_tool_calls

from .convert import llama_tool_to_neutral

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

__all__ = ["force_single_tool_call", "prepare_chat_with_tools", "tool_selections"]


def prepare_chat_with_tools(
    tools: Sequence[BaseTool],
    user_msg: str | ChatMessage | None,
    chat_history: list[ChatMessage] | None,
    *,
    allow_parallel_tool_calls: bool,
    tool_required: bool,
    tool_choice: Any,
    strict: bool,
    kwargs: dict[str, Any],
) -> dict[str, Any]:
    """The ``chat`` keyword arguments for one tool-calling turn."""
    neutral_tools = [llama_tool_to_neutral(tool, strict=strict) for tool in tools]
    messages = list(chat_history or [])
    if isinstance(user_msg, str):
        messages.append(ChatMessage(role=MessageRole.USER, content=user_msg))
    elif user_msg is not None:
        messages.append(user_msg)
    prepared: dict[str, Any] = {"messages": messages}
    if neutral_tools:
        prepared["tools"] = neutral_tools
        if tool_choice is None:
            tool_choice = "required" if tool_required else "auto"
        prepared["tool_choice"] = tool_choice
        prepared["parallel_tool_calls"] = allow_parallel_tool_calls
    prepared.update(kwargs)
    return prepared


def force_single_tool_call(response: ChatResponse) -> None:
    """Keep only the first tool call of a response (when parallel calls are not allowed)."""
    message = response.message
    calls = [b for b in message.blocks if isinstance(b, ToolCallBlock)]
    if len(calls) > 1:
        message.blocks = [b for b in message.blocks if not isinstance(b, ToolCallBlock)] + [
            calls[0]
        ]
    legacy = message.additional_kwargs.get("tool_calls")
    if isinstance(legacy, list) and len(legacy) > 1:
        message.additional_kwargs["tool_calls"] = legacy[:1]


def _parse_arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if not arguments:
        return {}
    try:
        parsed = parse_partial_json(arguments)
    except (ValueError, TypeError, json.JSONDecodeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def tool_selections(response: ChatResponse, error_on_no_tool_call: bool) -> list[ToolSelection]:
    """The tool calls of a response as ``ToolSelection`` objects."""
    message = response.message
    selections = [
        ToolSelection(
            tool_id=block.tool_call_id or "",
            tool_name=block.tool_name,
            tool_kwargs=_parse_arguments(block.tool_kwargs),
        )
        for block in message.blocks
        if isinstance(block, ToolCallBlock)
    ]
    if not selections:
        selections = [
            ToolSelection(
                tool_id=call.id, tool_name=call.name, tool_kwargs=_parse_arguments(call.arguments)
            )
            for call in read_tool_calls(message.additional_kwargs.get("tool_calls") or ())
        ]
    if not selections and error_on_no_tool_call:
        raise ValueError("Expected at least one tool call, but got 0 tool calls.")
    return selections
