"""Every environment variable the library reads is in the README's table, and the table in
``config.ENVIRONMENT`` names each of them."""

from __future__ import annotations

import re
from pathlib import Path

from cf_ai_gateway.config import ENVIRONMENT, PROVIDER_KEY_ENV
from cf_ai_gateway.emulator import pytest_plugin

ROOT = Path(__file__).resolve().parent.parent
_VARIABLE = re.compile(r"\"((?:CF|CLOUDFLARE)_[A-Z0-9_]+|[A-Z]+_API_KEY)\"")


def _read_by_the_library() -> set[str]:
    names: set[str] = set()
    for folder in (ROOT / "src" / "cf_ai_gateway", ROOT / "adapters"):
        for path in folder.rglob("*.py"):
            if "emulator" in path.parts:
                continue
            names.update(_VARIABLE.findall(path.read_text(encoding="utf-8")))
    names.discard("PLACEHOLDER_API_KEY")  # a constant's name, not a variable
    return names


def test_every_variable_read_is_in_the_readme_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = "\n".join(line for line in readme.splitlines() if line.startswith("|"))
    read = _read_by_the_library()
    assert {"CF_AIG_PROVIDER_API_KEY", "CF_AIG_MODEL", "CF_API_TOKEN"} <= read
    assert read <= set(ENVIRONMENT), read - set(ENVIRONMENT)
    for name in ENVIRONMENT:
        assert f"`{name}`" in table, name
    assert "`CF_AIG_<OPTION>`" in table


def test_the_pytest_plugin_clears_every_credential_variable() -> None:
    credentials = {*PROVIDER_KEY_ENV.values(), "CF_AIG_PROVIDER_API_KEY", "CF_API_TOKEN", "CF_AIG_TOKEN"}
    assert credentials <= set(pytest_plugin._GATEWAY_ENV)
