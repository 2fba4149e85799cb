"""Helpers for the emulator's tests: plain httpx calls and a small SSE reader.

``post`` sends the emulator's gateway token (``cf-aig-authorization``) when the gateway is
authenticated, as a client configured for it does; pass ``gateway_token=None`` to leave it out.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from cf_ai_gateway.emulator import Emulator

KEY = "sk-test-key-0123456789"
CHAT_BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is Cloudflare?"}]}
RESPONSES_BODY = {"model": "gpt-4o-mini", "input": "What is Cloudflare?"}
_client = httpx.Client()  # one pooled client: keep-alive connections to the session emulator


def url(emu: Emulator, endpoint: str = "chat/completions", gateway: str = "default", provider: str = "openai") -> str:
    return f"{emu.gateway_url(gateway, provider)}/{endpoint}"


_ITS_TOKEN: Any = object()


def post(emu: Emulator, endpoint: str = "chat/completions", body: Any = None, *, headers: dict[str, str] | None = None,
         key: str | None = KEY, gateway: str = "default", provider: str = "openai", timeout: float = 10,
         gateway_token: str | None = _ITS_TOKEN) -> httpx.Response:
    sent = dict(headers or {})
    token = emu.token if gateway_token is _ITS_TOKEN else gateway_token
    if token is not None:
        sent.setdefault("cf-aig-authorization", f"Bearer {token}")
    if key is not None:
        sent.setdefault("authorization", f"Bearer {key}")
    if body is None:
        body = CHAT_BODY if endpoint == "chat/completions" else RESPONSES_BODY
    return _client.post(url(emu, endpoint, gateway, provider), json=body, headers=sent, timeout=timeout)


def sse_events(text: str) -> list[Any]:
    """The ``data:`` payloads of an SSE text (JSON parsed; ``[DONE]`` kept as a string)."""
    events: list[Any] = []
    for block in text.split("\n\n"):
        data = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if not data:
            continue
        payload = "\n".join(data)
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def stream_text_chat(events: list[Any]) -> str:
    return "".join(
        choice["delta"].get("content") or ""
        for event in events if isinstance(event, dict)
        for choice in event.get("choices", [])
    )


def gateway_envelope(code: int, message: str, status: int) -> dict[str, Any]:
    return {"success": False, "result": [], "messages": [], "error": [{"code": code, "message": message}],
            "name": "AiGatewayError", "httpCode": status, "internalCode": code, "message": message}
