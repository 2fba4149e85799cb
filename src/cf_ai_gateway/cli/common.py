"""Shared pieces of the CLI commands: building the client, and explaining failures in plain words.

Errors are printed as one ``error:`` line plus a hint naming what to change (an environment
variable, usually); no traceback reaches the user, and no secret is printed. Hints are chosen by
the error's type, never by its text. The client is built by the library's one settings resolver,
with the emulator's connection variables in place of the user's under ``--emulator``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .. import Gateway, GatewayError
    from ..emulator import Emulator

_CREDENTIALS_HINT = (
    "Set CF_ACCOUNT_ID and a provider key ({key_env}) and/or a gateway token (CF_AIG_TOKEN),\n"
    "for example:\n"
    "  export CF_ACCOUNT_ID=<your Cloudflare account id>\n"
    "  export {key_env}=...        # provider key\n"
    "  export CF_AIG_TOKEN=...             # gateway token (authenticated gateways, stored keys)\n"
    "or try it locally with --emulator."
)


def config_hint(error: Exception, provider: str | None) -> str | None:
    """The credentials hint, when ``error`` is about missing credentials or account; else None."""
    from ..config import GENERIC_KEY_ENV, PROVIDER_KEY_ENV
    from ..errors import MissingCredentialsError

    if not isinstance(error, MissingCredentialsError):
        return None
    key_env = PROVIDER_KEY_ENV.get(provider or "openai", GENERIC_KEY_ENV)
    return _CREDENTIALS_HINT.format(key_env=key_env)


def err(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def model_name(args: argparse.Namespace) -> str:
    from ..config import MODEL_ENV
    from . import DEFAULT_MODEL

    return str(args.model or os.environ.get(MODEL_ENV) or DEFAULT_MODEL)


@contextlib.contextmanager
def maybe_emulator(enabled: bool) -> Iterator[Emulator | None]:
    """A started in-process emulator when ``enabled``, else None."""
    if not enabled:
        yield None
        return
    try:
        from ..emulator import Emulator
    except ImportError as exc:
        err(f"error: the emulator needs the 'emulator' extra ({exc})")
        raise SystemExit(2) from None
    with Emulator() as emulator:
        yield emulator


def emulator_environ(emulator: Emulator, provider: str | None) -> dict[str, str]:
    """The environment with the emulator's connection variables (its token included) in place
    of the user's, which never reach it; ``CF_AIG_<OPTION>`` variables are kept."""
    from ..config import ENVIRONMENT, GENERIC_KEY_ENV, PROVIDER_KEY_ENV

    environ = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT}
    environ.update(emulator.env())
    key = environ.get("OPENAI_API_KEY")
    if key is not None:  # the emulated provider takes its key under any provider's variable
        environ[PROVIDER_KEY_ENV.get(provider or "openai", GENERIC_KEY_ENV)] = key
    return environ


def build_gateway(args: argparse.Namespace, emulator: Emulator | None, **extra: Any) -> Gateway:
    """The client: pointed at ``emulator`` when given, else configured from the environment."""
    from .. import Gateway

    overrides: dict[str, Any] = {
        k: v
        for k, v in (("provider", args.provider), ("gateway_id", args.gateway_id))
        if v is not None
    }
    overrides.update(extra)
    if emulator is not None:
        overrides["environ"] = emulator_environ(emulator, args.provider)
    return Gateway(**overrides)


def explain(error: GatewayError, config: Any = None) -> str:
    """A plain-words hint for a failed gateway call."""
    from .. import (
        GatewayAuthenticationError,
        GatewayConnectionError,
        GatewayNotFoundError,
        GatewayRateLimitError,
        GatewayTimeoutError,
        ProviderError,
        StreamError,
    )

    gateway = getattr(config, "gateway_id", "?")
    account = getattr(config, "account_id", "?")
    if isinstance(error, GatewayAuthenticationError) and error.code == 10000:
        return (
            "The Cloudflare API refused the API token (code 10000): set CF_API_TOKEN to a token with the "
            "AI Gateway permission."
        )
    if isinstance(error, GatewayAuthenticationError):
        return (
            "The gateway itself refused the request (code 2009): it is an authenticated gateway and the "
            "gateway token is missing or wrong. Set CF_AIG_TOKEN to an AI Gateway token; it is sent as "
            "cf-aig-authorization."
        )
    if isinstance(error, ProviderError) and error.status_code in (401, 403):
        return (
            "The provider refused the request and the gateway passed its error through: the provider key is "
            "missing or wrong. Set OPENAI_API_KEY (or the provider's key variable), or, for an authenticated "
            "gateway with stored keys (BYOK), set CF_AIG_TOKEN and leave the provider key out."
        )
    if isinstance(error, GatewayNotFoundError) and error.code == 2001:
        return (
            f"The gateway '{gateway}' does not exist in account {account} (code 2001): create it in the "
            "Cloudflare dashboard or set CF_AIG_GATEWAY_ID to an existing gateway."
        )
    if isinstance(error, GatewayNotFoundError):
        return (
            "The gateway does not know this route or provider (code "
            f"{error.code}): check --provider and CF_AIG_BASE_URL."
        )
    if isinstance(error, GatewayConnectionError):
        return "The gateway could not be reached: check the network and CF_AIG_BASE_URL."
    if isinstance(error, GatewayTimeoutError):
        return "The gateway did not answer in time: try again, or raise --timeout."
    if isinstance(error, GatewayRateLimitError):
        return (
            "The request was rate limited: wait and try again, or raise the gateway's rate limit."
        )
    if isinstance(error, StreamError):
        return "The reply broke off or could not be read."
    if isinstance(error, ProviderError):
        return "The provider rejected the request; the message above is the provider's own."
    return "The gateway rejected the request."


def info_line(info: Any) -> str:
    """The gateway's response headers in one line, for stderr."""
    if info is None:
        return "[gateway] no gateway headers"
    parts = [f"log id {info.log_id or '-'}", f"cache {info.cache_status or '-'}"]
    if (
        getattr(info, "event_id", None) and info.event_id != info.log_id
    ):  # the gateway echoes it otherwise
        parts.append(f"event id {info.event_id}")
    if getattr(info, "model", None):
        parts.append(f"model {info.model}")
    return "[gateway] " + ", ".join(parts)
