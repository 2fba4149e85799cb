"""``cf-ai-gateway emulator``: serve the local AI Gateway emulator in the foreground.

Prints where it listens and the ``export`` lines that point the library at it (an authenticated
gateway's generated token included), then serves until Ctrl-C (or SIGTERM).
"""

from __future__ import annotations

import argparse
import shlex
import socket
import sys

from .common import err


def run_emulator(args: argparse.Namespace) -> int:
    """Run the ``emulator`` command; returns the exit status."""
    try:
        from ..emulator import Emulator
    except ImportError as exc:
        err(f"error: {exc}")
        return 2
    unauthenticated = bool(getattr(args, "unauthenticated", False))
    if unauthenticated and args.token is not None:
        err(
            "error: --token and --unauthenticated contradict each other "
            "(an unauthenticated gateway has no token)"
        )
        return 2
    from ..checks import is_loopback_host
    from ..config import INSECURE_HTTP_ENV

    try:
        emulator = Emulator(
            authenticated=not unauthenticated,
            token=args.token,
            api_token=args.api_token,
            api_key=args.api_key,
            gateways=args.gateways,
            rate_limit=args.rate_limit,
            cache_ttl=args.cache_ttl,
            account_id=args.account_id,
            host=args.host,
            port=args.port,
            log_level="warning",
        )
    except (TypeError, ValueError) as exc:
        err(f"error: {exc}")
        return 2

    def announce() -> None:
        out = sys.stdout
        auth = "unauthenticated" if unauthenticated else "authenticated: send cf-aig-authorization"
        out.write(f"AI Gateway emulator listening on {emulator.root_url} ({auth})\n")
        out.write(
            f"  gateway API:  {emulator.base_url}/{{account}}/{{gateway}}/{{provider}}/chat/completions\n"
        )
        out.write(f"  OpenAI SDK:   base_url={emulator.gateway_url()}\n")
        out.write(
            f"  logs API:     {emulator.api_base_url}/accounts/{{account}}/ai-gateway/gateways/{{gateway}}/logs\n"
        )
        out.write("Point cf-ai-gateway at it:\n")
        for name, value in emulator.env().items():
            out.write(f"  export {name}={shlex.quote(value)}\n")
        if not is_loopback_host(args.host):
            # The emulator speaks plain http; off this machine the client needs an explicit opt-in.
            out.write(f"  export {INSECURE_HTTP_ENV}=1\n")
        out.write("Press Ctrl-C to stop.\n")
        out.flush()

    try:
        emulator.serve_forever(on_ready=announce)
    except socket.gaierror as exc:  # a host name that does not resolve: a bad value
        err(f"error: argument --host: cannot resolve {args.host!r}: {exc.strerror or exc}")
        return 2
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        err(f"error: cannot listen on {args.host}:{args.port}: {reason}")
        return 1
    except KeyboardInterrupt:
        pass
    err("emulator stopped")
    return 0
