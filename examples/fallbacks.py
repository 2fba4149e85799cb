"""Failover through Cloudflare AI Gateway: client fallbacks, gateway retries, what each try did.

``fallbacks=[...]`` makes a call try the next model (or another provider route of the same
gateway) when the first fails with a rate limit, a timeout or a 5xx; ``GatewayInfo.attempts``
says what happened to each try. A stream fails over only before its first words arrive.

With ``CF_ACCOUNT_ID`` and ``OPENAI_API_KEY`` (or ``CF_AIG_TOKEN``) set, this talks to your real
gateway, where the primary model normally answers at once. Without them it starts the local
emulator and makes the primary model fail, so the failover shows: ``python examples/fallbacks.py``.

Extras: ``emulator`` (from a clone: ``pip install -e '.[emulator]'``).
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
from typing import Any

from cf_ai_gateway import Gateway
from cf_ai_gateway.emulator import Emulator, configured_in_environment
from cf_ai_gateway.wire.types import ChatRequest, Message


def connect(stack: ExitStack) -> dict[str, Any]:
    """Settings for ``Gateway``: the environment's gateway, else an emulator with a failing model."""
    if configured_in_environment():
        return {}
    emulator = stack.enter_context(Emulator())
    print(f"(no gateway configured: using the local emulator at {emulator.base_url})", file=sys.stderr)
    emulator.fault(503, model="gpt-4o", times=None)  # the primary model is down
    return {
        "account_id": emulator.account_id,
        "base_url": emulator.base_url,
        "cf_aig_token": emulator.env()["CF_AIG_TOKEN"],
        "auth_mode": "byok",
    }


def main() -> None:
    primary = os.environ.get("CF_AIG_MODEL", "gpt-4o")
    request = ChatRequest(model=primary, messages=[Message(role="user", content="Say hello")])
    with ExitStack() as stack:
        gateway = stack.enter_context(
            Gateway.from_env(fallbacks=["gpt-4o-mini"], max_retries=0, **connect(stack))
        )

        result = gateway.chat(request)
        print("answer:", result.text)
        for attempt in result.info.attempts if result.info else ():
            outcome = attempt.error or "answered"
            print(f"  tried {attempt.model}: {attempt.status} {outcome} (log id {attempt.log_id})")

        # The same with a stream: the fallback is chosen before the first words arrive.
        with gateway.chat_stream(request) as stream:
            text = "".join(delta.text for delta in stream)
        tried = " -> ".join(str(a.model) for a in stream.info.attempts)
        print("streamed:", text)
        print("  tried:", tried, "| shared event id:", stream.info.event_id)


if __name__ == "__main__":
    main()
