"""Structured output: ``with_structured_output`` plumbing and ``response_format`` conversion.

Three methods, as in LangChain's OpenAI integration: ``json_schema`` (the default; strict
JSON-schema output, all properties required and no extra keys), ``function_calling`` (one
forced tool call) and ``json_mode`` (a JSON object, schema described in the prompt). Schemas
may be pydantic classes (v2 or v1), TypedDicts, JSON schemas or OpenAI function dicts. The
bound ``response_format`` keeps the OpenAI Chat Completions shape so traces read naturally;
:func:`neutral_response_format` turns it, or any other accepted spelling, into the core's
:class:`~cf_ai_gateway.wire.types.ResponseFormat` at call time.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from functools import partial
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import (
    Runnable,
    RunnableGenerator,
    RunnableLambda,
    RunnableMap,
    RunnablePassthrough,
)
from langchain_core.utils.function_calling import (
    convert_to_openai_function,
    convert_to_openai_tool,
)
from langchain_core.utils.pydantic import is_basemodel_subclass

from cf_ai_gateway.wire.inbound import read_response_format
from cf_ai_gateway.wire.types import ResponseFormat

try:
    from langchain_core.exceptions import ModelRefusalError
except ImportError:  # pragma: no cover - langchain-core < 1.7.5
    from langchain_core.exceptions import (  # type: ignore[assignment]
        OutputParserException as ModelRefusalError,
    )

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel, LanguageModelInput

__all__ = [
    "StructuredOutputMethod",
    "build_structured_output",
    "neutral_response_format",
    "openai_response_format",
]

StructuredOutputMethod = Literal["json_schema", "function_calling", "json_mode"]


def _is_pydantic_class(schema: Any) -> bool:
    return isinstance(schema, type) and is_basemodel_subclass(schema)


def openai_response_format(schema: Any, *, strict: bool | None) -> dict[str, Any]:
    """The Chat Completions ``response_format`` dict for a schema.

    ``strict=None`` means strict, unless a dict schema says otherwise itself.
    """
    if isinstance(schema, Mapping) and schema.get("type") == "json_schema":
        if "json_schema" in schema:
            return _check_strict(dict(schema), strict)
        if "schema" in schema:  # Responses ``text.format`` shape
            inner = {k: v for k, v in schema.items() if k != "type"}
            return _check_strict({"type": "json_schema", "json_schema": inner}, strict)
    if isinstance(schema, Mapping) and "name" in schema and "schema" in schema:
        return _check_strict({"type": "json_schema", "json_schema": dict(schema)}, strict)
    if strict is None:
        own = schema.get("strict") if isinstance(schema, Mapping) else None
        strict = own if isinstance(own, bool) else True
    function = convert_to_openai_function(schema, strict=strict)
    json_schema: dict[str, Any] = {"name": function["name"]}
    if function.get("description"):
        json_schema["description"] = function["description"]
    json_schema["schema"] = function.get("parameters") or {"type": "object", "properties": {}}
    json_schema["strict"] = strict
    return {"type": "json_schema", "json_schema": json_schema}


def _check_strict(response_format: dict[str, Any], strict: bool | None) -> dict[str, Any]:
    own = response_format["json_schema"].get("strict")
    if strict is not None and own is not None and own is not strict:
        raise ValueError(
            f"The schema already sets strict={own} but with_structured_output got "
            f"strict={strict}; set it in one place only"
        )
    if strict is not None:
        response_format["json_schema"] = {**response_format["json_schema"], "strict": strict}
    return response_format


def neutral_response_format(value: Any) -> ResponseFormat | None:
    """A per-call ``response_format`` as the neutral type.

    OpenAI shapes are read by the core; a schema (pydantic class, TypedDict, JSON schema or
    function dict) is first turned into the strict ``json_schema`` format.
    """
    if isinstance(value, Mapping) and (
        value.get("type") in ("json_schema", "json_object", "text")
        or ("type" not in value and "format" in value)
    ):
        return read_response_format(value)
    if value is None or isinstance(value, ResponseFormat):
        return value
    return read_response_format(openai_response_format(value, strict=None))


def _raise_on_refusal(message: BaseMessage) -> None:
    refusal = message.additional_kwargs.get("refusal")
    if refusal:
        raise ModelRefusalError(str(refusal), raw_message=message)
    if message.response_metadata.get("finish_reason") == "content_filter":
        raise ModelRefusalError("Model output was stopped by a content filter", raw_message=message)


def _check_refusal(messages: Iterator[BaseMessage]) -> Iterator[BaseMessage]:
    for message in messages:
        _raise_on_refusal(message)
        yield message


async def _acheck_refusal(messages: AsyncIterator[BaseMessage]) -> AsyncIterator[BaseMessage]:
    async for message in messages:
        _raise_on_refusal(message)
        yield message


def _parse_schema_reply(message: AIMessage, schema: type) -> Any:
    """Validate a ``json_schema`` reply's text against a pydantic class."""
    if message.tool_calls and not message.text.strip():
        return None
    data = json.loads(message.text)
    if hasattr(schema, "model_validate"):
        return schema.model_validate(data)
    return schema.parse_obj(data)  # type: ignore[attr-defined]  # pydantic v1 class


def build_structured_output(
    model: BaseChatModel,
    schema: Any,
    *,
    method: StructuredOutputMethod,
    include_raw: bool,
    strict: bool | None,
    tools: list[Any] | None,
    **kwargs: Any,
) -> Runnable[LanguageModelInput, Any]:
    """The runnable behind ``with_structured_output`` (see the module docstring)."""
    if strict is not None and method == "json_mode":
        raise ValueError("strict is not supported with method='json_mode'")
    if schema is None and method != "json_mode":
        raise ValueError(f"schema must be given for method={method!r}")
    # The output parsers load with the first structured-output model, not at import.
    from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
    from langchain_core.output_parsers.openai_tools import (
        JsonOutputKeyToolsParser,
        PydanticToolsParser,
    )

    is_pydantic = _is_pydantic_class(schema)
    llm: Runnable[LanguageModelInput, Any]
    parser: Runnable[Any, Any]
    if method == "function_calling":
        tool_name = convert_to_openai_tool(schema)["function"]["name"]
        llm = model.bind_tools(
            [schema],
            tool_choice=tool_name,
            parallel_tool_calls=False,
            strict=strict,
            ls_structured_output_format={
                "kwargs": {"method": method, "strict": strict},
                "schema": schema,
            },
            **kwargs,
        )
        parser = (
            PydanticToolsParser(tools=[schema], first_tool_only=True)
            if is_pydantic
            else JsonOutputKeyToolsParser(key_name=tool_name, first_tool_only=True)
        )
    elif method == "json_mode":
        llm = model.bind(
            response_format={"type": "json_object"},
            ls_structured_output_format={"kwargs": {"method": method}, "schema": schema},
            **kwargs,
        )
        parser = PydanticOutputParser(pydantic_object=schema) if is_pydantic else JsonOutputParser()
    elif method == "json_schema":
        bind_kwargs: dict[str, Any] = {
            "response_format": openai_response_format(schema, strict=strict),
            "ls_structured_output_format": {
                "kwargs": {"method": method, "strict": strict},
                "schema": schema,
            },
            **kwargs,
        }
        if tools:
            bind_kwargs["tools"] = [convert_to_openai_tool(t, strict=strict) for t in tools]
        llm = model.bind(**bind_kwargs)
        parser = (
            RunnableLambda(partial(_parse_schema_reply, schema=schema)).with_types(
                output_type=schema
            )
            if is_pydantic
            else JsonOutputParser()
        )
    else:
        raise ValueError(
            f"method must be 'json_schema', 'function_calling' or 'json_mode', got {method!r}"
        )

    checked: Runnable[Any, Any] = RunnableGenerator(_check_refusal, _acheck_refusal) | parser
    if not include_raw:
        return llm | checked
    parse_assign = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | checked, parsing_error=lambda _: None
    )
    parse_none = RunnablePassthrough.assign(parsed=lambda _: None)
    with_fallback = parse_assign.with_fallbacks([parse_none], exception_key="parsing_error")
    return RunnableMap(raw=llm) | with_fallback
