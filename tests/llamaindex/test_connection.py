"""The connection settings the LlamaIndex LLM and embedding model share are checked in one place.

Both classes take the same connection arguments (ids, secrets, base URL, gateway options,
headers, timeout, retries, pool limits): a value one refuses, the other refuses with the same
``ConfigurationError`` message, and a value one accepts, the other accepts and stores the same
way. Nothing here sends a request.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cf_ai_gateway import ConfigurationError
from llama_index.embeddings.cf_ai_gateway import CloudflareAIGatewayEmbedding
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

KEY = "sk-connection-secret-0123456789"
ACCOUNT = "0" * 32
CLASSES = (CloudflareAIGatewayLLM, CloudflareAIGatewayEmbedding)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CF_AIG_MAX_CONNECTIONS", "CF_AIG_MAX_KEEPALIVE", "CF_AIG_ALLOW_INSECURE_HTTP"):
        monkeypatch.delenv(name, raising=False)


def _outcome(cls: type[Any], **kwargs: Any) -> tuple[str, Any]:
    """What building ``cls`` with ``kwargs`` gives: the stored connection, or the message."""
    try:
        model = cls(account_id=ACCOUNT, api_key=KEY, **kwargs)
    except ConfigurationError as exc:
        assert KEY not in str(exc)
        return "refused", str(exc)
    return "built", {name: getattr(model, name) for name in kwargs}


def _same_outcome(**kwargs: Any) -> tuple[str, Any]:
    llm, embedding = (_outcome(cls, **kwargs) for cls in CLASSES)
    assert llm == embedding
    return llm


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_retries": -1},
        {"max_retries": True},
        {"max_retries": None},
        {"max_retries": 101},
        {"max_retries": "2"},
        {"timeout": -1},
        {"timeout": "soon"},
        {"base_url": 5},
        {"base_url": "ftp://x"},
        {"base_url": "http://example.com"},
        {"gateway_id": "gw/../x"},
        {"auth_mode": "sometimes"},
        {"gateway_options": 5},
        {"gateway_options": {"cache_ttl": 5}},
        {"default_headers": {"authorization": "x"}},
        {"max_connections": 0},
        {"max_keepalive": -1},
        {"allow_insecure_http": "yes"},
        {"cf_aig_token": 5},
    ],
)
def test_a_bad_connection_argument_gets_the_same_message_from_both_classes(
    kwargs: dict[str, Any],
) -> None:
    outcome, message = _same_outcome(**kwargs)
    assert outcome == "refused"
    assert next(iter(kwargs)) in message


def test_an_unknown_argument_is_named_with_each_class_name() -> None:
    for cls in CLASSES:
        with pytest.raises(
            ConfigurationError, match=f"for {cls.__name__}: api_base \\(use base_url"
        ):
            cls(account_id=ACCOUNT, api_key=KEY, api_base="https://x")


@settings(max_examples=60, deadline=None)
@given(
    max_retries=st.one_of(
        st.integers(-3, 130),
        st.booleans(),
        st.none(),
        st.floats(allow_nan=False),
        st.text(max_size=2),
    )
)
def test_any_max_retries_gets_one_answer_from_both_classes(max_retries: Any) -> None:
    outcome, result = _same_outcome(max_retries=max_retries)
    valid = type(max_retries) is int and 0 <= max_retries <= 100
    assert outcome == ("built" if valid else "refused")
    if valid:
        assert result == {"max_retries": max_retries}
    else:
        assert "max_retries" in result


@settings(max_examples=40, deadline=None)
@given(
    timeout=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-2, 10**6),
        st.none(),
        st.text(max_size=2),
    ),
    max_connections=st.one_of(st.none(), st.integers(-2, 300), st.booleans()),
)
def test_any_timeout_and_pool_limit_get_one_answer_from_both_classes(
    timeout: Any, max_connections: Any
) -> None:
    _same_outcome(timeout=timeout, max_connections=max_connections)


@pytest.mark.parametrize("cls", [CloudflareAIGatewayLLM, CloudflareAIGatewayEmbedding])
def test_threads_asking_for_a_new_client_at_once_share_one(cls: type[Any]) -> None:
    """After a connection field changes, threads that ask at once get one client between them,
    so no extra client (and its connection pool) is built and left open."""
    import sys
    import threading

    model = cls(account_id="0" * 32, api_key="sk-threads")
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch often, so their builds overlap
    try:
        _share_rounds(model)
    finally:
        sys.setswitchinterval(interval)


def _share_rounds(model: Any) -> None:
    import threading

    for round_number in range(20):
        model.gateway_id = f"gw-{round_number}"  # drops the client: the next use builds one
        barrier = threading.Barrier(8)
        seen: list[Any] = []

        def use() -> None:
            barrier.wait()
            seen.append(model.gateway)

        threads = [threading.Thread(target=use) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({id(gateway) for gateway in seen}) == 1, round_number
        assert seen[0].config.gateway_id == f"gw-{round_number}"
