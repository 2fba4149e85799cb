"""The official OpenAI SDK through Cloudflare AI Gateway: chat, streaming, options, info, feedback.

``Gateway.openai_client()`` returns a plain ``openai.OpenAI`` whose base URL is your gateway
route and whose HTTP client adds the gateway's auth headers, so any code (or framework) that takes
an OpenAI client goes through the gateway unchanged.

With ``CF_ACCOUNT_ID`` and ``OPENAI_API_KEY`` (or ``CF_AIG_TOKEN`` for stored keys / Unified
Billing) set, this talks to your real gateway; feedback also needs ``CF_API_TOKEN``. Without them
it starts the local emulator and talks to that: ``python examples/openai_sdk.py``.

Extras: ``emulator`` and ``openai`` (from a clone: ``pip install -e '.[emulator,openai]'``).
"""

from __future__ import annotations

import os
from contextlib import ExitStack

from cf_ai_gateway import Gateway
from cf_ai_gateway.emulator import real_or_emulated
from cf_ai_gateway.openai_client import gateway_headers, gateway_info


def main() -> None:
    model = os.environ.get("CF_AIG_MODEL", "gpt-4o-mini")
    with ExitStack() as stack:
        settings = stack.enter_context(real_or_emulated(byok=True, feedback=True))
        gateway = Gateway.from_env(gateway_options={"metadata": {"example": "openai_sdk"}}, **settings)
        client = stack.enter_context(gateway.openai_client())
        messages = [{"role": "user", "content": "What is Cloudflare AI Gateway for?"}]

        # A normal SDK call; per-request gateway options go in extra_headers. Caching is off
        # unless a request opts in with a cache key (the TTL only says for how long).
        cached = gateway_headers(cache_key="what-is-ai-gateway", cache_ttl=3600)
        raw = client.chat.completions.with_raw_response.create(
            model=model, messages=messages, extra_headers=cached
        )
        info = gateway_info(raw)  # the cf-aig-* response headers
        print("chat:", raw.parse().choices[0].message.content)
        print("  log id:", info.log_id, "cache:", info.cache_status)

        again = client.chat.completions.with_raw_response.create(
            model=model, messages=messages, extra_headers=cached
        )
        print("same call again, cache:", gateway_info(again).cache_status)

        # Streaming, on the Responses API; the info is known before the first event.
        stream = client.responses.create(model=model, input="Say hello in five words.", stream=True)
        print("stream log id:", gateway_info(stream).log_id)
        print("responses stream:", end=" ")
        for event in stream:
            if event.type == "response.output_text.delta":
                print(event.delta, end="", flush=True)
        print()

        # Human feedback on the first call's log entry (needs a Cloudflare API token).
        if gateway.config.cf_api_token is not None and info.log_id:
            # logs.feedback returns the entry with the values recorded (the API answers `{}`).
            entry = gateway.logs.feedback(info.log_id, feedback=1, score=90)
            print(f"feedback recorded: {entry.feedback} {entry.score:g}")
        gateway.close()


if __name__ == "__main__":
    main()
