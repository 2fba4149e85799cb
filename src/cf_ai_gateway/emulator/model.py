"""The deterministic model: the same request always gets the same answer, shaped to be useful.

Given a :class:`~.conversation.ModelRequest`, it decides between text, tool calls and JSON:

- tools are called when ``tool_choice`` forces one, when the last user message names a tool (all
  named tools at once when parallel calls are allowed), or when its words hint at one ("weather"
  → ``get_weather``); arguments are generated valid against each tool's schema from the prompt;
- after tool results it answers in text that quotes them, or calls the next named tool;
- ``json_schema`` / ``json_object`` formats get schema-valid JSON;
- otherwise it answers with an echo of the prompt and its key words (and the value of a simple
  arithmetic expression), honouring stop sequences and the output-token limit.

ReAct-style prompts (LlamaIndex's ``ReActAgent``) are answered in their text protocol, see
:mod:`.react`. Token counts are whitespace words, so they are exact and reproducible.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import ids
from .conversation import FunctionSpec, ModelRequest, Turn, tool_output_summary
from .react import is_react_prompt, react_reply
from .schema_values import PromptValues, generate
from .text_analysis import (
    arithmetic_in,
    key_words,
    numbers_in,
    phrases_in,
    tool_hinted,
    tools_named,
)

_PIECE = re.compile(r"\s*\S+")
# Words that make a multi-tool request a sequence (each call needs the previous result).
_SEQUENTIAL = re.compile(
    r"\b(then|after that|afterwards|next|the result|its result|that result)\b", re.I
)
_REASONING_TOKENS = {"minimal": 0, "none": 0, "low": 16, "medium": 32, "high": 64, "xhigh": 96}


@dataclass
class ToolCallOut:
    """A tool call the model makes."""

    id: str
    name: str
    arguments: str


@dataclass
class ModelOutput:
    """The model's answer, before it is rendered for an endpoint."""

    text: str | None = None
    tool_calls: list[ToolCallOut] = field(default_factory=list)
    finish_reason: str = "stop"  # "stop" | "length" | "tool_calls"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    reasoning_summary: str | None = None
    forced_function: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def text_pieces(self) -> list[str]:
        """The text split into word-sized stream deltas (leading whitespace kept)."""
        return split_pieces(self.text or "")


def split_pieces(text: str) -> list[str]:
    """``text`` as word-sized pieces whose concatenation is ``text``."""
    pieces = _PIECE.findall(text)
    consumed = sum(len(p) for p in pieces)
    if consumed < len(text):
        if pieces:
            pieces[-1] += text[consumed:]
        else:
            pieces = [text]
    return pieces


# Prompt tokens counted for each input_audio clip (reported as prompt audio_tokens).
AUDIO_TOKENS_PER_CLIP = 40


def count_tokens(text: str) -> int:
    """Whitespace words: the emulator's token count."""
    return len(text.split())


def prompt_tokens(request: ModelRequest) -> int:
    """Tokens of the prompt: words of every turn, 3 per message, plus the tool schemas."""
    total = 0
    for turn in request.turns:
        total += 3 + count_tokens(turn.text) + 85 * turn.images + 50 * turn.files
        total += AUDIO_TOKENS_PER_CLIP * turn.audio
        for call in turn.tool_calls:
            total += 3 + count_tokens(call.name) + max(1, len(call.arguments) // 4)
    for tool in request.tools:
        total += 8 + len(json.dumps(tool.parameters)) // 4 + count_tokens(tool.description)
    return max(total, 1)


def prompt_fingerprint(request: ModelRequest) -> str:
    """A stable digest of the prompt, used to report cached tokens when a prompt repeats."""
    digest = hashlib.sha256()
    for turn in request.turns:
        digest.update(f"{turn.role}\x00{turn.text}\x00{turn.images}\x00{turn.audio}\x00".encode())
        for call in turn.tool_calls:
            digest.update(f"{call.name}\x00{call.arguments}\x00".encode())
    for tool in request.tools:
        digest.update(json.dumps([tool.name, tool.parameters], sort_keys=True).encode())
    return digest.hexdigest()


class DeterministicModel:
    """Answers :class:`ModelRequest` objects reproducibly (see the module docstring)."""

    def __init__(self, stream_chunks: int | None = None) -> None:
        self.stream_chunks = stream_chunks

    def respond(self, request: ModelRequest, *, prompt_seen_before: bool = False) -> ModelOutput:
        output = self._decide(request)
        output.prompt_tokens = prompt_tokens(request)
        output.cached_tokens = output.prompt_tokens if prompt_seen_before else 0
        effort = (request.reasoning_effort or "").lower()
        output.reasoning_tokens = _REASONING_TOKENS.get(effort, 32) if effort else 0
        if request.reasoning_summary and output.reasoning_tokens:
            last = request.last_user_turn()
            topic = _shorten(last.text if last else "", 120)
            output.reasoning_summary = f"**Reading the request**\n\nThe user asked: {topic}"
        if output.tool_calls:
            output.completion_tokens = sum(
                3 + max(1, len(c.arguments) // 4) for c in output.tool_calls
            )
        else:
            output.completion_tokens = len(output.text_pieces())
        output.completion_tokens += output.reasoning_tokens
        return output

    # -- decisions --

    def _decide(self, request: ModelRequest) -> ModelOutput:
        if is_react_prompt(request.turns):
            return self._limited(react_reply(request.turns), request)
        planned = self._plan_tool_calls(request)
        if planned:
            calls = [
                ToolCallOut(ids.tool_call_id(), tool.name, _json(args)) for tool, args in planned
            ]
            forced = request.tool_choice not in ("auto", "required", "none")
            return ModelOutput(
                tool_calls=calls,
                finish_reason="stop" if forced else "tool_calls",
                forced_function=forced,
            )
        if request.response_format is not None:
            return self._limited(_json(self._structured_value(request)), request, apply_stop=False)
        instructed = _schema_instructions(request)
        if instructed is not None and not _current_exchange(request.turns):
            last = request.last_user_turn()
            value = generate(instructed, PromptValues(last.text if last else ""))
            return self._limited(_json(value), request, apply_stop=False)
        return self._limited(self._text_answer(request), request)

    def _plan_tool_calls(self, request: ModelRequest) -> list[tuple[FunctionSpec, Any]]:
        tools = request.tools
        if not tools or request.tool_choice == "none":
            return []
        by_name = {t.name: t for t in tools}
        current = _current_exchange(request.turns)
        last_user = request.last_user_turn()
        prompt = last_user.text if last_user else ""
        called = [call.name for turn in current for call in turn.tool_calls]
        has_results = bool(current) and current[-1].role == "tool"
        named = [by_name[n] for n in tools_named(prompt, by_name)]
        one_at_a_time = not request.parallel_tool_calls or _SEQUENTIAL.search(prompt) is not None
        pending = [t for t in named if t.name not in called]
        chosen: list[FunctionSpec] = []
        if request.tool_choice in by_name:
            chosen = [by_name[request.tool_choice]]
        elif request.tool_choice == "required":
            hinted = tool_hinted(prompt, by_name)
            chosen = pending or ([by_name[hinted]] if hinted else [tools[0]])
            if one_at_a_time:
                chosen = chosen[:1]
        elif not has_results:
            hinted = tool_hinted(prompt, by_name)
            chosen = named if named else ([by_name[hinted]] if hinted else [])
            if one_at_a_time:
                chosen = chosen[:1]
        else:
            chosen = pending[:1]
        if not chosen:
            return []
        outputs = [n for turn in current if turn.role == "tool" for n in numbers_in(turn.text)]
        used = [
            n for turn in current for call in turn.tool_calls for n in numbers_in(call.arguments)
        ]
        values = PromptValues(
            prompt, leading_numbers=outputs[-1:] if has_results else [], used_numbers=used
        )
        return [(tool, generate(tool.parameters, values)) for tool in chosen]

    def _structured_value(self, request: ModelRequest) -> Any:
        last = request.last_user_turn()
        prompt = last.text if last else ""
        values = PromptValues(prompt)
        fmt = request.response_format or {}
        if fmt.get("type") == "json_schema":
            return generate(fmt.get("schema") or {}, values)
        schema = _schema_in_prompt(request.turns)
        if schema is not None:
            return generate(schema, values)
        keys = [
            p
            for p in phrases_in(prompt)
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p) and p[0].islower()
        ]
        if keys:
            return {key: generate({"type": "string"}, values, name=key) for key in keys}
        return {"answer": self._text_answer(request)}

    def _text_answer(self, request: ModelRequest) -> str:
        current = _current_exchange(request.turns)
        results = [t for t in current if t.role == "tool"]
        last_user = request.last_user_turn()
        prompt = (last_user.text if last_user else "").strip()
        if results:
            parts = [
                f"The {t.name or 'tool'} tool returned {tool_output_summary(t)}." for t in results
            ]
            text = " ".join(parts) + f" So the answer is {tool_output_summary(results[-1])}."
        else:
            text = echo_answer(prompt, last_user)
        if self.stream_chunks:
            text = _exact_words(text, self.stream_chunks)
        return text

    def _limited(self, text: str, request: ModelRequest, *, apply_stop: bool = True) -> ModelOutput:
        finish = "stop"
        if apply_stop and request.stop:
            cut = min((text.find(s) for s in request.stop if s and s in text), default=-1)
            if cut >= 0:
                text = text[:cut]
        pieces = split_pieces(text)
        if request.max_tokens is not None and len(pieces) > request.max_tokens:
            text = "".join(pieces[: request.max_tokens])
            finish = "length"
        return ModelOutput(text=text, finish_reason=finish)


def echo_answer(prompt: str, turn: Turn | None = None) -> str:
    """The plain answer: a quote of the prompt, its key words and any arithmetic result."""
    parts: list[str] = []
    if prompt:
        parts.append(f'This is the AI Gateway emulator answering "{_shorten(prompt, 200)}".')
    else:
        parts.append("This is the AI Gateway emulator answering.")
    arithmetic = arithmetic_in(prompt)
    if arithmetic:
        parts.append(f"{arithmetic[0]} = {arithmetic[1]}.")
    if turn is not None and turn.images:
        parts.append(f"I received {turn.images} image{'s' if turn.images > 1 else ''}.")
    if turn is not None and turn.files:
        parts.append(f"I received {turn.files} file{'s' if turn.files > 1 else ''}.")
    if turn is not None and turn.audio:
        parts.append(f"I received {turn.audio} audio clip{'s' if turn.audio > 1 else ''}.")
    words = key_words(prompt)
    if words:
        parts.append("Key words: " + ", ".join(words) + ".")
    return " ".join(parts)


def _current_exchange(turns: list[Turn]) -> list[Turn]:
    """The turns after the last user message (assistant tool calls and tool results)."""
    for index in range(len(turns) - 1, -1, -1):
        if turns[index].role == "user":
            return turns[index + 1 :]
    return list(turns)


def _schema_in_prompt(turns: list[Turn]) -> dict[str, Any] | None:
    """The last JSON schema object written into a system or user message, if any."""
    for turn in reversed(turns):
        text = turn.text
        if turn.role not in ("system", "user") or '"properties"' not in text or len(text) > 200_000:
            continue
        found = _last_schema(text)
        if found is None and "{{" in text:  # templates that left their braces escaped
            found = _last_schema(text.replace("{{", "{").replace("}}", "}"))
        if found is not None:
            return found
    return None


def _last_schema(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    found: dict[str, Any] | None = None
    position = text.find("{")
    while position >= 0:
        try:
            value, end = decoder.raw_decode(text, position)
        except ValueError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict) and isinstance(value.get("properties"), dict):
            found = value
        position = text.find("{", end)
    return found


def _schema_instructions(request: ModelRequest) -> dict[str, Any] | None:
    """A JSON schema that the prompt asks the answer to follow (output-parser instructions)."""
    last = request.last_user_turn()
    candidates = [t for t in request.turns if t.role == "system"] + ([last] if last else [])
    asking = [t for t in candidates if "json" in t.text.lower() and "schema" in t.text.lower()]
    return _schema_in_prompt(asking) if asking else None


def _exact_words(text: str, count: int) -> str:
    words = text.split()
    if not words:
        words = ["emulator"]
    out = [words[i % len(words)] for i in range(count)]
    return " ".join(out)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
