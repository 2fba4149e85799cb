"""The ``cf-ai-gateway`` command: ``chat``, ``emulator``, ``doctor`` and ``logs``.

- ``cf-ai-gateway chat "What is Cloudflare?"`` streams an answer through the gateway configured in
  the environment; ``--emulator`` runs a local gateway in-process instead, so it works with no
  Cloudflare account at all.
- ``cf-ai-gateway emulator`` serves the local gateway until interrupted and prints the
  environment to export.
- ``cf-ai-gateway doctor`` shows the resolved configuration (secrets masked), sends one tiny
  request and explains what the answer means.
- ``cf-ai-gateway logs list|tail|get|feedback|delete`` reads and manages the gateway's logs.

Only argparse loads at startup; each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DEFAULT_MODEL = "gpt-4o-mini"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cf-ai-gateway",
        description="Talk to models through Cloudflare AI Gateway, or run a local gateway emulator.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = commands.add_parser("chat", help="ask a model; the answer streams to stdout",
                               description="Ask a model through the gateway. The answer goes to stdout, "
                                           "the gateway's log id and cache status to stderr.")
    chat.add_argument("prompt", nargs="*", help="the prompt (read from stdin when omitted)")
    chat.add_argument("--model", "-m", default=None, help=f"model name (default: $CF_AIG_MODEL or {DEFAULT_MODEL})")
    chat.add_argument("--api", choices=("chat", "responses"), default="chat",
                      help="endpoint: chat/completions or responses (default: chat)")
    chat.add_argument("--no-stream", dest="stream", action="store_false", help="wait for the whole answer")
    chat.add_argument("--emulator", action="store_true", help="run a local gateway emulator in-process")
    chat.add_argument("--system", default=None, help="a system prompt")
    chat.add_argument("--max-tokens", type=int, default=None, help="limit the answer's length")
    _add_route_arguments(chat)

    emulator = commands.add_parser("emulator", help="serve a local AI Gateway emulator until interrupted",
                                   description="Serve a local Cloudflare AI Gateway with a deterministic model.")
    emulator.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    emulator.add_argument("--port", type=int, default=8787, help="port (default: 8787; 0 picks a free one)")
    emulator.add_argument("--token", default=None,
                          help="gateway token of the authenticated gateway (default: a generated one)")
    emulator.add_argument("--unauthenticated", action="store_true",
                          help="serve an older, unauthenticated gateway (no cf-aig-authorization)")
    emulator.add_argument("--api-token", default=None, help="Cloudflare API token for the logs API and REST surface")
    emulator.add_argument("--api-key", default=None, help="the only provider key the emulated provider accepts")
    emulator.add_argument("--gateway", action="append", default=None, dest="gateways", metavar="ID",
                          help="a gateway id that exists (repeatable; default: every id exists)")
    emulator.add_argument("--rate-limit", type=int, default=None, help="requests per minute per gateway")
    emulator.add_argument("--cache-ttl", type=int, default=None, help="the gateway's default cache TTL in seconds")
    emulator.add_argument("--account-id", default="emulator-account", help="account id to show in the exports")

    doctor = commands.add_parser("doctor", help="check the configuration and reach the gateway",
                                 description="Show the resolved URL, auth mode and options (secrets masked), "
                                             "send one tiny request and explain the outcome.")
    doctor.add_argument("--model", "-m", default=None, help=f"model for the test request (default: {DEFAULT_MODEL})")
    doctor.add_argument("--api", choices=("chat", "responses"), default="chat", help="endpoint to test")
    doctor.add_argument("--emulator", action="store_true", help="check against a local emulator")
    doctor.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the gateway")
    _add_route_arguments(doctor)

    from .logs import add_logs_parser

    add_logs_parser(commands)
    return parser


def _add_route_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", default=None, help="provider slug (default: openai)")
    parser.add_argument("--gateway", default=None, dest="gateway_id",
                        help="gateway id (default: $CF_AIG_GATEWAY_ID or 'default')")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from .. import __version__

        print(f"cf-ai-gateway {__version__}")
        return 0
    try:
        if args.command == "chat":
            from .chat import run_chat

            return run_chat(args)
        if args.command == "emulator":
            from .serve import run_emulator

            return run_emulator(args)
        if args.command == "doctor":
            from .doctor import run_doctor

            return run_doctor(args)
        if args.command == "logs":
            from .logs import run_logs

            return run_logs(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    parser.print_help()
    return 2


