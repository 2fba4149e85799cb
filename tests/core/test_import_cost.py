"""`import cf_ai_gateway` loads the stdlib only; `Gateway` adds httpx, never a framework or SDK."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN = ("langchain", "langchain_core", "llama_index", "openai", "pydantic", "starlette", "uvicorn")


def _packages_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_import_loads_no_framework() -> None:
    loaded = _packages_after("import cf_ai_gateway")
    assert "cf_ai_gateway" in loaded
    assert "httpx" not in loaded  # errors, options and settings need no HTTP stack
    assert not loaded & set(FORBIDDEN), loaded & set(FORBIDDEN)
    with_client = _packages_after("from cf_ai_gateway import Gateway")
    assert "httpx" in with_client
    assert not with_client & set(FORBIDDEN), with_client & set(FORBIDDEN)


def test_public_surface() -> None:
    import cf_ai_gateway

    for name in ("Gateway", "GatewayConfig", "GatewayOptions", "GatewayInfo", "GatewayError",
                 "ConfigurationError", "GatewayAuthenticationError", "GatewayRateLimitError",
                 "ProviderError", "GatewayTimeoutError", "GatewayConnectionError", "StreamError",
                 "available_adapters", "load_adapter"):
        assert name in cf_ai_gateway.__all__ and hasattr(cf_ai_gateway, name)
    assert issubclass(cf_ai_gateway.ConfigurationError, ValueError)
    assert issubclass(cf_ai_gateway.ConfigurationError, cf_ai_gateway.GatewayError)


LAZY_MODULES = (
    "cf_ai_gateway.streams",
    "cf_ai_gateway.discovery",
    "cf_ai_gateway.failover",
    "cf_ai_gateway.logs_query",
    "cf_ai_gateway.wire.types",
    "cf_ai_gateway.wire.embeddings",
)


def _loaded_after(statement: str) -> set[str]:
    code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_import_defers_streams_discovery_logs_and_wire_types() -> None:
    loaded = _loaded_after("import cf_ai_gateway; cf_ai_gateway.Gateway")
    assert not loaded & set(LAZY_MODULES), sorted(loaded & set(LAZY_MODULES))


def test_every_public_name_imports_in_a_fresh_interpreter() -> None:
    import cf_ai_gateway

    names = [name for name in cf_ai_gateway.__all__ if name != "__version__"]
    statement = f"from cf_ai_gateway import {', '.join(names)}"
    loaded = _loaded_after(statement)
    assert "cf_ai_gateway.streams" in loaded and "cf_ai_gateway.discovery" in loaded
    for name in names:
        value = getattr(cf_ai_gateway, name)
        assert getattr(value, "__name__", name) == name, name
    assert set(dir(cf_ai_gateway)) >= set(cf_ai_gateway.__all__)


def test_lazy_names_are_the_defining_modules_objects() -> None:
    import cf_ai_gateway
    from cf_ai_gateway import discovery, info, logs_query, streams
    from cf_ai_gateway.wire import embeddings

    assert cf_ai_gateway.ChatStream is streams.ChatStream
    assert cf_ai_gateway.RawStream is streams.RawStream
    assert cf_ai_gateway.GatewayInfo is info.GatewayInfo
    assert cf_ai_gateway.LogPage is logs_query.LogPage
    assert cf_ai_gateway.EmbeddingResult is embeddings.EmbeddingResult
    assert cf_ai_gateway.load_adapter is discovery.load_adapter


def test_unknown_attribute_is_an_attribute_error() -> None:
    import cf_ai_gateway

    with pytest.raises(AttributeError, match="NoSuchName"):
        cf_ai_gateway.NoSuchName  # noqa: B018


STREAM_MODULES = (
    "cf_ai_gateway.streams",
    "cf_ai_gateway.async_streams",
    "cf_ai_gateway.chat_streams",
    "cf_ai_gateway.failover_streams",
    "cf_ai_gateway.openai_streams",
)


@pytest.mark.parametrize("module", STREAM_MODULES)
def test_each_stream_module_imports_first_in_a_fresh_interpreter(module: str) -> None:
    """The stream modules import one another; any of them may be the first one imported."""
    code = (
        f"import {module}; from cf_ai_gateway import streams, async_streams, chat_streams; "
        "assert streams.AsyncRawStream is async_streams.AsyncRawStream; "
        "assert streams.ChatStream is chat_streams.ChatStream; "
        "assert streams.AsyncChatStream is chat_streams.AsyncChatStream; "
        "assert streams.failed_error is chat_streams.failed_error"
    )
    subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)


def test_threads_importing_the_stream_modules_at_once_all_get_them() -> None:
    """First imports racing in threads (a stream module imported directly in one, a public
    stream name looked up in another) end with every name, in every thread."""
    code = f"""
import importlib, sys, threading
sys.setswitchinterval(1e-6)
import cf_ai_gateway
actions = [lambda m=m: importlib.import_module(m) for m in {list(STREAM_MODULES)!r}]
actions += [lambda n=n: getattr(cf_ai_gateway, n) for n in cf_ai_gateway.__all__]
barrier = threading.Barrier(len(actions))
errors = []
def run(action):
    barrier.wait()
    try:
        action()
    except BaseException as exc:
        errors.append(repr(exc))
threads = [threading.Thread(target=run, args=(a,)) for a in actions]
for t in threads:
    t.start()
for t in threads:
    t.join()
assert not errors, errors
"""
    for _ in range(3):
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
