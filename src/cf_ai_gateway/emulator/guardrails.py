"""Guardrails and DLP: words that block or flag a prompt or a response.

Both are configured the same way, as words (matched case-insensitively) with an action per
phase: ``guardrails={"prompt": {"bomb": "block"}, "response": {"secret": "flag"}}`` and
``dlp={"prompt": {"4111 1111 1111 1111": "block"}, "response": {"ssn": "flag"}}``. The key
``"scanner"`` of the guardrails (``"unavailable"`` or ``"no_credits"``) makes the scanner fail:
503 with code 7013 when a rule of that phase blocks (flag-only phases continue), 402 with 2021.

Guardrails: a blocked prompt is 424 with code 2016 and a blocked response 424 with code 2017 on
provider endpoints; the REST API answers 422 with code 2017 for both. With guardrails on, a
streamed request on gateway endpoints is buffered and answered as one JSON body; on the REST API
the stream passes and the response is evaluated and logged, not enforced. DLP: a block is 2029
(request) or 2030 (response); a match of either action adds the ``cf-aig-dlp`` header.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from . import envelopes
from .conversation import ModelRequest
from .exchange import Exchange
from .model import ModelOutput

ACTIONS = ("block", "flag")
PHASES = ("prompt", "response")
PROMPT_BLOCKED = "Prompt blocked due to security configurations"
RESPONSE_BLOCKED = "Response blocked due to security configurations"
DLP_PROFILE_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "cf-ai-gateway-emulator/dlp-profile"))
DLP_POLICY_ID = "emulator-dlp-policy"
SCANNER_STATES = ("ok", "unavailable", "no_credits")
SCANNER_UNAVAILABLE_CODE = 7013
SCANNER_UNAVAILABLE = "Guardrails scanner unavailable"  # the message is not documented
SCANNER_NO_CREDITS = (
    "Insufficient credits for the Guardrails scanner"  # the message is not documented
)


def check_rules(name: str, rules: Any) -> None:
    """Raise ``ValueError`` unless ``rules`` maps phases to ``{word: "block" | "flag"}``."""
    if not isinstance(rules, Mapping):
        raise ValueError(f"{name} must be a dict like {{'prompt': {{'word': 'block'}}}}")
    for phase, words in rules.items():
        if phase == "scanner":
            if name != "guardrails" or words not in SCANNER_STATES:
                raise ValueError(f"guardrails['scanner'] is one of {', '.join(SCANNER_STATES)}")
            continue
        if phase not in PHASES or not isinstance(words, Mapping):
            raise ValueError(f"{name} takes 'prompt' and 'response', each a dict of word -> action")
        for word, action in words.items():
            if not isinstance(word, str) or not word or action not in ACTIONS:
                raise ValueError(f"{name}[{phase!r}] maps non-empty words to 'block' or 'flag'")


def _matches(
    rules: Mapping[str, Any] | None, phase: str, text: str
) -> tuple[str | None, list[str]]:
    """The strongest action that ``text`` triggers in ``phase``, and the words that matched."""
    if not rules:
        return None, []
    lowered = text.lower()
    found = [word for word in rules.get(phase, {}) if word.lower() in lowered]
    if not found:
        return None, []
    actions = {rules[phase][word] for word in found}
    return ("block" if "block" in actions else "flag"), found


def buffers_streams(ex: Exchange) -> bool:
    """Whether a streamed request is answered as one JSON body (guardrails on a gateway endpoint)."""
    return bool(ex.state.settings.guardrails) and ex.route.surface != "rest"


def _scanner_error(ex: Exchange, phase: str) -> Response | None:
    """The scanner's own failure: 402/2021 without credits; 503/7013 when down and a rule blocks."""
    rules = ex.state.settings.guardrails or {}
    state = rules.get("scanner", "ok")
    if state == "no_credits":
        return ex.answer(*envelopes.gateway_error(2021, SCANNER_NO_CREDITS, 402))
    if state == "unavailable" and "block" in dict(rules.get(phase, {})).values():
        return ex.answer(
            *envelopes.gateway_error(SCANNER_UNAVAILABLE_CODE, SCANNER_UNAVAILABLE, 503)
        )
    return None


def check_prompt(ex: Exchange, text: str) -> Response | None:
    """Guardrails and DLP on the prompt: an error answer when blocked, else None (flags noted)."""
    settings = ex.state.settings
    failed = _scanner_error(ex, "prompt")
    if failed is not None:
        return failed
    action, words = _matches(settings.guardrails, "prompt", text)
    if action == "block":
        rest = ex.route.surface == "rest"
        code, status = (2017, 422) if rest else (2016, 424)
        return ex.answer(*envelopes.gateway_error(code, PROMPT_BLOCKED, status))
    if action == "flag":
        ex.feature_notes.setdefault("guardrails", []).append({"check": "prompt", "words": words})
    return _dlp(ex, "prompt", text)


def check_response(ex: Exchange, text: str, streamed: bool) -> Response | None:
    """Guardrails and DLP on the model's answer, before any of it is sent."""
    settings = ex.state.settings
    failed = _scanner_error(ex, "response")
    if failed is not None:
        return failed
    action, words = _matches(settings.guardrails, "response", text)
    rest = ex.route.surface == "rest"
    if action == "block" and not (rest and streamed):
        code, status = (2017, 422) if rest else (2017, 424)
        return ex.answer(*envelopes.gateway_error(code, RESPONSE_BLOCKED, status))
    if action is not None:
        ex.feature_notes.setdefault("guardrails", []).append(
            {"check": "response", "words": words, "action": action}
        )
    return _dlp(ex, "response", text)


def _dlp(ex: Exchange, phase: str, text: str) -> Response | None:
    action, words = _matches(ex.state.settings.dlp, phase, text)
    if action is None:
        return None
    report = {
        "findings": [
            {
                "profile": {
                    "context": {},
                    "entry_ids": [_entry_id(w) for w in words],
                    "profile_id": DLP_PROFILE_ID,
                },
                "policy_ids": [DLP_POLICY_ID],
                "check": "REQUEST" if phase == "prompt" else "RESPONSE",
            }
        ],
        "action": action.upper(),
    }
    ex.feature_headers["cf-aig-dlp"] = json.dumps(report, separators=(",", ":"))
    if action == "block":
        return ex.answer(*envelopes.gateway_error(2029 if phase == "prompt" else 2030))
    return None


def _entry_id(word: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cf-ai-gateway-emulator/dlp-entry/{word.lower()}"))


def request_text(request: ModelRequest) -> str:
    """The prompt text the scanners read: every turn's text and tool-call arguments."""
    parts = []
    for turn in request.turns:
        parts.append(turn.text)
        parts.extend(call.arguments for call in turn.tool_calls)
    return "\n".join(parts)


def output_text(output: ModelOutput) -> str:
    """The answer text the scanners read: the text and the tool-call arguments."""
    return "\n".join([output.text or "", *(call.arguments for call in output.tool_calls)])
