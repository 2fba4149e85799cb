"""``cf-ai-gateway doctor``: show what the library would do, try it once, and say what happened.

It prints the resolved URL, account, gateway, provider, auth mode and gateway options with every
secret masked, sends one tiny request, and explains the outcome: success
with its log id, the gateway's own auth error (2009) versus the provider's, an unknown gateway
(2001), an unknown route, a rate limit, or an unreachable gateway.
"""

from __future__ import annotations

import argparse
import sys

from .common import build_gateway, config_hint, err, explain, maybe_emulator, model_name


def run_doctor(args: argparse.Namespace) -> int:
    """Run the ``doctor`` command; returns the exit status."""
    from .. import ConfigurationError, GatewayError
    from ..wire.types import ChatRequest, Message

    out = sys.stdout
    with maybe_emulator(args.emulator) as emulator:
        try:
            gateway = build_gateway(args, emulator, timeout=args.timeout, max_retries=0)
        except ConfigurationError as exc:
            out.write("Configuration: not usable\n")
            out.flush()
            err(f"error: {exc}")
            hint = config_hint(exc, args.provider)
            if hint:
                err(hint)
            return 2
        with gateway:
            described = gateway.config.describe(
                "chat/completions" if args.api == "chat" else "responses"
            )
            out.write("Configuration\n")
            for label, key in (
                ("URL", "url"),
                ("account", "account_id"),
                ("gateway", "gateway_id"),
                ("provider", "provider"),
                ("surface", "surface"),
                ("auth mode", "auth_mode"),
                ("provider key", "api_key"),
                ("gateway token", "cf_aig_token"),
                ("API token", "cf_api_token"),
            ):
                out.write(f"  {label + ':':<15}{described.get(key) or '(not set)'}\n")
            option_values = gateway.options.to_dict()  # exactly what every request sends
            shown = (
                ", ".join(f"{k}={v!r}" for k, v in option_values.items())
                if option_values
                else "(none)"
            )
            out.write(f"  {'options:':<15}{shown}\n")
            out.write(f"Sending one tiny request to {args.api} with model {model_name(args)}...\n")
            out.flush()
            request = ChatRequest(
                model=model_name(args), messages=[Message("user", "ping")], max_tokens=16
            )
            try:
                result = gateway.chat(request, api=args.api)
            except ConfigurationError as exc:  # refused here, before anything was sent
                out.write(f"Configuration: not usable: {exc}\n")
                out.flush()
                return 2
            except GatewayError as exc:
                out.write(f"FAILED: {exc}\n")
                out.write(explain(exc, gateway.config) + "\n")
                out.flush()
                return 1
    info = result.info
    log_id = getattr(info, "log_id", None) or "(none)"
    cache = getattr(info, "cache_status", None) or "-"
    out.write(f"OK: the gateway answered (log id {log_id}, cache {cache}).\n")
    out.flush()
    return 0
