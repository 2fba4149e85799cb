"""Pure conversions between LlamaIndex chat types and the core's neutral wire types.

LlamaIndex messages (text, image, document, audio, thinking and tool-call blocks, plus the legacy
``additional_kwargs["tool_calls"]``/``["tool_call_id"]``) become neutral
:class:`~cf_ai_gateway.wire.types.Message` objects; a neutral
:class:`~cf_ai_gateway.wire.types.ChatResult` becomes a ``ChatResponse`` whose message carries
``TextBlock``/``ThinkingBlock``/``ToolCallBlock`` blocks, whose ``logprobs`` hold the token log
probabilities and whose ``additional_kwargs`` hold the token usage and the gateway info. Nothing
here does I/O or parses endpoint JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from llama_index.core.base.llms.types import (
    AudioBlock,
    CachePoint,
    ChatMessage,
    ChatResponse,
    CitableBlock,
    CitationBlock,
    DocumentBlock,
    ImageBlock,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from pydantic import BaseModel

from cf_ai_gateway.errors import ConfigurationError
from cf_ai_gateway.wire.inbound import read_tool_calls
from cf_ai_gateway.wire.types import (
    AudioPart,
    ChatResult,
    ContentPart,
    FilePart,
    FunctionTool,
    ImagePart,
    Message,
    Role,
    TextPart,
    TokenLogprob,
    Usage,
)

if TYPE_CHECKING:
    from llama_index.core.tools.types import BaseTool

_Model = TypeVar("_Model", bound=BaseModel)

__all__ = [
    "ToolCallDict",
    "message_from_result",
    "result_to_chat_response",
    "to_neutral_messages",
    "token_logprobs",
    "tool_call_dict",
    "usage_kwargs",
]

_ROLES: dict[str, Role] = {
    "system": "system",
    "developer": "developer",
    "user": "user",
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
    "chatbot": "assistant",
    "model": "assistant",
}

# Key in a ThinkingBlock's ``additional_information`` that carries Responses reasoning items.
REASONING_ITEMS_KEY = "reasoning_items"


_new_object = object.__new__
_set_attribute = object.__setattr__


def model_builder(cls: type[_Model]) -> Callable[..., _Model]:
    """A fast constructor for a LlamaIndex pydantic model, for values of the declared types.

    It does what ``model_construct`` does (no validation; unset fields get their defaults)
    without its per-call generic work, which matters when a stream builds three models per
    chunk. Models with private attributes or extra fields fall back to ``model_construct``.
    """
    if cls.__private_attributes__ or cls.model_config.get("extra") == "allow":
        return cls.model_construct
    # Per field, in declaration order (as pydantic keeps them): (name, default, factory).
    fields: list[tuple[str, Any, Callable[[], Any] | None]] = []
    for name, info in cls.model_fields.items():
        factory: Any = info.default_factory
        fields.append((name, None if info.is_required() else info.default, factory))

    def build(**values: Any) -> _Model:
        data: dict[str, Any] = {}
        for name, default, factory in fields:
            if name in values:
                data[name] = values[name]
            else:
                data[name] = factory() if factory is not None else default
        obj = _new_object(cls)
        _set_attribute(obj, "__dict__", data)
        _set_attribute(obj, "__pydantic_fields_set__", set(values))
        _set_attribute(obj, "__pydantic_extra__", None)
        _set_attribute(obj, "__pydantic_private__", None)
        return obj

    return build


new_text_block = model_builder(TextBlock)
new_logprob = model_builder(LogProb)
new_chat_message = model_builder(ChatMessage)
new_chat_response = model_builder(ChatResponse)


class ToolCallDict(dict[str, Any]):
    """A tool call in OpenAI chat format that also reads by attribute.

    LlamaIndex code reads ``message.additional_kwargs["tool_calls"]`` both as dicts and as
    objects (``call.function.name``, as the token counter does); this type serves both and
    serialises as a plain dict.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def tool_call_dict(call_id: str | None, name: str, arguments: str) -> ToolCallDict:
    """An OpenAI-format tool call entry for ``additional_kwargs["tool_calls"]``."""
    return ToolCallDict(
        id=call_id,
        type="function",
        function=ToolCallDict(name=name, arguments=arguments),
    )


# -- LlamaIndex -> neutral ---------------------------------------------------------------------


def _image_part(block: ImageBlock) -> ImagePart:
    if block.url is not None and not block.image and not block.path:
        return ImagePart(url=str(block.url), detail=block.detail)
    data = block.resolve_image(as_base64=True).read().decode("utf-8")
    mimetype = block.image_mimetype or "image/png"
    return ImagePart(url=f"data:{mimetype};base64,{data}", detail=block.detail)


def _file_part(block: DocumentBlock) -> FilePart:
    if block.data:
        data = block.data.decode("utf-8") if isinstance(block.data, bytes) else str(block.data)
    else:
        data = block._get_b64_string(block.resolve_document())
    mimetype = block._guess_mimetype() or "application/pdf"
    return FilePart(data=f"data:{mimetype};base64,{data}", filename=block.title)


def _audio_part(block: AudioBlock) -> AudioPart:
    """An ``AudioBlock`` as base64 data and a format: OpenAI takes audio inline only."""
    url = str(block.url) if block.url is not None else ""
    if block.audio is None and block.path is None and not url.startswith("data:"):
        raise ConfigurationError(
            "AudioBlock needs audio bytes, a local path or a data: URL; "
            "OpenAI takes base64 audio only, not an audio URL"
        )
    data = block.resolve_audio(as_base64=True).read().decode("ascii")
    audio_format = (block.format or "").strip()
    if not audio_format and url.startswith("data:"):  # the data URL's own MIME type
        audio_format = url[5:].partition(",")[0].partition(";")[0]
    if not audio_format:
        raise ConfigurationError(
            "AudioBlock.format is unknown; set it, e.g. AudioBlock(..., format='wav')"
        )
    mime_type = audio_format if "/" in audio_format else f"audio/{audio_format}"
    try:
        return AudioPart.from_mime_type(data, mime_type)
    except ValueError as error:
        raise ConfigurationError(f"AudioBlock.format: {error}") from None


def _text_of(blocks: Iterable[Any]) -> list[str]:
    """Text of citable/citation blocks (their text parts only)."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, TextBlock):
            out.append(block.text)
    return out


def to_neutral_message(message: ChatMessage) -> Message:
    """One LlamaIndex ``ChatMessage`` in neutral form."""
    role = _ROLES.get(message.role.value)
    if role is None:
        raise ValueError(f"unsupported message role {message.role.value!r}")
    parts: list[ContentPart] = []
    texts: list[str] = []
    only_text = True
    call_blocks: list[ToolCallBlock] = []
    reasoning_items: list[dict[str, Any]] = []
    for block in message.blocks:
        if isinstance(block, TextBlock):
            texts.append(block.text)
            parts.append(TextPart(text=block.text))
        elif isinstance(block, ToolCallBlock):
            call_blocks.append(block)
        elif isinstance(block, ThinkingBlock):
            items = block.additional_information.get(REASONING_ITEMS_KEY)
            if isinstance(items, list):
                reasoning_items.extend(item for item in items if isinstance(item, dict))
        elif isinstance(block, ImageBlock):
            only_text = False
            parts.append(_image_part(block))
        elif isinstance(block, DocumentBlock):
            only_text = False
            parts.append(_file_part(block))
        elif isinstance(block, (CitableBlock, CitationBlock)):
            inner = block.content if isinstance(block, CitableBlock) else block.cited_content
            for text in _text_of(inner if isinstance(inner, list) else [inner]):
                texts.append(text)
                parts.append(TextPart(text=text))
        elif isinstance(block, CachePoint):
            continue
        elif isinstance(block, AudioBlock):
            only_text = False
            parts.append(_audio_part(block))
        else:
            raise ValueError(f"unsupported content block {type(block).__name__}")

    extra = message.additional_kwargs
    tool_calls = read_tool_calls(
        {"id": b.tool_call_id, "function": {"name": b.tool_name, "arguments": b.tool_kwargs}}
        for b in call_blocks
    )
    if not tool_calls and role == "assistant" and extra.get("tool_calls"):
        tool_calls = read_tool_calls(extra["tool_calls"])

    content: str | list[ContentPart] | None
    if only_text or role not in ("user", "tool"):
        content = "\n".join(texts) if texts else ""
        if not content and role == "assistant" and tool_calls:
            content = None
    else:
        content = parts
    tool_call_id = extra.get("tool_call_id") if role == "tool" else None
    name = extra.get("name")
    return Message(
        role=role,
        content=content,
        tool_calls=tool_calls,
        tool_call_id=str(tool_call_id) if tool_call_id is not None else None,
        name=name if isinstance(name, str) and role != "tool" else None,
        reasoning_items=reasoning_items,
    )


def to_neutral_messages(messages: Sequence[ChatMessage]) -> list[Message]:
    """LlamaIndex messages in neutral form, in order."""
    return [to_neutral_message(message) for message in messages]


def llama_tool_to_neutral(tool: BaseTool, *, strict: bool) -> FunctionTool:
    """A LlamaIndex tool as a neutral function tool (strict schemas when asked)."""
    from .schema import strict_json_schema

    function = tool.metadata.to_openai_tool(skip_length_check=True)["function"]
    parameters = function["parameters"]
    if strict:
        parameters = strict_json_schema(parameters)
    return FunctionTool(
        name=function["name"],
        description=function.get("description"),
        parameters=parameters,
        strict=True if strict else None,
    )


# -- neutral -> LlamaIndex ---------------------------------------------------------------------


def usage_kwargs(usage: Usage | None) -> dict[str, int]:
    """Token counts under the keys LlamaIndex's token counters read, plus cached and reasoning."""
    if usage is None:
        return {}
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
        "cached_tokens": usage.cached_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
    }


def token_logprobs(tokens: Sequence[TokenLogprob] | None) -> list[list[LogProb]]:
    """The chat endpoint's per-token log probabilities as LlamaIndex ``LogProb`` lists.

    As ``llama_index.llms.openai`` maps them: one list per token, holding that token's
    ``top_logprobs`` alternatives; tokens without alternatives (``top_logprobs`` not asked for)
    are left out.
    """
    return [
        [
            new_logprob(token=top.token, logprob=top.logprob, bytes=top.bytes or [])
            for top in token.top_logprobs
        ]
        for token in tokens or ()
        if token.top_logprobs
    ]


def message_from_result(result: ChatResult) -> ChatMessage:
    """The assistant ``ChatMessage`` of a whole neutral reply."""
    blocks: list[Any] = []
    if result.reasoning or result.reasoning_items:
        info: dict[str, Any] = {}
        if result.reasoning_items:
            info[REASONING_ITEMS_KEY] = result.reasoning_items
        blocks.append(
            ThinkingBlock(
                content=result.reasoning,
                num_tokens=result.usage.reasoning_tokens if result.usage else None,
                additional_information=info,
            )
        )
    if result.text or not result.tool_calls:
        blocks.append(new_text_block(text=result.text))
    extra: dict[str, Any] = {}
    if result.tool_calls:
        calls = []
        for call in result.tool_calls:
            blocks.append(
                ToolCallBlock(tool_call_id=call.id, tool_name=call.name, tool_kwargs=call.arguments)
            )
            calls.append(tool_call_dict(call.id, call.name, call.arguments))
        extra["tool_calls"] = calls
    if result.refusal:
        extra["refusal"] = result.refusal
    # Built without re-validation: every field is already of its declared type.
    return new_chat_message(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=extra)


def response_kwargs(result: ChatResult, gateway: dict[str, Any] | None) -> dict[str, Any]:
    """``ChatResponse.additional_kwargs`` of a whole reply: usage, finish, ids and gateway info."""
    out: dict[str, Any] = usage_kwargs(result.usage)
    if result.finish_reason is not None:
        out["finish_reason"] = result.finish_reason
    if result.status is not None:
        out["status"] = result.status
    if result.model is not None:
        out["model"] = result.model
    if result.id is not None:
        out["id"] = result.id
    out["gateway"] = gateway if gateway is not None else {}
    return out


def info_dict(info: Any) -> dict[str, Any]:
    """``GatewayInfo.to_dict()``, or ``{}`` when there is no info."""
    return info.to_dict() if info is not None else {}


def result_to_chat_response(result: ChatResult) -> ChatResponse:
    """A ``ChatResponse`` for a whole reply; ``raw`` is the parsed reply body."""
    return new_chat_response(
        message=message_from_result(result),
        raw=result.raw,
        logprobs=token_logprobs(result.logprobs) if result.logprobs else None,
        additional_kwargs=response_kwargs(result, info_dict(result.info)),
    )
