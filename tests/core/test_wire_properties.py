"""Property tests: every parser of server data ends in a result or a ``GatewayError``.

Arbitrary JSON (biased towards the field names and event types of both endpoints, so that it
reaches deep into the parsers) is fed to ``wire``'s reply parsers, stream handlers, buffered
replay and error readers, to the stream checks of ``streams.py``, to the error envelope reader
and to the response-header reader. Nothing may escape as ``TypeError``, ``KeyError``,
``AttributeError``, ``RecursionError`` or any other exception, and every error must pickle.
The stream tests run on both JSON parsers (``json`` alone, and orjson where installed).
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_ai_gateway import GatewayError, GatewayInfo
from cf_ai_gateway.errors import error_from_response, is_error_reply
from cf_ai_gateway.streams import _StreamState
from cf_ai_gateway.wire import chat, events, responses
from cf_ai_gateway.wire._common import raise_stream_error

from .json_backends import BACKENDS, use_backend

FIELDS = [
    "choices",
    "message",
    "delta",
    "content",
    "tool_calls",
    "function",
    "name",
    "arguments",
    "index",
    "id",
    "type",
    "text",
    "usage",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "cached_tokens",
    "completion_tokens_details",
    "reasoning_tokens",
    "finish_reason",
    "refusal",
    "reasoning_content",
    "reasoning",
    "logprobs",
    "output",
    "item",
    "item_id",
    "output_index",
    "content_index",
    "summary_index",
    "response",
    "status",
    "summary",
    "call_id",
    "error",
    "errors",
    "code",
    "internalCode",
    "success",
    "input_tokens",
    "output_tokens",
    "input_tokens_details",
    "output_tokens_details",
    "incomplete_details",
    "object",
    "created",
    "created_at",
    "model",
    "service_tier",
    "system_fingerprint",
]
WORDS = [
    "message",
    "function_call",
    "reasoning",
    "output_text",
    "refusal",
    "text",
    "function",
    "response.created",
    "response.completed",
    "response.incomplete",
    "response.failed",
    "response.output_text.delta",
    "response.function_call_arguments.delta",
    "response.function_call_arguments.done",
    "response.output_item.added",
    "response.output_item.done",
    "response.reasoning_summary_text.delta",
    "response.refusal.delta",
    "error",
    "completed",
    "incomplete",
    "failed",
    "stop",
    "length",
    "tool_calls",
    "chat.completion",
    "response",
    "AiGatewayError",
    "reasoning_text",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(WORDS)
    | st.text(max_size=12)
)
keys = st.sampled_from(FIELDS) | st.text(max_size=6)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=6),
    max_leaves=40,
)
objects = st.dictionaries(keys, json_values, max_size=8)
event_lists = st.lists(json_values | objects, max_size=8)

PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _pickles(error: GatewayError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and copy.message == error.message


def _outcome(call: Any, *args: Any) -> Any:
    """Call; a GatewayError is an accepted outcome (and must pickle), anything else escapes."""
    try:
        return call(*args)
    except GatewayError as error:
        _pickles(error)
        return error


@PROPERTY
@given(json_values | objects)
def test_reply_parsers_return_a_result_or_raise_a_gateway_error(body: Any) -> None:
    for wire in (chat, responses):
        result = _outcome(wire.parse_result, body)
        if not isinstance(result, GatewayError):
            assert isinstance(result.text, str)
            assert all(isinstance(call.name, str) and call.name for call in result.tool_calls)
        _outcome(wire.reply_events, body)


@PROPERTY
@given(event_lists)
def test_stream_handlers_return_deltas_or_raise_a_gateway_error(events_: list[Any]) -> None:
    for wire in (chat, responses):
        handler = wire.StreamHandler()
        for event in events_:
            if isinstance(_outcome(handler.on_event, event), GatewayError):
                break
        _outcome(handler.on_done)
        _outcome(handler.result)


@PROPERTY
@given(json_values | objects)
def test_error_readers_never_fail(payload: Any) -> None:
    message, code = events.error_fields(payload)
    assert message is None or isinstance(message, str)
    assert code is None or type(code) is int
    assert isinstance(is_error_reply(payload), bool)
    error = _outcome(
        raise_stream_error, payload if isinstance(payload, dict) else {"error": payload}
    )
    assert isinstance(error, GatewayError)
    text = json.dumps(payload).encode()
    for status in (200, 400, 429, 503):
        _pickles(error_from_response(status, {"cf-aig-log-id": "l"}, text))


@PROPERTY
@pytest.mark.parametrize("backend", BACKENDS)
@given(json_values | objects)
def test_stream_checks_accept_events_or_raise_a_gateway_error(backend: str, event: Any) -> None:
    with use_backend(backend):
        _stream_checks(event)


def _stream_checks(event: Any) -> None:
    for api in ("chat", "responses", None):
        state = _StreamState(GatewayInfo(log_id="l"), ("secret-value",), api=api)
        checked = _outcome(state.check, event)
        assert isinstance(checked, (dict, GatewayError))
        data = json.dumps(event).encode()
        for chunk in (b"data: " + data + b"\n\n", b"event: error\ndata: " + data + b"\n\n"):
            state = _StreamState(GatewayInfo(log_id="l"), (), api=api)
            _outcome(lambda c=chunk, s=state: (list(s.events(c)), list(s.finish())))


@PROPERTY
@pytest.mark.parametrize("backend", BACKENDS)
@given(st.binary(max_size=200))
def test_stream_bytes_end_in_events_or_a_gateway_error(backend: str, data: bytes) -> None:
    state = _StreamState(GatewayInfo(), (), api="responses")
    with use_backend(backend):
        _outcome(lambda: (list(state.events(data)), list(state.finish())))


@PROPERTY
@given(json_values, st.text(max_size=12))
def test_response_headers_never_break_a_reply(dlp: Any, step: str) -> None:
    headers = {"cf-aig-dlp": json.dumps(dlp), "cf-aig-step": step, "cf-aig-log-id": "l"}
    info = GatewayInfo.from_headers(headers, 200)
    assert info.log_id == "l"
    assert info.dlp is None or isinstance(info.dlp, dict)
    assert info.step is None or type(info.step) is int
    info.to_dict()


# -- replay of buffered replies: the stream rebuilt from a reply gives that reply -----------------

texts = st.text(max_size=20)
call_names = st.text(min_size=1, max_size=8)
chat_replies = st.builds(
    lambda text, calls, finish: {
        "id": "c",
        "object": "chat.completion",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": text,
                    **(
                        {
                            "tool_calls": [
                                {
                                    "id": f"call_{i}",
                                    "type": "function",
                                    "function": {"name": name, "arguments": args},
                                }
                                for i, (name, args) in enumerate(calls)
                            ]
                        }
                        if calls
                        else {}
                    ),
                },
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    },
    st.one_of(st.none(), texts),
    st.lists(st.tuples(call_names, texts), max_size=3),
    st.sampled_from(["stop", "length", "tool_calls", None]),
)
responses_replies = st.builds(
    lambda parts, calls, status: {
        "id": "r",
        "object": "response",
        "status": status,
        "output": [
            {
                "type": "message",
                "id": "msg",
                "content": [{"type": "output_text", "text": part} for part in parts],
            },
            *[
                {
                    "type": "function_call",
                    "id": f"fc_{i}",
                    "call_id": f"call_{i}",
                    "name": name,
                    "arguments": args,
                }
                for i, (name, args) in enumerate(calls)
            ],
        ],
        "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
    },
    st.lists(texts, max_size=3),
    st.lists(st.tuples(call_names, texts), max_size=3),
    st.sampled_from(["completed", "incomplete"]),
)


def _replayed(wire: Any, body: dict[str, Any]) -> tuple[str, list[tuple[str, str]], Any]:
    handler = wire.StreamHandler()
    text: list[str] = []
    calls: dict[int, list[str]] = {}
    names: dict[int, str] = {}
    for event in wire.reply_events(body):
        delta = handler.on_event(event)
        if delta is None:
            continue
        text.append(delta.text)
        for chunk in delta.tool_call_chunks:
            calls.setdefault(chunk.index, []).append(chunk.arguments)
            if chunk.name:
                names[chunk.index] = chunk.name
    handler.on_done()
    streamed = [(names[i], "".join(calls[i])) for i in sorted(calls)]
    return "".join(text), streamed, handler.result()


@PROPERTY
@given(
    st.one_of(
        chat_replies.map(lambda b: (chat, b)), responses_replies.map(lambda b: (responses, b))
    )
)
def test_a_buffered_reply_replays_as_the_same_reply(case: tuple[Any, dict[str, Any]]) -> None:
    wire, body = case
    expected = wire.parse_result(body)
    text, calls, result = _replayed(wire, body)
    assert text == expected.text == result.text
    assert calls == [(c.name, c.arguments) for c in expected.tool_calls]
    assert [(c.name, c.arguments) for c in result.tool_calls] == calls
    assert result.usage == expected.usage
    assert result.finish_reason == expected.finish_reason
