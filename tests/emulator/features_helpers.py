"""Helpers for the gateway-feature tests: an authenticated gateway, and calls to its three surfaces."""

from __future__ import annotations

from typing import Any

import httpx

from cf_ai_gateway.emulator import Emulator

from .helpers import CHAT_BODY, KEY

TOKEN = "features-gateway-token"
_client = httpx.Client()


def authenticated(emu: Emulator, **settings: Any) -> Emulator:
    """Configure ``emu`` as an authenticated gateway with these feature settings."""
    emu.configure(token=TOKEN, **settings)
    return emu


def call(emu: Emulator, body: Any = None, *, surface: str = "openai", endpoint: str = "chat/completions",
         headers: dict[str, str] | None = None, key: str | None = KEY, gateway: str = "default") -> httpx.Response:
    """POST to a provider route (``surface`` is the provider slug), ``"compat"`` or ``"rest"``."""
    sent = dict(headers or {})
    if surface == "rest":
        url = f"{emu.api_base_url}/accounts/{emu.account_id}/ai/v1/{endpoint}"
        sent.setdefault("authorization", f"Bearer {TOKEN}")
    else:
        url = f"{emu.gateway_url(gateway, surface)}/{endpoint}"
        sent.setdefault("cf-aig-authorization", f"Bearer {TOKEN}")
        if key is not None:
            sent.setdefault("authorization", f"Bearer {key}")
    return _client.post(url, json=CHAT_BODY if body is None else body, headers=sent, timeout=10)


def chat(model: str, text: str = "What is Cloudflare?", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **extra}
