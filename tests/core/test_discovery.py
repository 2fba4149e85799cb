"""Adapter discovery: the `cf_ai_gateway.adapters` entry-point group.

`available_adapters()` must list names and targets without importing any framework;
`load_adapter()` must build a configured instance, name the extra to install when a framework is
missing (checked in subprocesses whose import system hides the framework), list the known names
for an unknown one, and pick up third-party packages registered in the same group (a synthetic
distribution placed on `sys.path` of a subprocess).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from cf_ai_gateway import ConfigurationError, available_adapters, load_adapter
from cf_ai_gateway.discovery import ENTRY_POINT_GROUP

from .conftest import ACCOUNT, API_KEY

BUILTIN = {
    "langchain": "langchain_cf_ai_gateway:ChatCloudflareAIGateway",
    "llama_index": "llama_index.llms.cf_ai_gateway:CloudflareAIGatewayLLM",
    "openai": "cf_ai_gateway.openai_client:OpenAIClientAdapter",
}

# Installed into a subprocess before anything else: makes the named top-level modules (and
# their submodules) unimportable, as if their distributions were not installed.
BLOCKER = """
import sys
from importlib.abc import MetaPathFinder

class _Hide(MetaPathFinder):
    def __init__(self, names):
        self.names = names
    def find_spec(self, fullname, path=None, target=None):
        if any(fullname == n or fullname.startswith(n + ".") for n in self.names):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None

sys.meta_path.insert(0, _Hide(HIDDEN))
"""


def run_python(code: str, *, hidden: tuple[str, ...] = (), path: Path | None = None) -> Any:
    """Run ``code`` in a fresh interpreter; it must print one JSON document, which is returned."""
    prelude = BLOCKER.replace("HIDDEN", repr(list(hidden))) if hidden else ""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CF_", "OPENAI_"))}
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    out = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_builtin_adapters_are_registered() -> None:
    adapters = available_adapters()
    for name, target in BUILTIN.items():
        assert adapters[name] == target
    assert list(adapters) == sorted(adapters)


def test_listing_imports_no_framework() -> None:
    loaded = run_python(
        """
        import sys, json
        from cf_ai_gateway import available_adapters
        names = sorted(available_adapters())
        mods = sorted({m.split('.')[0] for m in sys.modules})
        print(json.dumps({"names": names, "mods": mods}))
        """
    )
    assert {"langchain", "llama_index", "openai"} <= set(loaded["names"])
    forbidden = {"langchain_core", "langchain", "llama_index", "openai", "pydantic"}
    assert not forbidden & set(loaded["mods"])


def test_unknown_adapter_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_adapter("crewai")
    message = str(caught.value)
    assert "'crewai'" in message
    for name in BUILTIN:
        assert name in message
    with pytest.raises(ConfigurationError, match="adapter name"):
        load_adapter("")


@pytest.mark.parametrize(
    ("name", "hidden", "extra"),
    [
        ("openai", ("openai",), "openai"),
        ("langchain", ("langchain_core",), "langchain"),
        ("llama_index", ("llama_index.core",), "llamaindex"),
    ],
)
def test_missing_extra_names_the_pip_command(name: str, hidden: tuple[str, ...], extra: str) -> None:
    result = run_python(
        f"""
        import json
        from cf_ai_gateway import ConfigurationError, load_adapter
        try:
            load_adapter({name!r}, account_id="acct", api_key="sk-test-0123456789", model="m")
        except ConfigurationError as exc:
            print(json.dumps({{"error": str(exc), "value_error": isinstance(exc, ValueError)}}))
        else:
            print(json.dumps({{"error": None}}))
        """,
        hidden=hidden,
    )
    assert result["error"] is not None
    assert f"pip install 'cf-ai-gateway[{extra}]'" in result["error"]
    assert result["value_error"] is True
    assert "sk-test-0123456789" not in result["error"]


def test_missing_openai_also_fails_cleanly_from_the_gateway() -> None:
    result = run_python(
        """
        import json
        from cf_ai_gateway import ConfigurationError, Gateway
        gw = Gateway(account_id="acct", api_key="sk-test-0123456789")
        try:
            gw.openai_client()
        except ConfigurationError as exc:
            print(json.dumps(str(exc)))
        """,
        hidden=("openai",),
    )
    assert "pip install 'cf-ai-gateway[openai]'" in result


def _write_distribution(root: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    dist_info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text(entry_points)
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


def test_third_party_adapters_show_up_and_load(tmp_path: Path) -> None:
    _write_distribution(
        tmp_path,
        "acme-gateway-adapter",
        f"[{ENTRY_POINT_GROUP}]\n"
        "acme = acme_adapter:AcmeLLM\n"
        "acme_factory = acme_adapter:AcmeFactory\n"
        "acme_broken = acme_broken:Thing\n"
        "openai = acme_adapter:AcmeLLM\n",
        {
            "acme_adapter": """
                class AcmeLLM:
                    def __init__(self, **config):
                        self.config = config

                class AcmeFactory:
                    @classmethod
                    def from_gateway_config(cls, **config):
                        return {"built_by": "factory", **config}
            """,
            "acme_broken": """
                import acme_missing_dependency
                Thing = object
            """,
        },
    )
    result = run_python(
        """
        import json, sys
        from cf_ai_gateway import ConfigurationError, available_adapters, load_adapter
        adapters = available_adapters()
        loaded = load_adapter("acme", model="m1", temperature=0.5)
        built = load_adapter("acme_factory", model="m2")
        try:
            load_adapter("acme_broken")
            broken = None
        except ConfigurationError as exc:
            broken = str(exc)
        print(json.dumps({
            "adapters": adapters,
            "config": loaded.config,
            "type": type(loaded).__name__,
            "built": built,
            "broken": broken,
            "openai_imported": "openai" in sys.modules,
        }))
        """,
        path=tmp_path,
    )
    adapters = result["adapters"]
    assert adapters["acme"] == "acme_adapter:AcmeLLM"
    assert adapters["acme_broken"] == "acme_broken:Thing"
    assert adapters["openai"] == BUILTIN["openai"]  # our own registration wins a clash
    assert {"langchain", "llama_index"} <= set(adapters)
    assert result["type"] == "AcmeLLM"
    assert result["config"] == {"model": "m1", "temperature": 0.5}
    assert result["built"] == {"built_by": "factory", "model": "m2"}
    assert "acme_missing_dependency" in result["broken"]
    assert "pip install 'acme-gateway-adapter'" in result["broken"]
    assert result["openai_imported"] is False


def test_load_adapter_builds_the_llama_index_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("llama_index.core")
    monkeypatch.setenv("CF_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("CF_AIG_GATEWAY_ID", "env-gateway")
    llm = load_adapter("llama_index", model="gpt-4o-mini")
    assert type(llm).__name__ == "CloudflareAIGatewayLLM"
    assert llm.model == "gpt-4o-mini"
    assert API_KEY not in repr(llm)


def test_load_adapter_builds_the_langchain_model(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("langchain_core")
    monkeypatch.setenv("CF_ACCOUNT_ID", ACCOUNT)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    model = load_adapter("langchain", model="gpt-4o-mini")
    assert type(model).__name__ == "ChatCloudflareAIGateway"
    assert API_KEY not in repr(model)


def test_load_adapter_reports_bad_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError, match="CF_ACCOUNT_ID"):
        load_adapter("openai", api_key=API_KEY)
    monkeypatch.setenv("CF_AIG_MAX_ATTEMPTS", "11")
    with pytest.raises(ConfigurationError, match="CF_AIG_MAX_ATTEMPTS"):
        load_adapter("openai", account_id=ACCOUNT, api_key=API_KEY)
