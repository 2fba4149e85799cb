"""Tool calls with schema-valid arguments, tool-result answers, structured output, and ReAct prompts."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from cf_ai_gateway.emulator import Emulator

from .helpers import post, sse_events

MAGIC = {"type": "object", "properties": {"input": {"type": "integer", "exclusiveMinimum": -1000,
                                                    "exclusiveMaximum": 1000}}, "required": ["input"]}
WEATHER = {"type": "object", "properties": {"location": {"type": "string"},
                                            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
           "required": ["location"]}
ADD = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}
NESTED = {
    "type": "object",
    "$defs": {"Item": {"type": "object", "properties": {"sku": {"type": "string", "pattern": "^[A-Z]{3}-\\d{4}$"},
                                                       "qty": {"type": "integer", "minimum": 1, "maximum": 9}},
                       "required": ["sku", "qty"], "additionalProperties": False}},
    "properties": {
        "customer": {"type": "object", "properties": {"email": {"type": "string", "format": "email"},
                                                      "name": {"type": "string", "minLength": 2}},
                     "required": ["email", "name"]},
        "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}, "minItems": 2},
        "priority": {"anyOf": [{"type": "null"}, {"type": "string", "enum": ["low", "high"]}]},
        "discount": {"type": "number", "minimum": 0, "maximum": 0.5, "multipleOf": 0.05},
    },
    "required": ["customer", "items", "priority", "discount"],
    "additionalProperties": False,
}


def chat_tool(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": f"The {name} tool", "parameters": schema}}


def chat_body(text: str, tools: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], "tools": tools, **extra}


def calls_of(reply: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    message = reply["choices"][0]["message"]
    return [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in message.get("tool_calls") or []]


def test_a_named_tool_is_called_with_the_prompts_number(emulator: Emulator) -> None:
    reply = post(emulator, body=chat_body("What is the value of magic_function(3)? Use the tool.",
                                          [chat_tool("magic_function", MAGIC)], tool_choice="required")).json()
    assert calls_of(reply) == [("magic_function", {"input": 3})]
    assert reply["choices"][0]["finish_reason"] == "tool_calls"
    assert reply["choices"][0]["message"]["content"] is None
    call_id = reply["choices"][0]["message"]["tool_calls"][0]["id"]
    assert call_id.startswith("call_")


def test_tool_choice_by_name_forces_that_tool(emulator: Emulator) -> None:
    tools = [chat_tool("magic_function", MAGIC), chat_tool("get_weather", WEATHER)]
    choice = {"type": "function", "function": {"name": "get_weather"}}
    reply = post(emulator, body=chat_body("Hello!", tools, tool_choice=choice)).json()
    [(name, arguments)] = calls_of(reply)
    assert name == "get_weather"
    jsonschema.validate(arguments, WEATHER)


def test_auto_tool_choice_follows_hints_and_answers_plain_greetings(emulator: Emulator) -> None:
    tools = [chat_tool("get_weather", WEATHER)]
    reply = post(emulator, body=chat_body("What is the weather in San Francisco, CA?", tools)).json()
    assert calls_of(reply) == [("get_weather", {"location": "San Francisco, CA", "unit": "celsius"})]
    plain = post(emulator, body=chat_body("Hello!", tools)).json()
    assert calls_of(plain) == [] and plain["choices"][0]["message"]["content"]
    none = post(emulator, body=chat_body("What is the weather in Paris?", tools, tool_choice="none")).json()
    assert calls_of(none) == []


def test_several_named_tools_are_called_in_parallel_unless_disabled(emulator: Emulator) -> None:
    tools = [chat_tool("add", ADD), chat_tool("multiply", ADD)]
    text = "Use add with 2 and 3, and multiply with 4 and 5"
    reply = post(emulator, body=chat_body(text, tools)).json()
    assert calls_of(reply) == [("add", {"a": 2, "b": 3}), ("multiply", {"a": 4, "b": 5})]
    serial = post(emulator, body=chat_body(text, tools, parallel_tool_calls=False)).json()
    assert [name for name, _ in calls_of(serial)] == ["add"]


def test_after_a_tool_result_the_answer_quotes_it(emulator: Emulator) -> None:
    messages = [
        {"role": "user", "content": "What is 1 + 2"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "abc123", "type": "function", "function": {"name": "my_adder_tool", "arguments": '{"a":1,"b":2}'}}]},
        {"role": "tool", "tool_call_id": "abc123", "content": json.dumps({"result": 3})},
    ]
    reply = post(emulator, body={"model": "gpt-4o-mini", "messages": messages,
                                 "tools": [chat_tool("my_adder_tool", ADD)]}).json()
    text = reply["choices"][0]["message"]["content"]
    assert calls_of(reply) == [] and '"result": 3' in text and "my_adder_tool" in text


def test_a_multi_step_request_calls_the_next_named_tool_with_the_previous_result(emulator: Emulator) -> None:
    tools = [chat_tool("add", ADD), chat_tool("multiply", ADD)]
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Use add on 2 and 3, then multiply the result by 4"}]
    first = post(emulator, body={"model": "m", "messages": messages, "tools": tools, "parallel_tool_calls": False})
    assert calls_of(first.json()) == [("add", {"a": 2, "b": 3})]
    messages += [first.json()["choices"][0]["message"],
                 {"role": "tool", "tool_call_id": first.json()["choices"][0]["message"]["tool_calls"][0]["id"],
                  "content": "5"}]
    second = post(emulator, body={"model": "m", "messages": messages, "tools": tools, "parallel_tool_calls": False})
    assert calls_of(second.json()) == [("multiply", {"a": 5, "b": 4})]


def test_unicode_arguments_stay_unescaped(emulator: Emulator) -> None:
    schema = {"type": "object", "properties": {"customer_name": {"type": "string"}}, "required": ["customer_name"]}
    text = "Create a customer named '你好啊集团' (Hello Group) - a Chinese technology company"
    reply = post(emulator, body=chat_body(text, [chat_tool("unicode_customer", schema)], tool_choice="required"))
    raw = reply.json()["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
    assert "你好啊集团" in raw and json.loads(raw) == {"customer_name": "你好啊集团"}


@pytest.mark.parametrize("schema", [MAGIC, WEATHER, ADD, NESTED, {"type": "object", "properties": {}}])
def test_generated_arguments_validate_against_the_schema(emulator: Emulator, schema: dict[str, Any]) -> None:
    reply = post(emulator, body=chat_body("Please fill this in", [chat_tool("fill", schema)], tool_choice="required"))
    [(_, arguments)] = calls_of(reply.json())
    jsonschema.validate(arguments, schema)


def test_streamed_tool_calls_assemble_to_the_same_arguments(emulator: Emulator) -> None:
    body = chat_body("Extract: Erick is 27 years old.", [chat_tool("_Person", {
        "type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"]})], tool_choice={"type": "function", "function": {"name": "_Person"}},
        stream=True)
    events = sse_events(post(emulator, body=body).text)
    first = events[0]["choices"][0]["delta"]
    assert first["role"] == "assistant" and first["tool_calls"][0]["function"] == {"name": "_Person", "arguments": ""}
    arguments = "".join(
        call["function"].get("arguments", "")
        for e in events[:-1] if e["choices"]
        for call in e["choices"][0]["delta"].get("tool_calls", [])
    )
    assert json.loads(arguments) == {"name": "Erick", "age": 27}
    assert len([e for e in events[:-1] if e["choices"] and e["choices"][0]["delta"].get("tool_calls")]) > 2


def test_responses_function_calls_and_outputs(emulator: Emulator) -> None:
    tools = [{"type": "function", "name": "multiply", "description": "return x * y",
              "parameters": {"type": "object", "properties": {"x": {"type": "integer"}, "y": {"type": "integer"}},
                             "required": ["x", "y"]}}, {"type": "web_search_preview"}]
    first = post(emulator, "responses", body={"model": "gpt-4o-mini", "input": "whats 5 * 4", "tools": tools}).json()
    [call] = first["output"]
    assert call["type"] == "function_call" and call["name"] == "multiply"
    assert json.loads(call["arguments"]) == {"x": 5, "y": 4} and call["call_id"].startswith("call_")
    follow_up = [{"role": "user", "content": "whats 5 * 4"}, call,
                 {"type": "function_call_output", "call_id": call["call_id"], "output": "20"}]
    second = post(emulator, "responses", body={"model": "gpt-4o-mini", "input": follow_up, "tools": tools}).json()
    assert second["output"][0]["type"] == "message" and "20" in second["output"][0]["content"][0]["text"]
    stream = sse_events(post(emulator, "responses", body={"model": "gpt-4o-mini", "input": "whats 5 * 4",
                                                          "tools": tools, "stream": True}).text)
    kinds = [e["type"] for e in stream]
    assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    done = next(e for e in stream if e["type"] == "response.function_call_arguments.done")
    assert json.loads(done["arguments"]) == {"x": 5, "y": 4}


def test_previous_response_id_with_a_function_call_output(emulator: Emulator) -> None:
    tools = [{"type": "function", "name": "get_weather", "parameters": WEATHER}]
    first = post(emulator, "responses", body={"model": "m", "input": "weather in Paris?", "tools": tools}).json()
    call = first["output"][0]
    second = post(emulator, "responses", body={"model": "m", "previous_response_id": first["id"], "tools": tools,
                                                "input": [{"type": "function_call_output", "call_id": call["call_id"],
                                                           "output": "sunny"}]}).json()
    assert "sunny" in second["output"][0]["content"][0]["text"]


def test_json_schema_output_validates(emulator: Emulator) -> None:
    chat_format = {"type": "json_schema", "json_schema": {"name": "order", "schema": NESTED, "strict": True}}
    reply = post(emulator, body={"model": "m", "messages": [{"role": "user", "content": "Order for Ada"}],
                                 "response_format": chat_format}).json()
    jsonschema.validate(json.loads(reply["choices"][0]["message"]["content"]), NESTED)
    responses_format = {"format": {"type": "json_schema", "name": "order", "schema": NESTED, "strict": True}}
    body = {"model": "m", "input": "Order for Ada", "text": responses_format}
    reply = post(emulator, "responses", body=body).json()
    jsonschema.validate(json.loads(reply["output"][0]["content"][0]["text"]), NESTED)
    assert reply["text"]["format"]["name"] == "order"
    events = sse_events(post(emulator, "responses", body={**body, "stream": True}).text)
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    jsonschema.validate(json.loads(text), NESTED)


def test_json_object_mode_uses_the_keys_the_prompt_asks_for(emulator: Emulator) -> None:
    prompt = ("Tell me a joke about cats. Return the result as a JSON with 'setup' and 'punchline' keys. "
              "Return nothing other than JSON.")
    reply = post(emulator, body={"model": "m", "messages": [{"role": "user", "content": prompt}],
                                 "response_format": {"type": "json_object"}}).json()
    value = json.loads(reply["choices"][0]["message"]["content"])
    assert set(value) == {"setup", "punchline"} and all(isinstance(v, str) and v for v in value.values())
    plain = post(emulator, body={"model": "m", "messages": [{"role": "user", "content": "Answer in JSON: hi"}],
                                 "response_format": {"type": "json_object"}}).json()
    assert isinstance(json.loads(plain["choices"][0]["message"]["content"]), dict)


def test_react_prompts_get_react_steps(emulator: Emulator) -> None:
    schema = json.dumps({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                         "required": ["a", "b"]})
    system = ("You are designed to help.\n## Tools\nYou have access to the following tools:\n"
              f"> Tool Name: add\nTool Description: add(a, b) adds\nTool Args: {schema}\n\n"
              "## Output Format\nThought: ...\nAction: tool name\nAction Input: {\"input\": 1}\n"
              "Answer: [your answer here]\n")
    messages: list[dict[str, Any]] = [{"role": "system", "content": system},
                                      {"role": "user", "content": "What is 2 + 3? Use the add tool."}]
    step = post(emulator, body={"model": "m", "messages": messages}).json()["choices"][0]["message"]["content"]
    assert step.startswith("Thought:") and "\nAction: add\nAction Input: " in step
    assert json.loads(step.split("Action Input: ", 1)[1]) == {"a": 2, "b": 3}
    messages += [{"role": "assistant", "content": step}, {"role": "user", "content": "Observation: 5"}]
    final = post(emulator, body={"model": "m", "messages": messages}).json()["choices"][0]["message"]["content"]
    assert final.startswith("Thought:") and "\nAnswer: " in final and "5" in final.split("Answer:", 1)[1]


def test_output_parser_instructions_with_a_schema_get_json(emulator: Emulator) -> None:
    schema = {"properties": {"setup": {"type": "string"}, "punchline": {"type": "string"}},
              "required": ["setup", "punchline"], "type": "object"}
    example = {"properties": {"foo": {"type": "array", "items": {"type": "string"}}}, "required": ["foo"]}
    instructions = ("The output should be formatted as a JSON instance that conforms to the JSON schema below.\n"
                    f"As an example, for the schema {json.dumps(example)} the object {{\"foo\": [\"bar\"]}} is a "
                    f"well-formatted instance.\nHere is the output schema:\n```\n{json.dumps(schema)}\n```\n"
                    "Tell me a joke about cats.")
    reply = post(emulator, body={"model": "m", "messages": [{"role": "user", "content": instructions}]}).json()
    jsonschema.validate(json.loads(reply["choices"][0]["message"]["content"]), schema)
    escaped = "Here's a JSON schema to follow:\n" + json.dumps(schema).replace("{", "{{").replace("}", "}}")
    reply = post(emulator, "responses", body={"model": "m", "input": escaped}).json()
    jsonschema.validate(json.loads(reply["output"][0]["content"][0]["text"]), schema)
    plain = post(emulator, body={"model": "m", "messages": [{"role": "user", "content": "What is JSON?"}]}).json()
    assert plain["choices"][0]["message"]["content"].startswith("This is the AI Gateway emulator")
