"""Queued replies and every injected fault kind, observed over real sockets."""

from __future__ import annotations

import json

import httpx
import pytest

from cf_ai_gateway.emulator import Emulator

from .helpers import (
    CHAT_BODY,
    KEY,
    RESPONSES_BODY,
    gateway_envelope,
    post,
    sse_events,
    stream_text_chat,
    url,
)

STREAM_BODY = {**CHAT_BODY, "stream": True}


def test_a_scripted_json_body_with_status_and_headers(emulator: Emulator) -> None:
    emulator.script({"custom": True}, status=202, headers={"x-extra": "1"})
    reply = post(emulator)
    assert (reply.status_code, reply.json(), reply.headers["x-extra"]) == (202, {"custom": True}, "1")
    assert reply.headers["cf-aig-log-id"]
    assert post(emulator).json()["object"] == "chat.completion"  # consumed


def test_scripted_replies_are_used_in_order_and_times_repeats(emulator: Emulator) -> None:
    emulator.script({"n": 1}, times=2)
    emulator.script({"n": 2})
    assert [post(emulator).json().get("n") for _ in range(4)] == [1, 1, 2, None]


def test_a_scripted_reply_can_be_limited_to_one_endpoint(emulator: Emulator) -> None:
    emulator.script({"only": "responses"}, endpoint="responses")
    assert "only" not in post(emulator).json()
    assert post(emulator, "responses").json() == {"only": "responses"}


def test_scripted_raw_sse_is_sent_byte_for_byte(emulator: Emulator) -> None:
    raw = 'data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\ndata: [DONE]\n\n'
    emulator.script(sse=raw)
    reply = post(emulator, body=STREAM_BODY)
    assert reply.text == raw and reply.headers["content-type"].startswith("text/event-stream")
    emulator.script(sse=[{"type": "response.created", "sequence_number": 0}, {"plain": 1}, "[DONE]"])
    text = post(emulator, body=STREAM_BODY).text
    assert text.startswith("event: response.created\ndata: ") and 'data: {"plain":1}\n\n' in text
    assert text.endswith("data: [DONE]\n\n")


def test_a_scripted_error_uses_the_real_envelope(emulator: Emulator) -> None:
    emulator.script(error=2009)
    reply = post(emulator)
    assert reply.status_code == 401 and reply.json() == gateway_envelope(2009, "Unauthorized", 401)
    emulator.script(error={"code": 2021, "message": "Insufficient balance", "status": 402})
    assert post(emulator).json()["error"] == [{"code": 2021, "message": "Insufficient balance"}]


@pytest.mark.parametrize("endpoint", ["chat/completions", "responses"])
def test_scripted_text_is_rendered_for_each_endpoint_and_mode(emulator: Emulator, endpoint: str) -> None:
    emulator.script(text="Exactly this answer", times=2)
    plain = post(emulator, endpoint).json()
    streamed = post(emulator, endpoint, body={**(CHAT_BODY if endpoint == "chat/completions" else RESPONSES_BODY),
                                              "stream": True}).text
    if endpoint == "chat/completions":
        assert plain["choices"][0]["message"]["content"] == "Exactly this answer"
        assert stream_text_chat(sse_events(streamed)) == "Exactly this answer"
    else:
        assert plain["output"][0]["content"][0]["text"] == "Exactly this answer"
        deltas = [e["delta"] for e in sse_events(streamed) if e["type"] == "response.output_text.delta"]
        assert "".join(deltas) == "Exactly this answer"


def test_scripted_tool_calls(emulator: Emulator) -> None:
    emulator.script(tool_calls=[{"name": "lookup", "arguments": {"q": "x"}, "id": "call_fixed"}])
    message = post(emulator).json()["choices"][0]["message"]
    assert message["tool_calls"] == [{"id": "call_fixed", "type": "function",
                                      "function": {"name": "lookup", "arguments": '{"q": "x"}'}}]


def test_script_needs_exactly_one_kind(emulator: Emulator) -> None:
    with pytest.raises(ValueError):
        emulator.script()
    with pytest.raises(ValueError):
        emulator.script({"a": 1}, text="b")


def test_fault_with_a_gateway_code_and_retry_after(emulator: Emulator) -> None:
    emulator.fault(429, code=2003, retry_after=2)
    reply = post(emulator)
    assert reply.status_code == 429 and reply.headers["retry-after"] == "2"
    assert reply.json() == gateway_envelope(2003, "Rate limited", 429)
    assert post(emulator).status_code == 200


def test_fault_status_without_code_is_a_provider_error(emulator: Emulator) -> None:
    emulator.fault(500, times=2)
    first, second, third = post(emulator), post(emulator), post(emulator)
    assert first.status_code == second.status_code == 500 and third.status_code == 200
    assert first.json()["error"]["type"] == "server_error" and "internalCode" not in first.json()
    emulator.fault(code=2009)
    assert post(emulator).status_code == 401
    emulator.fault(503, body={"custom": "body"})
    assert post(emulator).json() == {"custom": "body"}


def test_a_fault_takes_precedence_over_a_queued_reply(emulator: Emulator) -> None:
    emulator.script(text="after the fault")
    emulator.fault(503)
    assert post(emulator).status_code == 503
    assert post(emulator).json()["choices"][0]["message"]["content"] == "after the fault"


def test_a_delay_beyond_the_request_timeout_is_the_gateways_504(emulator: Emulator) -> None:
    emulator.fault(delay=5)
    reply = post(emulator, headers={"cf-aig-request-timeout": "50"})
    assert reply.status_code == 504
    body = reply.json()
    assert body["name"] == "AiGatewayError" and body["httpCode"] == 504
    assert emulator.logs[-1].status_code == 504


def test_a_delay_before_the_first_byte_trips_a_client_timeout(emulator: Emulator) -> None:
    emulator.fault(delay=2)
    with pytest.raises(httpx.ReadTimeout):
        post(emulator, timeout=0.2)


def test_a_delay_within_the_request_timeout_answers_normally(emulator: Emulator) -> None:
    emulator.fault(delay=0.05)
    assert post(emulator, headers={"cf-aig-request-timeout": "10000"}).status_code == 200


def test_a_stream_cut_after_n_events_drops_the_connection(emulator: Emulator) -> None:
    emulator.fault(cut_after=3)
    received: list[bytes] = []
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream(
        "POST", url(emulator), json=STREAM_BODY,
        headers={"authorization": f"Bearer {KEY}", "cf-aig-authorization": f"Bearer {emulator.token}"},
    ) as reply:
        assert reply.status_code == 200
        for chunk in reply.iter_bytes():
            received.append(chunk)
    events = sse_events(b"".join(received).decode())
    assert len(events) == 3 and "[DONE]" not in events
    assert emulator.logs[-1].success is False


def test_a_clean_cut_ends_the_body_without_the_terminal_event(emulator: Emulator) -> None:
    emulator.fault(cut_after=4, abort=False)
    events = sse_events(post(emulator, "responses", body={**RESPONSES_BODY, "stream": True}).text)
    assert len(events) == 4 and events[-1]["type"] != "response.completed"


def test_a_non_streamed_cut_truncates_the_json(emulator: Emulator) -> None:
    emulator.fault(cut_after=1, abort=False)
    reply = post(emulator)
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.content)


def test_garbage_bytes(emulator: Emulator) -> None:
    emulator.fault(garbage=True)
    reply = post(emulator)
    assert reply.status_code == 200
    with pytest.raises((json.JSONDecodeError, UnicodeDecodeError)):
        json.loads(reply.content)
    emulator.fault(garbage=True, cut_after=2)
    text = post(emulator, body=STREAM_BODY).content
    good, _, rest = text.partition(b"\x00")
    assert len(sse_events(good.decode())) == 2 and rest


def test_event_delay_slows_a_stream_without_changing_it(emulator: Emulator) -> None:
    emulator.fault(event_delay=0.001)
    events = sse_events(post(emulator, body=STREAM_BODY).text)
    assert events[-1] == "[DONE]"


def test_faults_can_target_one_endpoint_and_reset_clears_them(emulator: Emulator) -> None:
    emulator.fault(500, endpoint="responses", times=None)
    assert post(emulator).status_code == 200
    assert post(emulator, "responses").status_code == 500
    assert post(emulator, "responses").status_code == 500
    emulator.reset()
    assert post(emulator, "responses").status_code == 200
