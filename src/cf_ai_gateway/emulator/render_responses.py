"""Render a model answer as a ``responses`` reply: the Response object or its SSE event stream.

The stream follows recorded OpenAI traffic event for event: ``response.created``,
``response.in_progress``, then per output item ``response.output_item.added``, (reasoning summary
parts, or ``content_part.added`` + ``output_text.delta``… + ``output_text.done`` +
``content_part.done``, or ``function_call_arguments.delta``… + ``.done``),
``response.output_item.done``, and finally ``response.completed`` — or ``response.incomplete``
when ``max_output_tokens`` cut the text. Every event carries its ``sequence_number``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from . import ids
from .conversation import ModelRequest, as_dict
from .model import ModelOutput, split_pieces

_ARGUMENT_PIECE = 8


def responses_usage(output: ModelOutput) -> dict[str, Any]:
    return {
        "input_tokens": output.prompt_tokens,
        "input_tokens_details": {"cached_tokens": output.cached_tokens},
        "output_tokens": output.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": output.reasoning_tokens},
        "total_tokens": output.total_tokens,
    }


class ResponseDraft:
    """The ids, output items and envelope of one Response, shared by the body and the stream."""

    def __init__(self, request: ModelRequest, output: ModelOutput) -> None:
        self.request = request
        self.output = output
        self.id = ids.response_id()
        self.created_at = int(time.time())
        self.incomplete = output.finish_reason == "length"
        self.items: list[dict[str, Any]] = []
        if output.reasoning_tokens:
            summary = (
                [{"type": "summary_text", "text": output.reasoning_summary}]
                if output.reasoning_summary
                else []
            )
            self.items.append(
                {"id": ids.reasoning_item_id(), "type": "reasoning", "summary": summary}
            )
        if output.tool_calls:
            for call in output.tool_calls:
                self.items.append(
                    {
                        "id": ids.function_item_id(),
                        "type": "function_call",
                        "status": "completed",
                        "arguments": call.arguments,
                        "call_id": call.id,
                        "name": call.name,
                    }
                )
        else:
            self.items.append(
                {
                    "id": ids.message_item_id(),
                    "type": "message",
                    "status": "incomplete" if self.incomplete else "completed",
                    "content": [
                        {
                            "type": "output_text",
                            "annotations": [],
                            "logprobs": [],
                            "text": output.text or "",
                        }
                    ],
                    "role": "assistant",
                }
            )

    @property
    def status(self) -> str:
        return "incomplete" if self.incomplete else "completed"

    def envelope(
        self, status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None
    ) -> dict[str, Any]:
        body = self.request.body
        text_format: dict[str, Any] = {"type": "text"}
        requested_text = body.get("text")
        if isinstance(requested_text, dict) and isinstance(requested_text.get("format"), dict):
            text_format = requested_text["format"]
        reasoning = as_dict(body.get("reasoning"))
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": {"reason": "max_output_tokens"}
            if status == "incomplete"
            else None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": None,
            "model": self.request.model,
            "output": output,
            "parallel_tool_calls": self.request.parallel_tool_calls,
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
            "service_tier": "default",
            "store": self.request.store,
            "temperature": body.get("temperature", 1.0),
            "text": {"format": text_format, "verbosity": "medium"},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_logprobs": 0,
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": usage,
            "user": None,
            "metadata": body.get("metadata") or {},
        }

    def body(self) -> dict[str, Any]:
        """The non-streamed Response object."""
        return self.envelope(self.status, self.items, responses_usage(self.output))


def encode_event(payload: dict[str, Any]) -> bytes:
    """One named SSE event (``event:`` + ``data:``)."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"event: {payload['type']}\ndata: {data}\n\n".encode()


def responses_stream(draft: ResponseDraft) -> Iterator[bytes]:
    """The SSE events of a streamed Response, through its terminal event."""
    sequence = 0

    def event(kind: str, **fields: Any) -> bytes:
        nonlocal sequence
        payload = {"type": kind, "sequence_number": sequence, **fields}
        sequence += 1
        return encode_event(payload)

    yield event("response.created", response=draft.envelope("in_progress", [], None))
    yield event("response.in_progress", response=draft.envelope("in_progress", [], None))
    for index, item in enumerate(draft.items):
        kind = item["type"]
        if kind == "reasoning":
            yield event(
                "response.output_item.added",
                output_index=index,
                item={"id": item["id"], "type": "reasoning", "summary": []},
            )
            for s_index, part in enumerate(item["summary"]):
                yield event(
                    "response.reasoning_summary_part.added",
                    item_id=item["id"],
                    output_index=index,
                    summary_index=s_index,
                    part={"type": "summary_text", "text": ""},
                )
                for piece in split_pieces(part["text"]):
                    yield event(
                        "response.reasoning_summary_text.delta",
                        item_id=item["id"],
                        output_index=index,
                        summary_index=s_index,
                        delta=piece,
                    )
                yield event(
                    "response.reasoning_summary_text.done",
                    item_id=item["id"],
                    output_index=index,
                    summary_index=s_index,
                    text=part["text"],
                )
                yield event(
                    "response.reasoning_summary_part.done",
                    item_id=item["id"],
                    output_index=index,
                    summary_index=s_index,
                    part=part,
                )
        elif kind == "function_call":
            yield event(
                "response.output_item.added",
                output_index=index,
                item={**item, "status": "in_progress", "arguments": ""},
            )
            arguments = item["arguments"]
            for start in range(0, len(arguments), _ARGUMENT_PIECE):
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=arguments[start : start + _ARGUMENT_PIECE],
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=item["id"],
                output_index=index,
                arguments=arguments,
            )
        else:
            part = item["content"][0]
            yield event(
                "response.output_item.added",
                output_index=index,
                item={
                    "id": item["id"],
                    "type": "message",
                    "status": "in_progress",
                    "content": [],
                    "role": "assistant",
                },
            )
            yield event(
                "response.content_part.added",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part={"type": "output_text", "annotations": [], "logprobs": [], "text": ""},
            )
            for piece in draft.output.text_pieces():
                yield event(
                    "response.output_text.delta",
                    item_id=item["id"],
                    output_index=index,
                    content_index=0,
                    delta=piece,
                    logprobs=[],
                )
            yield event(
                "response.output_text.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                text=part["text"],
                logprobs=[],
            )
            yield event(
                "response.content_part.done",
                item_id=item["id"],
                output_index=index,
                content_index=0,
                part=part,
            )
        yield event("response.output_item.done", output_index=index, item=item)
    terminal = "response.incomplete" if draft.incomplete else "response.completed"
    yield event(terminal, response=draft.body())
