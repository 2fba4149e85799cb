"""The ``cf-ai-gateway`` command: ``chat``, ``emulator``, ``doctor`` and ``logs``.

- ``cf-ai-gateway chat "What is Cloudflare?"`` streams an answer through the gateway configured in
  the environment; ``--emulator`` runs a local gateway in-process instead, so it works with no
  Cloudflare account at all.
- ``cf-ai-gateway emulator`` serves the local gateway until interrupted and prints the
  environment to export.
- ``cf-ai-gateway doctor`` shows the resolved configuration (secrets masked), sends one tiny
  request and explains what the answer means.
- ``cf-ai-gateway logs list|tail|get|feedback|delete`` reads and manages the gateway's logs.

Only argparse loads at startup; each command imports what it needs when it runs. A bad value
on the command line is one ``error:`` line and exit status 2, as a configuration error is.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

DEFAULT_MODEL = "gpt-4o-mini"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a port number from 0 to 65535, not {text!r}"
        ) from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 0 to 65535, not {value}")
    return value


def _host(text: str) -> str:
    import ipaddress
    import re

    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    label = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    if len(text) > 253 or re.fullmatch(rf"{label}(?:\.{label})*\.?", text) is None:
        raise argparse.ArgumentTypeError(f"must be an IP address or a host name, not {text!r}")
    return text


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number above 0, not {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a whole number above 0, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(
            f"must be a number of seconds above 0 (at most 86400), not {text!r}"
        )
    return value


def _checked(kind: str) -> Callable[[str], str]:
    """An argparse type that checks an id (or a provider slug) as the library does."""

    def check(text: str) -> str:
        from ..checks import ID_RULE, PROVIDER_RULE, check_id
        from ..errors import ConfigurationError

        try:
            return check_id(text, kind, None, PROVIDER_RULE if kind == "provider" else ID_RULE)
        except ConfigurationError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None

    check.__name__ = kind
    return check


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cf-ai-gateway",
        description="Talk to models through Cloudflare AI Gateway, or run a local gateway emulator.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = commands.add_parser(
        "chat",
        help="ask a model; the answer streams to stdout",
        description="Ask a model through the gateway. The answer goes to stdout, "
        "the gateway's log id and cache status to stderr.",
    )
    chat.add_argument("prompt", nargs="*", help="the prompt (read from stdin when omitted)")
    chat.add_argument(
        "--model",
        "-m",
        default=None,
        help=f"model name (default: $CF_AIG_MODEL or {DEFAULT_MODEL})",
    )
    chat.add_argument(
        "--api",
        choices=("chat", "responses"),
        default="chat",
        help="endpoint: chat/completions or responses (default: chat)",
    )
    chat.add_argument(
        "--no-stream", dest="stream", action="store_false", help="wait for the whole answer"
    )
    chat.add_argument(
        "--emulator", action="store_true", help="run a local gateway emulator in-process"
    )
    chat.add_argument("--system", default=None, help="a system prompt")
    chat.add_argument(
        "--max-tokens", type=_positive_int, default=None, help="limit the answer's length"
    )
    _add_route_arguments(chat)

    emulator = commands.add_parser(
        "emulator",
        help="serve a local AI Gateway emulator until interrupted",
        description="Serve a local Cloudflare AI Gateway with a deterministic model.",
    )
    emulator.add_argument(
        "--host",
        type=_host,
        default="127.0.0.1",
        help="interface to listen on (default: 127.0.0.1)",
    )
    emulator.add_argument(
        "--port", type=_port, default=8787, help="port (default: 8787; 0 picks a free one)"
    )
    emulator.add_argument(
        "--token",
        default=None,
        help="gateway token of the authenticated gateway (default: a generated one)",
    )
    emulator.add_argument(
        "--unauthenticated",
        action="store_true",
        help="serve an older, unauthenticated gateway (no cf-aig-authorization)",
    )
    emulator.add_argument(
        "--api-token", default=None, help="Cloudflare API token for the logs API and REST surface"
    )
    emulator.add_argument(
        "--api-key", default=None, help="the only provider key the emulated provider accepts"
    )
    emulator.add_argument(
        "--gateway",
        action="append",
        default=None,
        dest="gateways",
        metavar="ID",
        type=_checked("gateway id"),
        help="a gateway id that exists (repeatable; default: every id exists)",
    )
    emulator.add_argument(
        "--rate-limit", type=_positive_int, default=None, help="requests per minute per gateway"
    )
    emulator.add_argument(
        "--cache-ttl",
        type=_positive_int,
        default=None,
        help="the gateway's default cache TTL in seconds",
    )
    emulator.add_argument(
        "--account-id",
        default="emulator-account",
        type=_checked("account id"),
        help="account id to show in the exports",
    )

    doctor = commands.add_parser(
        "doctor",
        help="check the configuration and reach the gateway",
        description="Show the resolved URL, auth mode and options (secrets masked), "
        "send one tiny request and explain the outcome.",
    )
    doctor.add_argument(
        "--model", "-m", default=None, help=f"model for the test request (default: {DEFAULT_MODEL})"
    )
    doctor.add_argument(
        "--api", choices=("chat", "responses"), default="chat", help="endpoint to test"
    )
    doctor.add_argument("--emulator", action="store_true", help="check against a local emulator")
    doctor.add_argument(
        "--timeout", type=_seconds, default=20.0, help="seconds to wait for the gateway"
    )
    _add_route_arguments(doctor)

    from .logs import add_logs_parser

    add_logs_parser(commands)
    return parser


def _add_route_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--provider",
        default=None,
        type=_checked("provider"),
        help="provider slug (default: openai)",
    )
    parser.add_argument(
        "--gateway",
        default=None,
        dest="gateway_id",
        type=_checked("gateway id"),
        help="gateway id (default: $CF_AIG_GATEWAY_ID or 'default')",
    )


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
