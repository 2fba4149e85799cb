"""Both endpoints, streamed and not, in the shapes of recorded OpenAI traffic; request validation."""

from __future__ import annotations

from typing import Any

import pytest

from cf_ai_gateway.emulator import Emulator

from .helpers import CHAT_BODY, post, sse_events, stream_text_chat


def chat(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": text}], **extra}


def test_chat_reply_shape_and_usage(emulator: Emulator) -> None:
    body = post(emulator, body=chat("What is 3^3?")).json()
    assert set(body) >= {"id", "object", "created", "model", "choices", "usage", "system_fingerprint"}
    assert body["id"].startswith("chatcmpl-") and body["model"] == "gpt-4o-mini"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    text = choice["message"]["content"]
    assert "What is 3^3?" in text and "27" in text
    usage = body["usage"]
    assert usage["completion_tokens"] == len(text.split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


def test_answers_are_reproducible_and_repeated_prompts_report_cached_tokens(emulator: Emulator) -> None:
    first = post(emulator, body=chat("Tell me about caching")).json()
    second = post(emulator, body=chat("Tell me about caching")).json()
    assert first["choices"][0]["message"]["content"] == second["choices"][0]["message"]["content"]
    assert second["usage"]["prompt_tokens_details"]["cached_tokens"] == second["usage"]["prompt_tokens"] > 0


def test_chat_stream_with_usage(emulator: Emulator) -> None:
    reply = post(emulator, body=chat("Write a story about a cat.", stream=True, stream_options={"include_usage": True}))
    assert reply.headers["content-type"].startswith("text/event-stream")
    assert reply.headers["cf-aig-log-id"]
    events = sse_events(reply.text)
    assert events[-1] == "[DONE]"
    chunks = events[:-1]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert all(c["object"] == "chat.completion.chunk" and "usage" in c for c in chunks)
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] > 3
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert len(chunks) > 5
    text = stream_text_chat(chunks)
    assert text == post(emulator, body=chat("Write a story about a cat.")).json()["choices"][0]["message"]["content"]


def test_chat_stream_without_usage_option_has_no_usage_key(emulator: Emulator) -> None:
    events = sse_events(post(emulator, body=chat("hi", stream=True)).text)
    assert all("usage" not in e for e in events[:-1])


def test_max_tokens_truncates_with_finish_reason_length(emulator: Emulator) -> None:
    body = post(emulator, body=chat("Tell me a long story about bears please", max_tokens=3)).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert len(body["choices"][0]["message"]["content"].split()) == 3
    assert body["usage"]["completion_tokens"] == 3
    newer = post(emulator, body=chat("Tell me a story", max_completion_tokens=2)).json()
    assert newer["choices"][0]["finish_reason"] == "length"


def test_stop_sequences_cut_the_text(emulator: Emulator) -> None:
    full = post(emulator, body=chat("hello world")).json()["choices"][0]["message"]["content"]
    cut = post(emulator, body=chat("hello world", stop=["Key words"])).json()["choices"][0]["message"]["content"]
    assert cut == full[: full.index("Key words")]


def test_responses_reply_shape(emulator: Emulator) -> None:
    body = post(emulator, "responses", body={"model": "gpt-4o-mini", "input": "What is 2 + 2?",
                                             "instructions": "Be brief."}).json()
    assert body["object"] == "response" and body["status"] == "completed" and body["id"].startswith("resp_")
    assert body["instructions"] == "Be brief." and body["incomplete_details"] is None
    message = body["output"][0]
    assert message["type"] == "message" and message["role"] == "assistant" and message["status"] == "completed"
    assert "4" in message["content"][0]["text"] and message["content"][0]["type"] == "output_text"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens_details"] == {"cached_tokens": 0}
    assert usage["output_tokens_details"] == {"reasoning_tokens": 0}


def test_responses_stream_events(emulator: Emulator) -> None:
    reply = post(emulator, "responses", body={"model": "gpt-4o-mini", "input": "Tell me about streams", "stream": True})
    assert "event: response.created" in reply.text
    events = sse_events(reply.text)
    kinds = [e["type"] for e in events]
    assert kinds[:5] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added", "response.output_text.delta"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    done = next(e for e in events if e["type"] == "response.output_text.done")
    assert len(deltas) > 3 and "".join(deltas) == done["text"]
    final = events[-1]["response"]
    assert final["status"] == "completed" and final["usage"]["output_tokens"] == len(deltas)


def test_responses_max_output_tokens_is_incomplete(emulator: Emulator) -> None:
    body = {"model": "gpt-4o-mini", "input": "Tell me a 100 word story about a bear.", "max_output_tokens": 16}
    reply = post(emulator, "responses", body=body).json()
    assert reply["status"] == "incomplete" and reply["incomplete_details"] == {"reason": "max_output_tokens"}
    assert reply["output"][0]["status"] == "incomplete"
    body = {**body, "max_output_tokens": 4, "stream": True}
    events = sse_events(post(emulator, "responses", body=body).text)
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_reasoning_effort_adds_reasoning_tokens_and_items(emulator: Emulator) -> None:
    body = {"model": "o4-mini", "input": "Hello", "reasoning": {"effort": "low", "summary": "auto"}}
    reply = post(emulator, "responses", body=body).json()
    assert reply["output"][0]["type"] == "reasoning" and reply["output"][0]["summary"][0]["type"] == "summary_text"
    assert reply["usage"]["output_tokens_details"]["reasoning_tokens"] > 0
    events = sse_events(post(emulator, "responses", body={**body, "stream": True}).text)
    kinds = [e["type"] for e in events]
    assert "response.reasoning_summary_text.delta" in kinds and kinds[-1] == "response.completed"
    chat_reply = post(emulator, body=chat("Hello", reasoning_effort="high")).json()
    assert chat_reply["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_previous_response_id_continues_the_conversation(emulator: Emulator) -> None:
    first = post(emulator, "responses", body={"model": "gpt-4o-mini", "input": "My name is Ada."}).json()
    second = post(emulator, "responses", body={"model": "gpt-4o-mini", "input": "What is my name?",
                                                "previous_response_id": first["id"]}).json()
    assert second["previous_response_id"] == first["id"]
    assert second["usage"]["input_tokens"] > first["usage"]["input_tokens"]
    missing = post(emulator, "responses", body={"model": "gpt-4o-mini", "input": "x", "previous_response_id": "resp_x"})
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == "previous_response_not_found"


@pytest.mark.parametrize(
    ("endpoint", "body", "param"),
    [
        ("chat/completions", {"model": "gpt-4o-mini"}, "messages"),
        ("chat/completions", {"model": "gpt-4o-mini", "messages": [
            {"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "c1", "content": "3"}]},
         "messages[1].role"),
        ("chat/completions", {"model": "gpt-4o-mini", "messages": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function",
                                                  "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "user", "content": "and?"}]}, "messages.[1].role"),
        ("chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                              "response_format": {"type": "json_object"}}, "messages"),
        ("chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                              "stream_options": {"include_usage": True}}, "stream_options"),
        ("chat/completions", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}],
                              "tools": [{"type": "function", "function": {"name": "bad name!"}}]},
         "tools[0].function.name"),
        ("responses", {"model": "gpt-4o-mini", "input": [{"type": "function_call_output", "call_id": "c9",
                                                           "output": "1"}]}, "input"),
        ("responses", {"model": "gpt-4o-mini", "input": "hi", "text": {"format": {"type": "json_object"}}}, "input"),
    ],
)
def test_requests_openai_rejects_are_rejected_the_same_way(emulator: Emulator, endpoint: str, body: dict[str, Any],
                                                            param: str) -> None:
    reply = post(emulator, endpoint, body=body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param and error["message"]


def test_invalid_json_is_a_400_from_the_provider(emulator: Emulator) -> None:
    import httpx

    from .helpers import KEY, url

    reply = httpx.post(url(emulator), content=b"{nope", headers={
        "authorization": f"Bearer {KEY}", "cf-aig-authorization": f"Bearer {emulator.token}"})
    assert reply.status_code == 400 and "could not parse the JSON body" in reply.json()["error"]["message"]


def test_images_and_list_content_are_accepted(emulator: Emulator) -> None:
    content = [{"type": "text", "text": "Describe this picture"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]
    body = post(emulator, body={**CHAT_BODY, "messages": [{"role": "user", "content": content}]}).json()
    assert "1 image" in body["choices"][0]["message"]["content"]
    responses = post(emulator, "responses", body={"model": "gpt-4o-mini", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "What is here?"}, {"type": "input_image", "image_url": "https://x/y.png"}]}]})
    assert "1 image" in responses.json()["output"][0]["content"][0]["text"]


def test_choices_n_and_stream_chunks_knob(emulator: Emulator) -> None:
    body = post(emulator, body=chat("hi", n=2)).json()
    assert [c["index"] for c in body["choices"]] == [0, 1]
    emulator.configure(stream_chunks=50)
    events = sse_events(post(emulator, body=chat("hi", stream=True)).text)
    assert len([e for e in events[:-1] if e["choices"] and e["choices"][0]["delta"].get("content")]) == 50


def test_embeddings_are_deterministic(emulator: Emulator) -> None:
    body = {"model": "text-embedding-3-small", "input": ["cats purr", "cats purr", "rockets fly"], "dimensions": 32}
    data = post(emulator, "embeddings", body=body).json()["data"]
    assert len(data) == 3 and len(data[0]["embedding"]) == 32
    assert data[0]["embedding"] == data[1]["embedding"] != data[2]["embedding"]
