"""Turns the core's neutral stream deltas into LlamaIndex stream responses, chunk by chunk.

Each yielded ``ChatResponse`` carries the chunk's ``delta`` and the whole message so far: the
growing text, a ``ThinkingBlock`` for streamed reasoning, and the tool calls so far both as
``ToolCallBlock`` blocks and in ``message.additional_kwargs["tool_calls"]`` (LlamaIndex's agents
and structured-output programs read that key). Every chunk's ``additional_kwargs`` holds the
gateway info; usage and the finish reason join once they arrive; ``logprobs`` holds the token
log probabilities so far. Per-chunk work is kept small: models are built without re-validation
and tool-call blocks are rebuilt only when a tool-call chunk arrives. :func:`stream_responses`
(and its async twin) run one streamed call and end it with a single closing chunk that holds
usage, finish reason and gateway info, as LlamaIndex's own OpenAI class ends its streams.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator
from typing import TYPE_CHECKING, Any

from llama_index.core.base.llms.types import (
    ChatResponse,
    CompletionResponse,
    LogProb,
    MessageRole,
    ThinkingBlock,
    ToolCallBlock,
)

from cf_ai_gateway.wire.types import ChatDelta, ChatRequest, ChatResult, ToolCall

from .convert import (
    REASONING_ITEMS_KEY,
    model_builder,
    new_chat_message,
    new_chat_response,
    new_text_block,
    token_logprobs,
    tool_call_dict,
    usage_kwargs,
)

if TYPE_CHECKING:
    from cf_ai_gateway import Gateway
    from cf_ai_gateway.wire.inbound_kwargs import CallOptions

__all__ = [
    "ChatStreamState",
    "CompletionStreamState",
    "StreamState",
    "astream_responses",
    "stream_responses",
]

_ASSISTANT = MessageRole.ASSISTANT
_new_text = new_text_block
_new_message = new_chat_message
_new_response = new_chat_response
_new_completion = model_builder(CompletionResponse)
_new_tool_call = model_builder(ToolCallBlock)
_new_thinking = model_builder(ThinkingBlock)


class StreamState:
    """What both chat and completion streams accumulate.

    ``tool_calls`` reads the stream's running tool calls (the wire stream handler's
    ``tool_calls``); the state keeps no tool-call accumulator of its own.
    """

    __slots__ = ("content", "finish", "gateway", "logprobs", "reasoning", "tool_calls", "usage")

    def __init__(self, gateway: dict[str, Any], tool_calls: Callable[[], list[ToolCall]]) -> None:
        self.gateway = gateway
        self.tool_calls = tool_calls
        self.content = ""
        self.reasoning = ""
        self.finish: dict[str, Any] | None = None
        self.usage: dict[str, Any] | None = None
        # The token log probabilities so far; replaced (never changed in place) as they grow,
        # so every chunk keeps the list it was given.
        self.logprobs: list[list[LogProb]] | None = None

    def _add_logprobs(self, delta: ChatDelta) -> None:
        self.logprobs = [*(self.logprobs or ()), *token_logprobs(delta.logprobs)]

    def response(self, delta: ChatDelta, final: ChatResult | None = None) -> Any:
        """The stream chunk for one delta, or None when the delta carries nothing."""
        raise NotImplementedError

    def _response_kwargs(self, delta: ChatDelta, final: ChatResult | None) -> dict[str, Any]:
        """The chunk's ``additional_kwargs``; usage and finish details stick once seen."""
        if delta.usage is not None:
            self.usage = usage_kwargs(delta.usage)
        if final is not None:
            finish: dict[str, Any] = {}
            reason = delta.finish_reason or final.finish_reason
            for key, value in (
                ("finish_reason", reason),
                ("status", final.status),
                ("model", final.model),
                ("id", final.id),
            ):
                if value is not None:
                    finish[key] = value
            self.finish = finish
        elif delta.finish_reason is not None:
            self.finish = {"finish_reason": delta.finish_reason}
        out: dict[str, Any] = {"gateway": self.gateway}
        if self.usage is not None:
            out.update(self.usage)
        if self.finish is not None:
            out.update(self.finish)
        if delta.reasoning:
            out["thinking_delta"] = delta.reasoning
        return out


def _raw_for(delta: ChatDelta, final: ChatResult | None) -> Any:
    """The chunk's ``raw``: its stream event, or the whole reply on a usage chunk that lacks it.

    LlamaIndex's token counter reads ``raw["usage"]`` of the last chunk; a Responses terminal
    event nests usage inside ``response``, so that chunk carries the whole reply instead.
    """
    event = delta.event
    if final is not None and (event is None or "usage" not in event) and final.raw:
        return final.raw
    return event


class ChatStreamState(StreamState):
    """Accumulates one chat stream; :meth:`response` turns a delta into a ``ChatResponse``."""

    __slots__ = ("call_blocks", "call_dicts", "reasoning_items", "refusal")

    def __init__(self, gateway: dict[str, Any], tool_calls: Callable[[], list[ToolCall]]) -> None:
        super().__init__(gateway, tool_calls)
        self.refusal = ""
        self.call_blocks: list[ToolCallBlock] = []
        self.call_dicts: list[Any] = []
        self.reasoning_items: list[dict[str, Any]] | None = None

    def _set_calls(self, calls: list[ToolCall]) -> None:
        """Rebuild the tool-call blocks and dicts from the calls so far."""
        self.call_blocks = [
            _new_tool_call(tool_call_id=c.id, tool_name=c.name, tool_kwargs=c.arguments)
            for c in calls
        ]
        self.call_dicts = [tool_call_dict(c.id, c.name, c.arguments) for c in calls]

    def response(self, delta: ChatDelta, final: ChatResult | None = None) -> ChatResponse | None:
        """The ``ChatResponse`` for one delta, or None when the delta carries nothing.

        ``final`` is the accumulated result, passed on the stream's terminal delta so that
        Responses reasoning items (sent back on the next turn) join the message.
        """
        text = delta.text
        if text:
            self.content += text
        if delta.logprobs:
            self._add_logprobs(delta)
        if delta.reasoning:
            self.reasoning += delta.reasoning
        if delta.refusal:
            self.refusal += delta.refusal
        if delta.tool_call_chunks:
            self._set_calls(self.tool_calls())
        elif not (
            text
            or delta.reasoning
            or delta.refusal
            or delta.usage is not None
            or delta.finish_reason is not None
        ):
            return None
        if final is not None:
            if final.reasoning_items:
                self.reasoning_items = final.reasoning_items
            if final.tool_calls and not self.call_blocks:
                # Calls that only the final reply object carried.
                self._set_calls(final.tool_calls)
        blocks: list[Any] = []
        if self.reasoning or self.reasoning_items:
            info = {REASONING_ITEMS_KEY: self.reasoning_items} if self.reasoning_items else {}
            blocks.append(
                _new_thinking(
                    content=self.reasoning or None, num_tokens=None, additional_information=info
                )
            )
        blocks.append(_new_text(text=self.content))
        message_kwargs: dict[str, Any] = {}
        if self.call_blocks:
            blocks.extend(self.call_blocks)
            message_kwargs["tool_calls"] = list(self.call_dicts)
        if self.refusal:
            message_kwargs["refusal"] = self.refusal
        return _new_response(
            message=_new_message(role=_ASSISTANT, blocks=blocks, additional_kwargs=message_kwargs),
            raw=_raw_for(delta, final),
            delta=text,
            logprobs=self.logprobs,
            additional_kwargs=self._response_kwargs(delta, final),
        )


class CompletionStreamState(StreamState):
    """Accumulates one completion stream (text only)."""

    __slots__ = ()

    def response(
        self, delta: ChatDelta, final: ChatResult | None = None
    ) -> CompletionResponse | None:
        """The ``CompletionResponse`` for one delta, or None when the delta carries nothing."""
        text = delta.text
        if delta.logprobs:
            self._add_logprobs(delta)
        if text:
            self.content += text
        elif not (delta.usage is not None or delta.finish_reason is not None or delta.reasoning):
            return None
        return _new_completion(
            text=self.content,
            delta=text,
            raw=_raw_for(delta, final),
            logprobs=self.logprobs,
            additional_kwargs=self._response_kwargs(delta, final),
        )


def _closes_only(delta: ChatDelta) -> bool:
    """True for a delta that only closes the stream (finish reason, usage), with no content.

    A stream may close with several such deltas (the chat endpoint sends the finish reason and
    the usage apart); their chunks repeat each other's state, so only the last one is yielded.
    """
    return not (delta.text or delta.reasoning or delta.refusal or delta.tool_call_chunks)


def stream_responses(
    gateway: Gateway,
    api: Any,
    request: ChatRequest,
    call: CallOptions,
    state_type: type[StreamState],
) -> Generator[Any, None, None]:
    """Stream one call; ``state_type`` turns each delta into a chat or completion chunk.

    The stream ends with at most one chunk without new content, which carries the usage, the
    finish reason and the gateway info.
    """
    with gateway.chat_stream(
        request,
        api=api,
        **call.kwargs(),
    ) as stream:
        respond = state_type(stream.info.to_dict(), stream.handler.tool_calls).response
        held = None  # a closing chunk, yielded once no later closing chunk replaces it
        for delta in stream:
            final = (
                stream.result()
                if delta.usage is not None or delta.finish_reason is not None
                else None
            )
            response = respond(delta, final)
            if response is None:
                continue
            if final is not None and _closes_only(delta):
                held = response
                continue
            if held is not None:
                yield held
                held = None
            yield response
        if held is not None:
            yield held


async def astream_responses(
    gateway: Gateway,
    api: Any,
    request: ChatRequest,
    call: CallOptions,
    state_type: type[StreamState],
) -> AsyncGenerator[Any, None]:
    """Async twin of :func:`stream_responses`."""
    async with gateway.achat_stream(
        request,
        api=api,
        **call.kwargs(),
    ) as stream:
        respond = state_type(stream.info.to_dict(), stream.handler.tool_calls).response
        held = None  # a closing chunk, yielded once no later closing chunk replaces it
        async for delta in stream:
            final = (
                stream.result()
                if delta.usage is not None or delta.finish_reason is not None
                else None
            )
            response = respond(delta, final)
            if response is None:
                continue
            if final is not None and _closes_only(delta):
                held = response
                continue
            if held is not None:
                yield held
                held = None
            yield response
        if held is not None:
            yield held
