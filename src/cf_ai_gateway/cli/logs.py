"""``cf-ai-gateway logs``: read, follow, annotate and delete the gateway's logs from the terminal.

- ``logs list [--since 1h] [--model M] [--failed] [--cached] [--meta k=v] [--json]``: a table of
  time, log id, model, status, cache, tokens, cost and duration (newest first).
- ``logs tail``: the latest entries, then new ones as they arrive (``--max-polls`` bounds it).
- ``logs get LOG_ID [--request] [--response]``: one entry (and its stored bodies) as JSON, with
  secrets in stored headers masked.
- ``logs feedback LOG_ID --up|--down [--score N]``, ``logs delete [filters] [--yes]``.

They use the Cloudflare API token (``CF_API_TOKEN``); ``--emulator`` runs a local gateway
in-process and sends it one demo request first, so there is a log to look at.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import re
import sys
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .common import build_gateway, config_hint, err, explain, maybe_emulator

if TYPE_CHECKING:
    from .. import Gateway, GatewayLog
    from ..emulator import Emulator

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SECRET_KEY = re.compile(r"(?i)(authorization|api[-_]?key|token|secret|password|cookie)")
# A header written inside stored text, e.g. '"x-api-key": "abc"' or "Authorization: abc".
_SECRET_IN_TEXT = re.compile(
    r"""(?i)(["']?[\w-]*(?:authorization|api[-_]?key|token|secret|password|cookie)[\w-]*["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token)\s+)?)"""
    r"""([^"',\s}]+)"""
)
_NO_PROVIDER_KEY = "not-sent-by-the-logs-api"


def add_logs_parser(commands: Any) -> None:
    """Register ``logs`` and its subcommands on the top-level subparsers."""
    logs = commands.add_parser(
        "logs",
        help="list, follow, inspect, rate and delete gateway logs",
        description="Read the gateway's logs through the Cloudflare API "
        "(needs CF_API_TOKEN, or --emulator).",
    )
    sub = logs.add_subparsers(dest="logs_command", metavar="SUBCOMMAND")

    listing = sub.add_parser("list", help="a table of recent log entries")
    _add_filters(listing)
    listing.add_argument("--limit", type=int, default=20, help="entries to show (default: 20)")
    listing.add_argument("--json", action="store_true", help="print the entries as a JSON array")

    tail = sub.add_parser("tail", help="follow new log entries as they arrive")
    _add_filters(tail)
    tail.add_argument(
        "--interval", type=float, default=2.0, help="seconds between polls (default: 2)"
    )
    tail.add_argument("--max-polls", type=int, default=None, help="stop after this many polls")
    tail.add_argument("--json", action="store_true", help="print one JSON object per entry")

    get = sub.add_parser("get", help="one log entry as JSON (secrets masked)")
    get.add_argument("log_id", metavar="LOG_ID")
    get.add_argument("--request", action="store_true", help="also print the stored request body")
    get.add_argument("--response", action="store_true", help="also print the stored response body")

    feedback = sub.add_parser("feedback", help="rate a log entry")
    feedback.add_argument("log_id", metavar="LOG_ID")
    vote = feedback.add_mutually_exclusive_group()
    vote.add_argument("--up", dest="vote", action="store_const", const=1, help="positive feedback")
    vote.add_argument(
        "--down", dest="vote", action="store_const", const=-1, help="negative feedback"
    )
    feedback.add_argument("--score", type=float, default=None, help="a score from 0 to 100")

    delete = sub.add_parser("delete", help="delete the entries matching filters")
    _add_filters(delete)
    delete.add_argument(
        "--filter",
        action="append",
        default=[],
        dest="raw_filters",
        metavar="KEY[OP]VALUE",
        help="a raw filter such as model=gpt-4o, cost>0.01, model!=x (repeatable)",
    )
    delete.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")

    for parser in (listing, tail, get, feedback, delete):
        parser.add_argument("--emulator", action="store_true", help="use a local gateway emulator")
        parser.add_argument(
            "--gateway",
            default=None,
            dest="gateway_id",
            help="gateway id (default: $CF_AIG_GATEWAY_ID or 'default')",
        )
        parser.set_defaults(provider=None)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", default=None, help="entries newer than this: 30m, 1h, 2d or an ISO time"
    )
    parser.add_argument(
        "--until", default=None, help="entries older than this: 30m, 1h, 2d or an ISO time"
    )
    parser.add_argument("--model", "-m", action="append", default=None, help="a model (repeatable)")
    parser.add_argument(
        "--provider",
        dest="log_provider",
        action="append",
        default=None,
        help="a provider slug (repeatable)",
    )
    outcome = parser.add_mutually_exclusive_group()
    outcome.add_argument(
        "--failed", dest="success", action="store_const", const=False, help="failed calls only"
    )
    outcome.add_argument(
        "--succeeded",
        dest="success",
        action="store_const",
        const=True,
        help="successful calls only",
    )
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cached", dest="cached", action="store_const", const=True, help="cache hits only"
    )
    cache.add_argument(
        "--not-cached", dest="cached", action="store_const", const=False, help="cache misses only"
    )
    parser.add_argument("--event-id", default=None, help="the cf-aig-event-id of a call")
    parser.add_argument(
        "--meta",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a metadata entry the log must carry (repeatable)",
    )


# --- argument conversion ----------------------------------------------------------------------


class UsageError(Exception):
    """A command-line value that cannot be used."""


def parse_when(text: str | None, arg: str) -> Any:
    """``30m``, ``1h``, ``2d`` (a timedelta before now) or an ISO 8601 time, as given."""
    if text is None:
        return None
    match = _DURATION.match(text.strip())
    if match:
        return _dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{arg} must be a duration like 30m, 1h, 2d or an ISO time; got {text!r}"
        ) from None
    return text


def _scalar(text: str) -> str | int | float | bool:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def parse_meta(items: Iterable[str]) -> dict[str, str | int | float | bool] | None:
    meta: dict[str, str | int | float | bool] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--meta must be KEY=VALUE; got {item!r}")
        meta[key] = _scalar(value)
    return meta or None


_OPERATORS = (("!=", "neq"), ("~", "contains"), ("<", "lt"), (">", "gt"), ("=", "eq"))


def parse_raw_filter(text: str) -> dict[str, Any]:
    """``model=gpt-4o``, ``model!=x``, ``cost>0.01``, ``cost<1``, ``model~mini``."""
    for symbol, operator in _OPERATORS:
        key, sep, value = text.partition(symbol)
        if sep and key:
            return {"key": key.strip(), "operator": operator, "value": [_scalar(value.strip())]}
    raise UsageError(
        f"--filter must be KEY=VALUE, KEY!=VALUE, KEY<N, KEY>N or KEY~TEXT; got {text!r}"
    )


def filter_arguments(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": args.model,
        "provider": args.log_provider,
        "success": args.success,
        "cached": args.cached,
        "event_id": args.event_id,
        "metadata": parse_meta(args.meta),
        "since": parse_when(args.since, "--since"),
        "until": parse_when(args.until, "--until"),
    }
    raw = [parse_raw_filter(text) for text in getattr(args, "raw_filters", [])]
    if raw:
        out["filters"] = raw
    return {k: v for k, v in out.items() if v is not None}


# --- output -----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _row(entry: GatewayLog) -> list[str]:
    when = (
        entry.created_at.astimezone(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        if entry.created_at
        else "-"
    )
    status = (
        _cell(entry.status_code)
        if entry.success is not False
        else f"{_cell(entry.status_code)} FAIL"
    )
    cache = "-" if entry.cached is None else ("HIT" if entry.cached else "MISS")
    tokens = "-" if entry.tokens is None else f"{entry.tokens_in or 0}/{entry.tokens_out or 0}"
    cost = "-" if entry.cost is None else f"${entry.cost:.6f}"
    duration = "-" if entry.duration_ms is None else f"{entry.duration_ms}ms"
    return [when, entry.id, _cell(entry.model), status, cache, tokens, cost, duration]


HEADER = ["TIME (UTC)", "LOG ID", "MODEL", "STATUS", "CACHE", "TOKENS IN/OUT", "COST", "DURATION"]


def table(entries: list[GatewayLog]) -> str:
    rows = [HEADER, *(_row(e) for e in entries)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def mask(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` with secret-looking header values masked and known secrets scrubbed."""
    from ..errors import scrub

    if isinstance(value, Mapping):
        return {
            str(k): "***"
            if _SECRET_KEY.search(str(k)) and isinstance(v, str) and v
            else mask(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask(item, secrets) for item in value]
    if isinstance(value, str):
        return _SECRET_IN_TEXT.sub(lambda m: m.group(1) + "***", scrub(value, secrets))
    return value


def _dump(value: Any, secrets: tuple[str, ...]) -> str:
    return json.dumps(mask(value, secrets), indent=2, ensure_ascii=False, default=str)


# --- running ----------------------------------------------------------------------------------


def _seed(gateway: Gateway) -> None:
    gateway.create(
        "chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is Cloudflare?"}]},
    )


def _gateway(args: argparse.Namespace, emulator: Emulator | None) -> Gateway:
    import os

    from ..config import GENERIC_KEY_ENV, PROVIDER_KEY_ENV

    extra: dict[str, Any] = {}
    if emulator is not None:
        extra["cf_api_token"] = emulator.env()["CF_API_TOKEN"]
    elif not any(
        os.environ.get(name)
        for name in ("CF_AIG_TOKEN", PROVIDER_KEY_ENV.get("openai", ""), GENERIC_KEY_ENV)
    ):
        # The logs API needs only the Cloudflare API token; the client wants some model credential.
        extra["api_key"] = _NO_PROVIDER_KEY
    return build_gateway(args, emulator, **extra)


def run_logs(args: argparse.Namespace) -> int:
    """Run a ``logs`` subcommand; returns the exit status."""
    from .. import ConfigurationError, GatewayError

    command = getattr(args, "logs_command", None)
    if command is None:
        err("error: choose a subcommand: list, tail, get, feedback or delete")
        return 2
    with maybe_emulator(args.emulator) as emulator:
        try:
            gateway = _gateway(args, emulator)
        except ConfigurationError as exc:
            err(f"error: {exc}")
            hint = config_hint(exc, None)
            if hint:
                err(hint)
            return 2
        with gateway:
            try:
                if emulator is not None:
                    err(
                        f"[emulator] local AI Gateway emulator at {emulator.base_url} (one demo request sent)"
                    )
                    _seed(gateway)
                return _COMMANDS[command](gateway, args)
            except UsageError as exc:
                err(f"error: {exc}")
                return 2
            except ConfigurationError as exc:
                err(f"error: {exc}")
                return 2
            except GatewayError as exc:
                err(f"error: {exc}")
                if not isinstance(exc, _unexplained()):
                    err(explain(exc, gateway.config))
                return 1


def _unexplained() -> tuple[type[Exception], ...]:
    from .. import LogNotFoundError, LogsUnavailableError

    return (LogsUnavailableError, LogNotFoundError)


def _list(gateway: Gateway, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError(f"--limit must be a positive integer; got {args.limit}")
    entries = list(
        gateway.logs.list(limit=args.limit, per_page=min(args.limit, 50), **filter_arguments(args))
    )
    if args.json:
        print(_dump([e.raw for e in entries], gateway.transport.secrets))
    elif entries:
        print(table(entries))
    else:
        err("no log entries match")
    return 0


def _tail(gateway: Gateway, args: argparse.Namespace) -> int:
    if args.max_polls is not None and args.max_polls < 1:
        raise UsageError(f"--max-polls must be a positive integer; got {args.max_polls}")
    if not args.interval > 0:
        raise UsageError(f"--interval must be a positive number of seconds; got {args.interval}")
    filters = filter_arguments(args)
    seen: set[str] = set()
    polls = 0
    header_shown = False
    while True:
        fresh = [e for e in gateway.logs.list(limit=50, per_page=50, **filters) if e.id not in seen]
        for entry in reversed(fresh):  # oldest first, as a log reads
            seen.add(entry.id)
            if args.json:
                print(
                    json.dumps(mask(entry.raw, gateway.transport.secrets), ensure_ascii=False),
                    flush=True,
                )
            else:
                lines = table([entry]).splitlines()
                if not header_shown:
                    print(lines[0])
                    header_shown = True
                print(lines[1], flush=True)
        polls += 1
        if args.max_polls is not None and polls >= args.max_polls:
            return 0
        time.sleep(args.interval)


def _get(gateway: Gateway, args: argparse.Namespace) -> int:
    secrets = gateway.transport.secrets
    entry = gateway.logs.get(args.log_id)
    print(_dump(entry.raw, secrets))
    if args.request:
        print("--- request ---")
        print(_dump(gateway.logs.request(args.log_id), secrets))
    if args.response:
        print("--- response ---")
        print(_dump(gateway.logs.response(args.log_id), secrets))
    return 0


def _feedback(gateway: Gateway, args: argparse.Namespace) -> int:
    if args.vote is None and args.score is None:
        raise UsageError("give --up, --down and/or --score N")
    entry = gateway.logs.feedback(args.log_id, feedback=args.vote, score=args.score)
    err(
        f"feedback recorded on {entry.id}: feedback {_cell(entry.feedback)}, score {_cell(entry.score)}"
    )
    return 0


def _confirm(question: str) -> bool:
    err(question + " [y/N] ")
    answer = sys.stdin.readline() if sys.stdin is not None else ""
    return answer.strip().lower() in ("y", "yes")


def _delete(gateway: Gateway, args: argparse.Namespace) -> int:
    filters = filter_arguments(args)
    if not filters:
        raise UsageError(
            "logs delete needs at least one filter (e.g. --model, --since, --failed, --filter k=v)"
        )
    shown = ", ".join(f"{k}={v}" for k, v in filters.items())
    if not args.yes and not _confirm(
        f"Delete every log of gateway {gateway.config.gateway_id!r} matching {shown}?"
    ):
        err("nothing deleted")
        return 1
    gateway.logs.delete(**filters)
    err(f"deleted the logs matching {shown}")
    return 0


_COMMANDS = {"list": _list, "tail": _tail, "get": _get, "feedback": _feedback, "delete": _delete}
