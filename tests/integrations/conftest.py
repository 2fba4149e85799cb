"""Fixtures for the framework integration tests: a Gateway on the shared emulator.

The emulator is authenticated with stored keys (BYOK), so every request must carry
``cf-aig-authorization`` and no ``Authorization`` header, which the tests check on the wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from cf_ai_gateway import Gateway

GATEWAY_TOKEN = "emu-gateway-token-0123456789"
API_TOKEN = "emu-cf-api-token-0123456789"


@pytest.fixture
def gateway_on(emulator: Any) -> Callable[..., Gateway]:
    """``gateway_on(**overrides)``: a byok Gateway pointed at the (authenticated) emulator."""
    emulator.configure(token=GATEWAY_TOKEN, api_token=API_TOKEN)

    def make(**overrides: Any) -> Gateway:
        settings: dict[str, Any] = {
            "account_id": emulator.account_id,
            "base_url": emulator.base_url,
            "api_base_url": emulator.api_base_url,
            "cf_aig_token": GATEWAY_TOKEN,
            "auth_mode": "byok",
            "cf_api_token": API_TOKEN,
            "retry_base_delay": 0.01,
        }
        settings.update(overrides)
        return Gateway(**settings)

    return make


@pytest.fixture
async def async_client(gateway_on: Callable[..., Gateway]) -> AsyncIterator[Any]:
    """An ``openai.AsyncOpenAI`` from a byok Gateway with client-level metadata."""
    pytest.importorskip("openai")
    gateway = gateway_on(gateway_options={"metadata": {"suite": "frameworks"}})
    client = gateway.async_openai_client()
    try:
        yield client
    finally:
        await client.close()


def model_requests(emulator: Any, endpoint: str) -> list[Any]:
    """The model requests the emulator received on ``endpoint``."""
    return [r for r in emulator.requests if r.method == "POST" and r.path.endswith("/" + endpoint)]


def assert_byok_wire(requests: list[Any]) -> None:
    """Every request carried the gateway token and no provider key."""
    assert requests
    for request in requests:
        assert request.header("authorization") is None
        assert request.header("cf-aig-authorization") == f"Bearer {GATEWAY_TOKEN}"
