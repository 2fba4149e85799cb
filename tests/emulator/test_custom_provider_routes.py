"""Custom providers: the path after custom-{slug}/ is the upstream's own, whatever its shape."""

from __future__ import annotations

from cf_ai_gateway.emulator import Emulator

from .features_helpers import authenticated, call, chat


def test_a_non_standard_upstream_path_is_served(emulator: Emulator) -> None:
    # Custom providers page, example 2: base URL https://api.custom-ai.com, upstream path
    # /api/coding/paas/v4/chat/completions, requested as custom-custom-ai/api/coding/paas/v4/chat/completions.
    authenticated(emulator)
    reply = call(emulator, chat("custom-ai-model"), surface="custom-custom-ai",
                 endpoint="api/coding/paas/v4/chat/completions")
    assert reply.status_code == 200 and reply.json()["object"] == "chat.completion"
    assert emulator.logs[-1].provider == "custom-custom-ai"
