"""Guardrails (2016/2017) and DLP (2029/2030, cf-aig-dlp) on prompts and responses; buffered streams."""

from __future__ import annotations

import json

import pytest

from cf_ai_gateway.emulator import Emulator

from .features_helpers import authenticated, call, chat
from .helpers import gateway_envelope, sse_events

PROMPT_BLOCKED = "Prompt blocked due to security configurations"
RESPONSE_BLOCKED = "Response blocked due to security configurations"


def test_a_blocked_prompt_is_424_with_code_2016(emulator: Emulator) -> None:
    authenticated(emulator, guardrails={"prompt": {"bomb": "block"}})
    reply = call(emulator, chat("gpt-4o-mini", "How do I build a BOMB?"))
    assert reply.status_code == 424 and reply.json() == gateway_envelope(2016, PROMPT_BLOCKED, 424)
    assert call(emulator, chat("gpt-4o-mini", "How do I bake bread?")).status_code == 200


def test_a_blocked_response_is_424_with_code_2017(emulator: Emulator) -> None:
    authenticated(emulator, guardrails={"response": {"classified": "block"}})
    emulator.script(text="This is classified material.")
    reply = call(emulator)
    assert reply.status_code == 424 and reply.json() == gateway_envelope(2017, RESPONSE_BLOCKED, 424)


def test_the_rest_api_answers_422_with_code_2017_for_both(emulator: Emulator) -> None:
    authenticated(emulator, guardrails={"prompt": {"bomb": "block"}, "response": {"classified": "block"}})
    prompt = call(emulator, chat("openai/gpt-4o-mini", "a bomb"), surface="rest")
    assert prompt.status_code == 422 and prompt.json()["internalCode"] == 2017
    assert prompt.json()["error"][0]["message"] == PROMPT_BLOCKED
    emulator.script(text="classified")
    response = call(emulator, chat("openai/gpt-4o-mini"), surface="rest")
    assert response.status_code == 422 and response.json()["error"] == [{"code": 2017, "message": RESPONSE_BLOCKED}]


def test_flagged_words_pass_and_are_logged(emulator: Emulator) -> None:
    authenticated(emulator, guardrails={"prompt": {"weapon": "flag"}})
    reply = call(emulator, chat("gpt-4o-mini", "a weapon"))
    assert reply.status_code == 200
    assert emulator.logs[-1].notes["guardrails"] == [{"check": "prompt", "words": ["weapon"]}]


def test_with_guardrails_on_a_stream_is_answered_as_one_json_body(emulator: Emulator) -> None:
    authenticated(emulator, guardrails={"response": {"nothing-matches-this": "block"}})
    reply = call(emulator, chat("gpt-4o-mini", stream=True))
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/json")
    assert reply.json()["object"] == "chat.completion"


def test_on_the_rest_api_a_stream_passes_and_its_response_is_not_enforced(emulator: Emulator) -> None:
    authenticated(emulator, guardrails={"response": {"classified": "block"}})
    emulator.script(text="classified words")
    reply = call(emulator, chat("openai/gpt-4o-mini", stream=True), surface="rest")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
    assert sse_events(reply.text)[-1] == "[DONE]"
    assert emulator.logs[-1].notes["guardrails"][0]["action"] == "block"


@pytest.mark.parametrize(("phase", "code", "message"), [
    ("prompt", 2029, "Request content blocked due to DLP policy violations"),
    ("response", 2030, "Response content blocked due to DLP policy violations"),
])
def test_dlp_blocks(emulator: Emulator, phase: str, code: int, message: str) -> None:
    authenticated(emulator, dlp={phase: {"4111 1111 1111 1111": "block"}})
    emulator.script(text="card 4111 1111 1111 1111")
    reply = call(emulator, chat("gpt-4o-mini", "my card is 4111 1111 1111 1111"))
    assert reply.json()["error"] == [{"code": code, "message": message}]
    report = json.loads(reply.headers["cf-aig-dlp"])
    assert report["action"] == "BLOCK"
    assert report["findings"][0]["check"] == ("REQUEST" if phase == "prompt" else "RESPONSE")


def test_a_dlp_flag_adds_the_cf_aig_dlp_header(emulator: Emulator) -> None:
    authenticated(emulator, dlp={"prompt": {"ssn": "flag"}})
    reply = call(emulator, chat("gpt-4o-mini", "my SSN is 078-05-1120"))
    assert reply.status_code == 200
    report = json.loads(reply.headers["cf-aig-dlp"])
    assert report["action"] == "FLAG"
    finding = report["findings"][0]
    assert finding["check"] == "REQUEST" and finding["profile"]["entry_ids"] and finding["policy_ids"]
    assert emulator.logs[-1].dlp_action == "FLAG"
    assert "cf-aig-dlp" not in call(emulator).headers


def test_bad_rules_are_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError):
        emulator.configure(guardrails={"prompt": {"x": "delete"}})
    with pytest.raises(ValueError):
        emulator.configure(dlp={"request": {"x": "block"}})


def test_an_unavailable_scanner_fails_only_phases_with_a_block_rule(emulator: Emulator) -> None:
    authenticated(emulator, guardrails={"scanner": "unavailable", "prompt": {"bomb": "block"}})
    reply = call(emulator)
    assert reply.status_code == 503 and reply.json()["internalCode"] == 7013
    emulator.configure(guardrails={"scanner": "unavailable", "prompt": {"bomb": "flag"}})
    assert call(emulator).status_code == 200


def test_a_scanner_without_credits_is_402_with_code_2021(emulator: Emulator) -> None:
    authenticated(emulator, guardrails={"scanner": "no_credits", "response": {"x": "flag"}})
    reply = call(emulator)
    assert reply.status_code == 402 and reply.json()["error"][0]["code"] == 2021
