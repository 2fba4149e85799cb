"""``CloudflareAIGatewayLLM``: a LlamaIndex ``FunctionCallingLLM`` routed through Cloudflare AI Gateway.

It speaks to either OpenAI-wire endpoint (``api="chat"`` for ``chat/completions``,
``api="responses"`` for ``responses``) through the core :class:`cf_ai_gateway.Gateway` and its
neutral calls, so every gateway feature (auth modes incl. stored keys and Unified Billing, caching
and logging options per client or per call, typed errors, ``GatewayInfo``) works the same on both.
Secrets are ``SecretStr`` fields excluded from ``to_dict()``/``to_json()`` and hidden in ``repr``.
Retries happen only in the core (``max_retries``); this class adds no retry layer of its own.
"""

# Annotations are evaluated here, not postponed: pydantic then reads the field types as they
# are, instead of compiling each from a string when the class is created.
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
)
from llama_index.core.callbacks import CallbackManager
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.function_calling import FunctionCallingLLM

from cf_ai_gateway import ConfigurationError, fallback_checks
from cf_ai_gateway.wire.inbound_kwargs import CallOptions
from cf_ai_gateway.wire.types import ChatRequest

from .connection import GatewayConnectionFields
from .convert import result_to_chat_response
from .metadata import llm_metadata
from .request import LLM_REQUEST_FIELDS, build_request
from .settings import check_settings, coerce_update, validation_message
from .streaming import (
    ChatStreamState,
    CompletionStreamState,
    StreamState,
    astream_responses,
    stream_responses,
)
from .structured import StructuredOutputMixin
from .tools import force_single_tool_call, prepare_chat_with_tools, tool_selections

if TYPE_CHECKING:
    from llama_index.core.llms.llm import ToolSelection
    from llama_index.core.tools.types import BaseTool

__all__ = ["CloudflareAIGatewayLLM"]

DEFAULT_MODEL = "gpt-4o-mini"


def _completion(response: ChatResponse) -> CompletionResponse:
    return CompletionResponse(
        text=response.message.content or "",
        raw=response.raw,
        logprobs=response.logprobs,
        additional_kwargs=response.additional_kwargs,
    )


class CloudflareAIGatewayLLM(StructuredOutputMixin, GatewayConnectionFields, FunctionCallingLLM):
    """LlamaIndex LLM for any OpenAI-wire model behind Cloudflare AI Gateway.

    Connection fields default from the environment: ``account_id`` (``CF_ACCOUNT_ID`` or
    ``CLOUDFLARE_ACCOUNT_ID``), ``gateway_id`` (``CF_AIG_GATEWAY_ID``, else ``"default"``),
    ``api_key`` (``OPENAI_API_KEY`` for provider ``openai``), ``cf_aig_token``
    (``CF_AIG_TOKEN``) and ``base_url`` (``CF_AIG_BASE_URL``). ``auth_mode`` is inferred from the
    secrets that are set. ``gateway_options`` (a ``GatewayOptions`` or dict) apply to every call
    and merge with a per-call ``gateway_options=`` keyword. ``additional_kwargs`` are extra
    request-body fields. Calls also take the OpenAI SDK's ``extra_headers=`` (sent as HTTP
    headers) and ``extra_body=`` (merged into the body); in ``additional_kwargs`` they apply to
    every call.

    Example:
        ```python
        from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

        llm = CloudflareAIGatewayLLM(model="gpt-4o-mini", gateway_options={"metadata": {"app": "docs"}})
        print(llm.complete("Say hi").text)
        ```
    """

    # The validation schema is built on first construction, not at import (the connection
    # mixin's defer_build).

    model: str = Field(default=DEFAULT_MODEL, description="Model name, e.g. 'gpt-4o-mini'.")
    api: Literal["chat", "responses"] = Field(
        default="chat", description="'chat' for chat/completions, 'responses' for responses."
    )
    fallbacks: list[Any] | None = Field(
        default=None,
        description="Models or {'provider', 'model', 'api_key'} routes tried in turn when a "
        "call fails transiently.",
    )
    fallback_on: Any = Field(
        default=None, exclude=True, description="Error classes that move a call to a fallback."
    )
    temperature: float | None = Field(default=None, description="Sampling temperature.")
    top_p: float | None = Field(default=None, description="Nucleus sampling mass.")
    max_tokens: int | None = Field(default=None, description="Maximum tokens to generate.")
    stop: list[str] | None = Field(default=None, description="Stop sequences.")
    seed: int | None = Field(default=None, description="Sampling seed.")
    user: str | None = Field(default=None, description="End-user id sent to the provider.")
    logprobs: bool | None = Field(default=None, description="Ask for token log probabilities.")
    top_logprobs: int | None = Field(default=None, description="Alternatives per token.")
    reasoning_effort: str | None = Field(default=None, description="Reasoning effort.")
    reasoning_summary: str | None = Field(
        default=None, description="Reasoning summary mode (Responses endpoint)."
    )
    store: bool | None = Field(default=None, description="Store the response (Responses).")
    include: list[str] | None = Field(default=None, description="Extra output (Responses).")
    instructions: str | None = Field(default=None, description="Instructions (Responses).")
    truncation: str | None = Field(default=None, description="Truncation mode (Responses).")
    built_in_tools: list[dict[str, Any]] | None = Field(
        default=None, description="Built-in tools sent with every call (Responses)."
    )
    strict: bool = Field(default=False, description="Use strict schemas for function tools.")
    streaming: bool = Field(
        default=False,
        description="Make chat/complete stream internally and return the whole reply.",
    )
    tracing: bool = Field(
        default=False, description="Open an OpenTelemetry span per call (cf_ai_gateway.otel)."
    )
    context_window: int | None = Field(default=None, description="Context window override.")
    additional_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra request-body fields for every call."
    )

    _metadata_cache: tuple[Any, LLMMetadata, dict[str, Any]] | None = PrivateAttr(default=None)

    @field_validator("fallbacks", mode="after")
    @classmethod
    def _check_fallbacks(cls, value: list[Any] | None) -> list[Any] | None:
        # Keys given in entries are kept as masked secrets, never as plain text.
        return None if value is None else list(fallback_checks.check_fallbacks(value))

    @field_validator("fallback_on", mode="after")
    @classmethod
    def _check_fallback_on(cls, value: Any) -> Any:
        return fallback_checks.check_fallback_on(value) or None

    @field_serializer("fallbacks")
    def _dump_fallbacks(self, value: list[Any] | None) -> list[Any] | None:
        # A route's own key stays out of to_dict()/to_json(): it is read from the environment.
        if value is None:
            return None
        return [
            {k: v for k, v in entry.items() if k != "api_key"} if isinstance(entry, dict) else entry
            for entry in value
        ]

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        api: str = "chat",
        account_id: str | None = None,
        gateway_id: str | None = None,
        provider: str | None = None,
        api_key: str | SecretStr | None = None,
        cf_aig_token: str | SecretStr | None = None,
        auth_mode: str | None = None,
        base_url: str | None = None,
        gateway_options: Any = None,
        timeout: float | None = 60.0,
        max_retries: int = 2,
        additional_kwargs: dict[str, Any] | None = None,
        callback_manager: CallbackManager | None = None,
        **kwargs: Any,
    ) -> None:
        self._check_arguments(base_url, kwargs)
        if isinstance(kwargs.get("stop"), str):
            kwargs["stop"] = [kwargs["stop"]]
        check_settings(
            model=model,
            api=api,
            timeout=timeout,
            max_retries=max_retries,
            additional_kwargs=additional_kwargs,
            extra=kwargs,
        )
        gateway, connection = self._connect(
            {
                "account_id": account_id,
                "gateway_id": gateway_id,
                "provider": provider,
                "api_key": api_key,
                "cf_aig_token": cf_aig_token,
                "auth_mode": auth_mode,
                "base_url": base_url,
                "gateway_options": gateway_options,
                "timeout": timeout,
                "max_retries": max_retries,
                **kwargs,
            }
        )
        super().__init__(
            model=model,
            api=api,
            additional_kwargs=dict(additional_kwargs or {}),
            callback_manager=callback_manager,
            **connection,
        )
        self._gateway = gateway

    # -- configuration ----------------------------------------------------------------------

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> "CloudflareAIGatewayLLM":
        """A copy; with ``update``, the new settings are checked again and it gets its own client.

        Updated secrets are stored as ``SecretStr``; bad values raise ``ConfigurationError``.
        """
        copied = super().model_copy(deep=deep)
        if update:
            copied._apply_update(coerce_update(update, type(self).model_fields))
        return copied

    def _apply_update(self, values: dict[str, Any]) -> None:
        merged = {**vars(self), **values}
        check_settings(
            model=merged["model"],
            api=merged["api"],
            timeout=merged["timeout"],
            max_retries=merged["max_retries"],
            additional_kwargs=merged["additional_kwargs"],
            extra=merged,
        )
        validator = type(self).__pydantic_validator__
        try:
            for name, value in values.items():
                validator.validate_assignment(self, name, value)
        except ValidationError as exc:
            raise ConfigurationError(validation_message(exc)) from None
        self._gateway = None
        self._gateway = self._new_gateway()

    @classmethod
    def class_name(cls) -> str:
        return "CloudflareAIGatewayLLM"

    def _cached_metadata(self) -> tuple[Any, LLMMetadata, dict[str, Any]]:
        key = (self.model, self.context_window, self.max_tokens)
        cached = self._metadata_cache
        if cached is None or cached[0] != key:
            cached = self._metadata_cache = (key, *llm_metadata(*key, self.class_name()))
        return cached

    @property
    def metadata(self) -> LLMMetadata:
        return self._cached_metadata()[1]

    def to_payload(self) -> dict[str, Any]:
        """The non-secret description LlamaIndex's instrumentation sends with every call."""
        return dict(self._cached_metadata()[2])

    # -- request building -------------------------------------------------------------------

    def _request(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]
    ) -> tuple[ChatRequest, CallOptions]:
        defaults = {name: getattr(self, name) for name in LLM_REQUEST_FIELDS}
        return build_request(
            self.model, messages, defaults, self.additional_kwargs, self.built_in_tools, kwargs
        )

    # -- chat -------------------------------------------------------------------------------

    def _chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        if self.streaming:
            last = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT))
            for response in self._stream_chat(messages, **kwargs):
                last = response
            return last
        request, call = self._request(messages, kwargs)
        result = self.gateway.chat(
            request,
            api=self.api,
            **call.kwargs(),
        )
        return result_to_chat_response(result)

    async def _achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        if self.streaming:
            last = ChatResponse(message=ChatMessage(role=MessageRole.ASSISTANT))
            async for response in self._astream_chat(messages, **kwargs):
                last = response
            return last
        request, call = self._request(messages, kwargs)
        result = await self.gateway.achat(
            request,
            api=self.api,
            **call.kwargs(),
        )
        return result_to_chat_response(result)

    def _stream(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any], state_type: type[StreamState]
    ) -> Generator[Any, None, None]:
        """Stream one call; ``state_type`` turns each delta into a chat or completion chunk."""
        request, call = self._request(messages, kwargs)
        return stream_responses(self.gateway, self.api, request, call, state_type)

    def _astream(
        self, messages: Sequence[ChatMessage], kwargs: dict[str, Any], state_type: type[StreamState]
    ) -> AsyncGenerator[Any, None]:
        """Async twin of :meth:`_stream`."""
        request, call = self._request(messages, kwargs)
        return astream_responses(self.gateway, self.api, request, call, state_type)

    def _stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream(messages, kwargs, ChatStreamState)

    def _astream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseAsyncGen:
        return self._astream(messages, kwargs, ChatStreamState)

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return self._chat(messages, **kwargs)

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await self._achat(messages, **kwargs)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream_chat(messages, **kwargs)

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        return self._astream_chat(messages, **kwargs)

    # -- complete ---------------------------------------------------------------------------

    @staticmethod
    def _prompt_messages(prompt: str) -> list[ChatMessage]:
        return [ChatMessage(role=MessageRole.USER, content=prompt)]

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return _completion(self._chat(self._prompt_messages(prompt), **kwargs))

    @llm_completion_callback()
    async def acomplete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponse:
        return _completion(await self._achat(self._prompt_messages(prompt), **kwargs))

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        return self._stream(self._prompt_messages(prompt), kwargs, CompletionStreamState)

    @llm_completion_callback()
    async def astream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseAsyncGen:
        return self._astream(self._prompt_messages(prompt), kwargs, CompletionStreamState)

    # -- tools ------------------------------------------------------------------------------

    def _prepare_chat_with_tools(
        self,
        tools: Sequence["BaseTool"],
        user_msg: str | ChatMessage | None = None,
        chat_history: list[ChatMessage] | None = None,
        verbose: bool = False,
        allow_parallel_tool_calls: bool = False,
        tool_required: bool = False,
        tool_choice: Any = None,
        strict: bool | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return prepare_chat_with_tools(
            tools,
            user_msg,
            chat_history,
            allow_parallel_tool_calls=allow_parallel_tool_calls,
            tool_required=tool_required,
            tool_choice=tool_choice,
            strict=self.strict if strict is None else strict,
            kwargs=kwargs,
        )

    def _validate_chat_with_tools_response(
        self,
        response: ChatResponse,
        tools: Sequence["BaseTool"],
        allow_parallel_tool_calls: bool = False,
        **kwargs: Any,
    ) -> ChatResponse:
        if not allow_parallel_tool_calls:
            force_single_tool_call(response)
        return response

    def get_tool_calls_from_response(
        self, response: ChatResponse, error_on_no_tool_call: bool = True, **kwargs: Any
    ) -> list["ToolSelection"]:
        return tool_selections(response, error_on_no_tool_call)
