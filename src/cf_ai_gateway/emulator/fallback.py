"""``real_or_emulated()``: your real gateway when the environment configures one, else the emulator.

Demos, examples and notebooks want to run anywhere: against the user's own gateway when
``CF_ACCOUNT_ID`` (or ``CLOUDFLARE_ACCOUNT_ID``) and a provider key or gateway token are set,
and against a local emulator otherwise. This context manager yields the connection settings to
pass to ``Gateway`` or an adapter: nothing (the environment is used as it is) or the emulator's.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

__all__ = ["configured_in_environment", "real_or_emulated"]

_SECRET_VARIABLES = ("OPENAI_API_KEY", "CF_AIG_TOKEN", "CF_AIG_PROVIDER_API_KEY")


def configured_in_environment() -> bool:
    """True when the environment names an account and holds a provider key or gateway token."""
    account = os.environ.get("CF_ACCOUNT_ID") or os.environ.get("CLOUDFLARE_ACCOUNT_ID")
    return bool(account) and any(os.environ.get(name) for name in _SECRET_VARIABLES)


@contextlib.contextmanager
def real_or_emulated(
    *, byok: bool = False, feedback: bool = False, quiet: bool = False
) -> Iterator[dict[str, Any]]:
    """Yield ``{}`` for a gateway configured in the environment, else a started emulator's settings.

    The emulator is an authenticated gateway (as every new Cloudflare gateway is) with a generated
    token, and the settings fit ``Gateway`` and both adapters: the gateway token plus a
    placeholder provider key, or with ``byok=True`` the gateway token only (the stored key pays).
    With ``feedback=True`` they also carry the Cloudflare API root and token that
    ``Gateway.feedback`` needs (``Gateway`` only). The emulator stops on exit.
    """
    if configured_in_environment():
        yield {}
        return
    from .server import PLACEHOLDER_PROVIDER_KEY, Emulator

    with Emulator() as emulator:
        if not quiet:
            print(
                "(no gateway configured in the environment: using the local emulator at "
                f"{emulator.base_url})",
                file=sys.stderr,
            )
        env = emulator.env()
        settings: dict[str, Any] = {
            "account_id": emulator.account_id,
            "base_url": emulator.base_url,
            "cf_aig_token": env["CF_AIG_TOKEN"],
        }
        if feedback:
            settings.update(api_base_url=emulator.api_base_url, cf_api_token=env["CF_API_TOKEN"])
        if byok:
            settings["auth_mode"] = "byok"
        else:
            settings["api_key"] = PLACEHOLDER_PROVIDER_KEY
        yield settings
