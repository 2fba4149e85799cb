"""Native structured output for the LlamaIndex adapter.

``structured_predict`` and its async and streaming forms ask the model for JSON that follows the
output class's schema with the ``json_schema`` response format (strict mode), instead of
function calling or prompt-and-parse, and validate the reply with the output class. Streams
yield partial objects as the JSON grows, through LlamaIndex's own incremental parser.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.types import Model, PydanticProgramMode

from .schema import response_format_for

if TYPE_CHECKING:
    from llama_index.core.program.utils import FlexibleModel
    from llama_index.core.prompts import BasePromptTemplate, PromptTemplate

dispatcher = get_dispatcher(__name__)

__all__ = [
    "StructuredOutputMixin",
    "parse_structured",
    "structured_astream",
    "structured_kwargs",
    "structured_messages",
    "structured_stream",
]


def structured_messages(
    llm: Any, prompt: BasePromptTemplate, prompt_args: dict[str, Any]
) -> list[ChatMessage]:
    """The prompt's messages, with the LLM's system prompt in front."""
    messages: list[ChatMessage] = llm._extend_messages(
        prompt.format_messages(llm=llm, **prompt_args)
    )
    return messages


def structured_kwargs(output_cls: type[Model], llm_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """Call kwargs asking for strict JSON that follows ``output_cls``; no tool choice."""
    kwargs = dict(llm_kwargs or {})
    kwargs.pop("tool_choice", None)
    kwargs["response_format"] = response_format_for(output_cls)
    return kwargs


def parse_structured(output_cls: type[Model], response: ChatResponse) -> Model:
    """Validate a reply's JSON text with ``output_cls``; a refusal raises ``ValueError``."""
    refusal = response.message.additional_kwargs.get("refusal")
    text = response.message.content or ""
    if refusal and not text:
        raise ValueError(f"the model refused to produce {output_cls.__name__}: {refusal}")
    return output_cls.model_validate_json(text)


def structured_stream(
    output_cls: type[Model], responses: Generator[ChatResponse, None, None]
) -> Generator[Model | FlexibleModel, None, None]:
    """Partial objects, one per chunk, as the streamed JSON grows."""
    from llama_index.core.program.streaming_utils import process_streaming_content_incremental

    current: Any = None
    for response in responses:
        current = process_streaming_content_incremental(response, output_cls, current)
        yield cast("Model | FlexibleModel", current)


async def structured_astream(
    output_cls: type[Model], responses: AsyncGenerator[ChatResponse, None]
) -> AsyncGenerator[Model | FlexibleModel, None]:
    """Async twin of :func:`structured_stream`."""
    from llama_index.core.program.streaming_utils import process_streaming_content_incremental

    current: Any = None
    async for response in responses:
        current = process_streaming_content_incremental(response, output_cls, current)
        yield cast("Model | FlexibleModel", current)


class _StructuredHost(Protocol):
    """What the mixin needs from the LLM it is mixed into."""

    pydantic_program_mode: PydanticProgramMode

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse: ...

    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse: ...

    def stream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> Generator[ChatResponse, None, None]: ...

    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> AsyncGenerator[ChatResponse, None]: ...

    def _extend_messages(self, messages: list[ChatMessage]) -> list[ChatMessage]: ...


class StructuredOutputMixin:
    """``structured_predict`` and friends with native JSON-schema output.

    With ``pydantic_program_mode`` other than ``DEFAULT`` the LlamaIndex base behaviour
    (function calling or prompt parsing) is used instead.
    """

    def _native_structured(self: _StructuredHost) -> bool:
        return self.pydantic_program_mode == PydanticProgramMode.DEFAULT

    @dispatcher.span
    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Predict an ``output_cls`` instance with the ``json_schema`` response format."""
        host = cast("_StructuredHost", self)
        if not StructuredOutputMixin._native_structured(host):
            return cast(
                "Model",
                super().structured_predict(  # type: ignore[misc]
                    output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
                ),
            )
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        messages = structured_messages(host, prompt, prompt_args)
        response = host.chat(messages, **structured_kwargs(output_cls, llm_kwargs))
        output = parse_structured(output_cls, response)
        dispatcher.event(LLMStructuredPredictEndEvent(output=output))
        return output

    @dispatcher.span
    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """Async twin of :meth:`structured_predict`."""
        host = cast("_StructuredHost", self)
        if not StructuredOutputMixin._native_structured(host):
            return cast(
                "Model",
                await super().astructured_predict(  # type: ignore[misc]
                    output_cls, prompt, llm_kwargs=llm_kwargs, **prompt_args
                ),
            )
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        messages = structured_messages(host, prompt, prompt_args)
        response = await host.achat(messages, **structured_kwargs(output_cls, llm_kwargs))
        output = parse_structured(output_cls, response)
        dispatcher.event(LLMStructuredPredictEndEvent(output=output))
        return output

    def _structured_stream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None, None]:
        host = cast("_StructuredHost", self)
        if not StructuredOutputMixin._native_structured(host):
            return cast(
                "Generator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None, None]",
                super()._structured_stream_call(  # type: ignore[misc]
                    output_cls, prompt, llm_kwargs, **prompt_args
                ),
            )
        messages = structured_messages(host, prompt, prompt_args)
        responses = host.stream_chat(messages, **structured_kwargs(output_cls, llm_kwargs))
        return structured_stream(output_cls, responses)

    async def _structured_astream_call(
        self,
        output_cls: type[Model],
        prompt: PromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None]:
        host = cast("_StructuredHost", self)
        if not StructuredOutputMixin._native_structured(host):
            return cast(
                "AsyncGenerator[Model | list[Model] | FlexibleModel | list[FlexibleModel], None]",
                await super()._structured_astream_call(  # type: ignore[misc]
                    output_cls, prompt, llm_kwargs, **prompt_args
                ),
            )
        messages = structured_messages(host, prompt, prompt_args)
        responses = await host.astream_chat(messages, **structured_kwargs(output_cls, llm_kwargs))
        return structured_astream(output_cls, responses)
