"""``cf-ai-gateway chat``: ask a model through the gateway and stream the answer to the terminal.

The answer goes to stdout as it arrives; the gateway's log id and cache status go to stderr, so
``cf-ai-gateway chat "…" > answer.txt`` keeps only the answer. With ``--emulator`` the request goes
to a local gateway emulator started in-process.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .common import (
    build_gateway,
    config_hint,
    err,
    explain,
    info_line,
    maybe_emulator,
    model_name,
)

if TYPE_CHECKING:
    from .. import Gateway, GatewayInfo
    from ..wire.types import Api, ChatRequest, ToolCall


def _prompt(args: argparse.Namespace) -> str | None:
    if args.prompt:
        return " ".join(args.prompt)
    if not sys.stdin.isatty():
        text = sys.stdin.read().strip()
        return text or None
    return None


def run_chat(args: argparse.Namespace) -> int:
    """Run the ``chat`` command; returns the exit status."""
    from .. import ConfigurationError, GatewayError
    from ..wire.types import ChatRequest, Message

    prompt = _prompt(args)
    if prompt is None:
        err("error: no prompt: pass it as an argument or on stdin")
        return 2
    messages = [Message("system", args.system)] if args.system else []
    messages.append(Message("user", prompt))
    request = ChatRequest(model=model_name(args), messages=messages, max_tokens=args.max_tokens)
    with maybe_emulator(args.emulator) as emulator:
        try:
            gateway = build_gateway(args, emulator)
        except ConfigurationError as exc:
            err(f"error: {exc}")
            hint = config_hint(exc, args.provider)
            if hint:
                err(hint)
            return 2
        with gateway:
            if emulator is not None:
                err(f"[emulator] local AI Gateway emulator at {emulator.base_url}")
            try:
                info = (
                    _stream(gateway, request, args.api)
                    if args.stream
                    else _whole(gateway, request, args.api)
                )
            except ConfigurationError as exc:  # refused here, before anything was sent
                err(f"error: {exc}")
                return 2
            except GatewayError as exc:
                print(file=sys.stdout, flush=True)
                err(f"error: {exc}")
                err(explain(exc, gateway.config))
                return 1
    err(info_line(info))
    return 0


def _stream(gateway: Gateway, request: ChatRequest, api: Api) -> GatewayInfo | None:
    out = sys.stdout
    with gateway.chat_stream(request, api=api) as stream:
        wrote_text = False
        for delta in stream:
            if delta.text:
                out.write(delta.text)
                out.flush()
                wrote_text = True
        result = stream.result()
        if not wrote_text and result.tool_calls:
            out.write(_describe_tool_calls(result.tool_calls))
        out.write("\n")
        out.flush()
        return stream.info


def _whole(gateway: Gateway, request: ChatRequest, api: Api) -> GatewayInfo | None:
    result = gateway.chat(request, api=api)
    sys.stdout.write((result.text or _describe_tool_calls(result.tool_calls)) + "\n")
    sys.stdout.flush()
    info: GatewayInfo | None = result.info
    return info


def _describe_tool_calls(calls: list[ToolCall]) -> str:
    return "\n".join(f"[tool call] {call.name}({call.arguments})" for call in calls)
