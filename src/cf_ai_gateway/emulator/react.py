"""The ReAct text protocol: answer agents that describe tools in the prompt instead of the API.

LlamaIndex's ``ReActAgent`` (and similar agents) put the tools into the system prompt as
``> Tool Name: …`` / ``Tool Args: {json schema}`` blocks and expect replies in the form
``Thought: …`` + ``Action: tool`` + ``Action Input: {json}``, or ``Thought: …`` + ``Answer: …``.
Tool results come back as ``Observation: …`` messages. This module detects such prompts and
replies in that format: it calls the tool the question names or hints at (arguments valid
against the described schema), and answers with the observation once one arrived.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .conversation import Turn
from .schema_values import PromptValues, generate
from .text_analysis import numbers_in, tool_hinted, tools_named

_TOOL_BLOCK = re.compile(
    r"^>\s*Tool Name:\s*(?P<name>\S+)\s*$(?P<rest>.*?)(?=^>\s*Tool Name:|\Z)", re.M | re.S
)
_TOOL_ARGS = re.compile(r"^Tool Args:\s*(?P<args>.*)$", re.M)
_ACTION = re.compile(r"^Action:\s*(?P<name>[^\n()\s]+)", re.M)


def is_react_prompt(turns: list[Turn]) -> bool:
    """True when a system message carries ReAct instructions (Thought/Action/Action Input)."""
    return any(
        turn.role == "system" and "Action Input:" in turn.text and "Thought:" in turn.text
        for turn in turns
    )


def _described_tools(turns: list[Turn]) -> dict[str, dict[str, Any]]:
    tools: dict[str, dict[str, Any]] = {}
    for turn in turns:
        if turn.role != "system":
            continue
        for block in _TOOL_BLOCK.finditer(turn.text):
            schema: dict[str, Any] = {"type": "object", "properties": {}}
            args = _TOOL_ARGS.search(block.group("rest"))
            if args:
                try:
                    parsed = json.loads(args.group("args"))
                    if isinstance(parsed, dict):
                        schema = parsed
                except ValueError:
                    pass
            tools[block.group("name")] = schema
    return tools


def _is_observation(turn: Turn) -> bool:
    return turn.role == "tool" or (
        turn.role == "user" and turn.text.lstrip().startswith("Observation:")
    )


def react_reply(turns: list[Turn]) -> str:
    """The next ReAct step for this conversation."""
    tools = _described_tools(turns)
    question_index = -1
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].role == "user" and not _is_observation(turns[index]):
            question_index = index
            break
    question = turns[question_index].text if question_index >= 0 else ""
    after = turns[question_index + 1 :]
    observations = [
        t.text.strip().removeprefix("Observation:").strip() for t in after if _is_observation(t)
    ]
    called = [
        m.group("name") for t in after if t.role == "assistant" for m in _ACTION.finditer(t.text)
    ]
    named = tools_named(question, tools)
    pending = [n for n in named if n not in called]
    if observations:
        if pending:
            return _action(pending[0], tools[pending[0]], question, observations[-1], called, after)
        result = observations[-1]
        return (
            "Thought: I can answer without using any more tools. I'll use the user's language to answer\n"
            f"Answer: The {called[-1] if called else 'tool'} tool returned {result}. So the answer is {result}."
        )
    choice = named[0] if named else tool_hinted(question, tools)
    if choice:
        return _action(choice, tools[choice], question, None, called, after)
    from .model import echo_answer  # local import: model imports this module

    return (
        "Thought: I can answer without using any more tools. I'll use the user's language to answer\n"
        f"Answer: {echo_answer(question)}"
    )


def _action(
    name: str,
    schema: dict[str, Any],
    question: str,
    observation: str | None,
    called: list[str],
    after: list[Turn],
) -> str:
    used = [
        n
        for t in after
        if t.role == "assistant"
        for n in numbers_in(t.text.split("Action Input:", 1)[-1])
    ]
    leading = numbers_in(observation)[-1:] if observation else []
    values = PromptValues(question, leading_numbers=leading, used_numbers=used)
    arguments = json.dumps(generate(schema, values), ensure_ascii=False)
    return (
        "Thought: The current language of the user is: English. I need to use a tool to help me answer the "
        f"question.\nAction: {name}\nAction Input: {arguments}"
    )
