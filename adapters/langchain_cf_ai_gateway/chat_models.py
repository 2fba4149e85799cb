"""``ChatCloudflareAIGateway``: a LangChain chat model that calls Cloudflare AI Gateway.

It subclasses ``BaseChatModel``, takes its connection fields from
:class:`~langchain_cf_ai_gateway.connection.GatewayConnection` (shared with the embeddings
class), and sends every call through the core client :class:`cf_ai_gateway.Gateway` and its
neutral calls, so it never parses endpoint JSON and
never imports an OpenAI SDK. Configuration is checked when the model is built (missing
credentials raise :class:`cf_ai_gateway.ConfigurationError`); the HTTP client is created on
first use and reused. Both OpenAI-wire endpoints are supported (``api="chat"`` or
``api="responses"``), with tools, structured output, usage, gateway metadata in
``response_metadata["gateway"]`` and per-call gateway options
(``invoke(..., gateway_options={...})``). Core errors propagate unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.callbacks import (
    AsyncCallbackManagerForLLMRun,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_core.utils.utils import _build_model_kwargs
from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cf_ai_gateway import fallback_checks
from cf_ai_gateway.errors import ConfigurationError

from .connection import GatewayConnection
from .outputs import closing_chunk, delta_to_chunk, llm_output, result_to_message
from .profiles import model_profile_dict
from .request import build_request, check_reasoning, options_dict
from .settings import check_arguments, provider_key_env, validation_message
from .structured import StructuredOutputMethod, build_structured_output
from .tools import format_tools, validate_tool_choice
from .tracing import record_gateway_metadata

if TYPE_CHECKING:  # BaseTool costs tens of ms to import; only the annotations name it
    from langchain_core.runnables import Runnable
    from langchain_core.tools import BaseTool

__all__ = ["ChatCloudflareAIGateway"]


def _token_logprobs(chunk: ChatGenerationChunk) -> dict[str, Any]:
    """``on_llm_new_token``'s ``logprobs`` argument, as ChatOpenAI passes it, when present."""
    logprobs = chunk.message.response_metadata.get("logprobs")
    return {"logprobs": logprobs} if logprobs else {}


class ChatCloudflareAIGateway(GatewayConnection, BaseChatModel):
    """Chat model routed through Cloudflare AI Gateway (OpenAI-wire providers).

    Setup: ``pip install 'cf-ai-gateway[langchain]'`` and set ``CF_ACCOUNT_ID`` plus
    ``OPENAI_API_KEY`` (the provider key) and/or ``CF_AIG_TOKEN`` (the gateway token).

    Example:
        ```python
        from langchain_cf_ai_gateway import ChatCloudflareAIGateway

        model = ChatCloudflareAIGateway(model="gpt-4o-mini", gateway_id="my-gateway")
        reply = model.invoke("Hello", gateway_options={"cache_key": "hello", "cache_ttl": 3600})
        reply.response_metadata["gateway"]["cache_status"]  # "MISS", then "HIT"
        ```

    Auth modes: with both secrets the call is ``authenticated``; with only the provider key
    ``unauthenticated``; with only the gateway token ``byok`` (stored keys or Unified
    Billing), and then no ``Authorization`` header is sent at all.
    """

    # The validation schema is built on first construction, not at import (about 20 ms).
    model_config = ConfigDict(populate_by_name=True, arbitrary_types_allowed=True, defer_build=True)

    # -- where and who -------------------------------------------------------------------------
    model: str = Field(default="gpt-4o-mini", alias="model_name")
    """Model name as the provider knows it, e.g. ``gpt-4o-mini``."""
    # The connection fields (account, gateway, provider, secrets, auth mode, base URL, gateway
    # options, headers, timeout, retries, pool limits, HTTP clients) come from GatewayConnection.
    api: Literal["chat", "responses"] = "chat"
    """``"chat"`` calls ``chat/completions``; ``"responses"`` calls ``responses``."""
    fallbacks: list[Any] | None = None
    """Models (``"gpt-4o-mini"``) or routes (``{"provider", "model", "api_key"}``) tried in
    turn when a call fails transiently; also per call (``invoke(..., fallbacks=[...])``)."""
    fallback_on: Any = Field(default=None, exclude=True)
    """Error classes that move a call to its next fallback (default: the transient ones)."""
    tracing: bool = False
    """Open an OpenTelemetry span per call (``cf_ai_gateway.otel``; ``otel.instrument()``
    traces every model instead)."""

    # -- model parameters ----------------------------------------------------------------------
    temperature: float | None = None
    max_tokens: int | None = Field(default=None, alias="max_completion_tokens")
    top_p: float | None = None
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    seed: int | None = None
    n: int | None = None
    """Only 1 (or None) is supported: LangChain returns one message per call."""
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    streaming: bool = False
    """Stream under the hood even for ``invoke``."""
    stream_usage: bool = True
    """Ask for token usage on streams (the last chunk carries it)."""
    reasoning_effort: str | None = None
    """Reasoning effort for reasoning models (``minimal``/``low``/``medium``/``high``)."""
    reasoning: dict[str, Any] | str | None = None
    """Responses-style reasoning settings, e.g. ``{"effort": "low", "summary": "auto"}``, or
    just the effort (``"high"``)."""
    service_tier: str | None = None
    include: list[str] | None = None
    """Responses only: extra output to include, e.g. ``["reasoning.encrypted_content"]``."""
    store: bool | None = None
    """Responses only: whether the provider stores the response."""
    previous_response_id: str | None = None
    """Responses only: continue from a stored response."""
    truncation: str | None = None
    """Responses only: ``auto`` or ``disabled``."""
    model_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Other request fields, merged into every request."""
    extra_body: dict[str, Any] | None = None
    """Raw fields merged last into the request body."""

    # -- construction --------------------------------------------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _prepare_values(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        cls._provider_key_default(values)
        names = {name for name, info in cls.model_fields.items()}
        names |= {info.alias for info in cls.model_fields.values() if info.alias}
        return _build_model_kwargs(values, names)

    def __init__(self, **kwargs: Any) -> None:
        check_arguments(kwargs)
        try:
            super().__init__(**kwargs)
        except ValidationError as exc:
            # Pydantic's message echoes the value given, which may be a secret.
            message = validation_message(exc, kwargs.get("provider") or "openai")
            raise ConfigurationError(message) from None
        # Resolve and check the connection settings now; the HTTP client stays lazy.
        self._check_settings()

    @field_validator("fallbacks", mode="after")
    @classmethod
    def _check_fallbacks(cls, value: list[Any] | None) -> list[Any] | None:
        # Keys given in entries are kept as masked secrets, never as plain text.
        return None if value is None else list(fallback_checks.check_fallbacks(value))

    @field_validator("fallback_on", mode="after")
    @classmethod
    def _check_fallback_on(cls, value: Any) -> Any:
        return fallback_checks.check_fallback_on(value) or None

    def _check_settings(self) -> None:
        check_reasoning(self.reasoning)
        self._check_connection()

    def _resolve_model_profile(self) -> ModelProfile | None:
        """``profile`` from the core catalog; an unknown model gets a small, safe default."""
        return model_profile_dict(self.model)

    @property
    def model_name(self) -> str:
        """The model name (``model``), under the name ChatOpenAI users know."""
        return self.model

    def model_copy(
        self, *, update: Mapping[str, Any] | None = None, deep: bool = False
    ) -> ChatCloudflareAIGateway:
        """A copy; with ``update``, its settings are checked again and it gets its own client."""
        copied = super().model_copy(update=update, deep=deep)
        if update:
            if "gateway_options" in update:
                copied.gateway_options = options_dict(update["gateway_options"])
            copied._check_settings()
        return copied

    def _gateway_arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {"fallbacks": self.fallbacks, "fallback_on": self.fallback_on}
        if self.tracing:
            arguments["tracing"] = True
        return arguments

    # -- LangChain metadata --------------------------------------------------------------------
    @property
    def _llm_type(self) -> str:
        return "cloudflare-ai-gateway-chat"

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return True

    @property
    def lc_secrets(self) -> dict[str, str]:
        # The provider's own key variable, so a loaded groq model never gets the OpenAI key.
        return {"api_key": provider_key_env(self.provider), "cf_aig_token": "CF_AIG_TOKEN"}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "model_name": self.model,
            "provider": self.provider,
            "api": self.api,
            "gateway_id": self.gateway_id,
        }
        for name in (
            "temperature",
            "max_tokens",
            "top_p",
            "stop",
            "seed",
            "presence_penalty",
            "frequency_penalty",
            "reasoning_effort",
            "reasoning",
            "service_tier",
        ):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        if self.model_kwargs:
            params["model_kwargs"] = self.model_kwargs
        return params

    def _get_invocation_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        params = {**self._identifying_params, "_type": self._llm_type, "stop": stop}
        params.update(kwargs)
        if "model" in kwargs:
            params["model_name"] = kwargs["model"]
        return params

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider="cloudflare-ai-gateway",
            ls_model_name=kwargs.get("model") or self.model,
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens") or kwargs.get("max_completion_tokens")
        if max_tokens := max_tokens or self.max_tokens:
            params["ls_max_tokens"] = max_tokens
        if ls_stop := stop or kwargs.get("stop") or self.stop:
            params["ls_stop"] = ls_stop
        return params

    # -- calls ---------------------------------------------------------------------------------
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request, call = build_request(self, messages, stop, kwargs)
        result = self.gateway.chat(request, api=self.api, **call)
        record_gateway_metadata(run_manager, result.info)
        return ChatResult(
            generations=[ChatGeneration(message=result_to_message(result, request.model))],
            llm_output=llm_output(result, request.model),
        )

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        request, call = build_request(self, messages, stop, kwargs)
        result = await self.gateway.achat(request, api=self.api, **call)
        record_gateway_metadata(run_manager, result.info)
        return ChatResult(
            generations=[ChatGeneration(message=result_to_message(result, request.model))],
            llm_output=llm_output(result, request.model),
        )

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        request, call = build_request(self, messages, stop, kwargs)
        new_token = run_manager.on_llm_new_token if run_manager is not None else None
        with self.gateway.chat_stream(request, api=self.api, **call) as stream:
            record_gateway_metadata(run_manager, stream.info)
            gateway_info: dict[str, Any] | None = stream.info.to_dict()
            for delta in stream:
                chunk = delta_to_chunk(delta)
                if chunk is None:
                    continue
                if gateway_info is not None:
                    chunk.message.response_metadata["gateway"] = gateway_info
                    gateway_info = None
                if new_token is not None:
                    new_token(chunk.text, chunk=chunk, **_token_logprobs(chunk))
                yield chunk
            last = closing_chunk(stream.result(), request.model)
        if gateway_info is not None:
            last.message.response_metadata["gateway"] = gateway_info
        if new_token is not None:
            new_token("", chunk=last)
        yield last

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        request, call = build_request(self, messages, stop, kwargs)
        new_token = run_manager.on_llm_new_token if run_manager is not None else None
        gateway = self.gateway
        async with gateway.achat_stream(request, api=self.api, **call) as stream:
            record_gateway_metadata(run_manager, stream.info)
            gateway_info: dict[str, Any] | None = stream.info.to_dict()
            async for delta in stream:
                chunk = delta_to_chunk(delta)
                if chunk is None:
                    continue
                if gateway_info is not None:
                    chunk.message.response_metadata["gateway"] = gateway_info
                    gateway_info = None
                if new_token is not None:
                    await new_token(chunk.text, chunk=chunk, **_token_logprobs(chunk))
                yield chunk
            last = closing_chunk(stream.result(), request.model)
        if gateway_info is not None:
            last.message.response_metadata["gateway"] = gateway_info
        if new_token is not None:
            await new_token("", chunk=last)
        yield last

    # -- tools and structured output -----------------------------------------------------------
    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: dict[str, Any] | str | bool | None = None,
        strict: bool | None = None,
        parallel_tool_calls: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools (pydantic models, functions, ``@tool``s or dict schemas).

        ``tool_choice``: ``"auto"``, ``"none"``, ``"any"``/``"required"``/``True`` (some tool),
        a tool's name (that tool), or an OpenAI-style dict. ``strict=True`` asks for
        schema-exact arguments; ``parallel_tool_calls=False`` allows one call per turn.
        """
        formatted = format_tools(tools, strict=strict)
        choice = validate_tool_choice(tool_choice, formatted)
        if choice is not None:
            kwargs["tool_choice"] = choice
        if parallel_tool_calls is not None:
            kwargs["parallel_tool_calls"] = parallel_tool_calls
        return super().bind(tools=formatted, **kwargs)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type | None = None,
        *,
        method: StructuredOutputMethod = "json_schema",
        include_raw: bool = False,
        strict: bool | None = None,
        tools: list[Any] | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Return a runnable that answers with data matching ``schema``.

        ``method``: ``"json_schema"`` (default; strict unless ``strict=False``),
        ``"function_calling"`` (one forced tool call) or ``"json_mode"`` (a JSON object; say
        which keys in the prompt). ``schema`` may be a pydantic class, a TypedDict, a JSON
        schema or an OpenAI function dict; pydantic schemas give pydantic objects, the others
        dicts. With ``include_raw=True`` the result is ``{"raw", "parsed", "parsing_error"}``.
        """
        return build_structured_output(
            self,
            schema,
            method=method,
            include_raw=include_raw,
            strict=strict,
            tools=tools,
            **kwargs,
        )

    # -- token counting ------------------------------------------------------------------------
    def get_num_tokens_from_messages(
        self,
        messages: list[BaseMessage],
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool] | None = None,
    ) -> int:
        """Approximate token count (about four characters a token, plus per-message overhead).

        The gateway fronts many providers with different tokenizers, so this is an estimate;
        exact counts come back in ``usage_metadata`` after each call.
        """
        formatted: list[BaseTool | dict[str, Any]] | None = (
            [convert_to_openai_tool(tool) for tool in tools] if tools else None
        )
        return count_tokens_approximately(messages, tools=formatted)

    def get_num_tokens(self, text: str) -> int:
        """Approximate token count of a text (see :meth:`get_num_tokens_from_messages`)."""
        return count_tokens_approximately([HumanMessage(text)], extra_tokens_per_message=0)
