"""The value generator behind tool arguments and structured output: always valid against the schema."""

from __future__ import annotations

import datetime
import enum
import uuid
from typing import Annotated, Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from cf_ai_gateway.emulator.schema_values import PromptValues, generate
from cf_ai_gateway.emulator.text_analysis import arithmetic_in, phrases_in, tool_hinted, tools_named


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Address(BaseModel):
    street: str = Field(min_length=3, max_length=40)
    zip_code: str = Field(pattern=r"^\d{5}(-\d{4})?$")
    country: Literal["US", "CA"] = "US"


class Person(BaseModel):
    name: str
    age: int = Field(ge=0, le=130)
    email: str | None = None
    tags: list[str] = Field(default_factory=list, min_length=1, max_length=3)
    scores: dict[str, float] = Field(default_factory=dict)
    favourite: Color
    home: Address
    previous: list[Address] = Field(default_factory=list)
    ratio: Annotated[float, Field(gt=0, lt=1)]
    step: int = Field(multiple_of=5, ge=7)
    pair: tuple[int, str]
    born: datetime.date
    id: uuid.UUID
    either: int | str
    nothing: None = None


class Tree(BaseModel):
    label: str
    children: list[Tree] = Field(default_factory=list)


SCHEMAS: list[dict[str, Any]] = [
    Person.model_json_schema(),
    Tree.model_json_schema(),
    {"type": "object", "properties": {"n": {"type": ["integer", "null"], "minimum": 10, "exclusiveMaximum": 11}},
     "required": ["n"]},
    {"type": "array", "items": {"type": "number", "minimum": -3.5, "maximum": -3.25}, "minItems": 3},
    {"type": "object", "properties": {"const": {"const": "fixed"}, "e": {"enum": [None, 3, "x"]}},
     "required": ["const", "e"], "additionalProperties": False},
    {"type": "object", "minProperties": 2, "additionalProperties": {"type": "boolean"}},
    {"allOf": [{"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
               {"properties": {"b": {"type": "integer", "minimum": 5}}, "required": ["b"]}]},
    {"oneOf": [{"type": "string", "maxLength": 2}, {"type": "integer"}]},
    {"type": "string", "format": "date-time"},
    {"type": "string", "pattern": "^[a-f0-9]{8}$"},
    {"type": "object", "properties": {}},
]


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: str(s.get("title") or s.get("type") or "schema"))
@pytest.mark.parametrize("prompt", ["", "Ada is 36 and lives at 12 Main Street, zip 94103, with 'blue' tag"])
def test_generated_values_validate(schema: dict[str, Any], prompt: str) -> None:
    value = generate(schema, PromptValues(prompt))
    jsonschema.validate(value, schema, format_checker=jsonschema.FormatChecker())


def test_prompt_values_fill_matching_slots() -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                                               "unit": {"enum": ["celsius", "fahrenheit"]}},
              "required": ["name", "age", "unit"]}
    assert generate(schema, PromptValues("Extract: Erick is 27 years old, in fahrenheit")) == {
        "name": "Erick", "age": 27, "unit": "fahrenheit"}
    bounded = {"type": "object", "properties": {"input": {"type": "integer", "maximum": 10}}}
    assert generate(bounded, PromptValues("use 500 or 7")) == {"input": 7}


def test_prompt_readings() -> None:
    assert phrases_in("What is the weather in San Francisco, CA?") == ["San Francisco, CA"]
    assert phrases_in("Using the tool, generate a Pirate greeting.") == ["Pirate"]
    assert arithmetic_in("What is 3^3?") == ("3^3", "27")
    assert arithmetic_in("compute 10 / 4 please") == ("10 / 4", "2.5")
    assert arithmetic_in("no maths here") is None
    assert tools_named("call get_time then add", ["add", "get_time", "sub"]) == ["get_time", "add"]
    assert tool_hinted("whats 5 * 4", ["add", "multiply"]) == "multiply"
    assert tool_hinted("Hello!", ["add", "multiply"]) is None
