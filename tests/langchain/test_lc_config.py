"""Construction tests: fields, environment defaults, validation, secrets and serialization."""

from __future__ import annotations

import pickle

import pytest
from langchain_core.load import dumpd, dumps, load, loads
from pydantic import SecretStr

from cf_ai_gateway import ConfigurationError, GatewayOptions
from langchain_cf_ai_gateway import ChatCloudflareAIGateway

from .conftest import ACCOUNT, API_KEY, TOKEN


def make(**kwargs: object) -> ChatCloudflareAIGateway:
    kwargs.setdefault("account_id", ACCOUNT)
    if "api_key" not in kwargs and "cf_aig_token" not in kwargs:
        kwargs["api_key"] = API_KEY
    return ChatCloudflareAIGateway(**kwargs)  # type: ignore[arg-type]


def test_defaults() -> None:
    model = make()
    assert model.model == model.model_name == "gpt-4o-mini"
    assert (model.gateway_id, model.provider, model.api) == ("default", "openai", "chat")
    assert model.stream_usage is True
    assert model.base_url is None
    assert model._llm_type == "cloudflare-ai-gateway-chat"


def test_aliases() -> None:
    model = make(model_name="gpt-4.1", max_completion_tokens=5, request_timeout=3.0)
    assert (model.model, model.max_tokens, model.timeout) == ("gpt-4.1", 5, 3.0)


def test_environment_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct-fallback")
    monkeypatch.setenv("CF_AIG_GATEWAY_ID", "gw-env")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("CF_AIG_TOKEN", "tok-env")
    monkeypatch.setenv("CF_AIG_BASE_URL", "http://127.0.0.1:9/v1")
    model = ChatCloudflareAIGateway(model="gpt-4o-mini")
    assert model.account_id == "acct-fallback"
    assert model.gateway_id == "gw-env"
    assert isinstance(model.api_key, SecretStr) and model.api_key.get_secret_value() == "sk-env"
    assert model.cf_aig_token is not None and model.cf_aig_token.get_secret_value() == "tok-env"
    assert model.base_url == "http://127.0.0.1:9/v1"
    monkeypatch.setenv("CF_ACCOUNT_ID", "acct-primary")
    assert ChatCloudflareAIGateway().account_id == "acct-primary"


def test_other_providers_never_get_the_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    monkeypatch.setenv("GROQ_API_KEY", "gsk-groq")
    model = make(provider="groq", api_key=None)
    assert model.api_key is not None and model.api_key.get_secret_value() == "gsk-groq"
    monkeypatch.delenv("GROQ_API_KEY")
    with pytest.raises(ConfigurationError, match="GROQ_API_KEY"):
        make(provider="groq", api_key=None)


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"account_id": None}, ["account_id", "CF_ACCOUNT_ID"]),
        ({"api_key": None}, ["api_key", "OPENAI_API_KEY", "CF_AIG_TOKEN"]),
        ({"auth_mode": "byok"}, ["cf_aig_token", "CF_AIG_TOKEN"]),
        ({"auth_mode": "authenticated"}, ["cf_aig_token", "CF_AIG_TOKEN"]),
        ({"gateway_id": "../evil"}, ["gateway_id", "CF_AIG_GATEWAY_ID"]),
        ({"base_url": "ftp://example.com"}, ["base_url", "CF_AIG_BASE_URL"]),
    ],
)
def test_bad_configuration_names_the_argument(kwargs: dict[str, object], names: list[str]) -> None:
    with pytest.raises(ConfigurationError) as info:
        make(**kwargs)
    for name in names:
        assert name in str(info.value)


def test_bad_gateway_options_are_rejected_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="max_attempts"):
        make(gateway_options={"max_attempts": 99})
    with pytest.raises(ConfigurationError, match="gateway_options"):
        make(gateway_options=["cache_ttl"])


def test_gateway_options_accept_the_dataclass() -> None:
    model = make(gateway_options=GatewayOptions(cache_ttl=120, skip_cache=True))
    assert model.gateway_options == {"cache_ttl": 120, "skip_cache": True}


def test_n_must_be_one() -> None:
    assert make(n=1).n == 1
    with pytest.raises(ConfigurationError, match="n must be 1"):
        make(n=2)


def test_unknown_kwargs_move_to_model_kwargs() -> None:
    with pytest.warns(UserWarning, match="logit_bias"):
        model = make(logit_bias={"1": 2})
    assert model.model_kwargs == {"logit_bias": {"1": 2}}


def test_langsmith_params() -> None:
    model = make(model="gpt-4.1", temperature=0.2, max_tokens=9, stop=["END"])
    assert model._get_ls_params() == {
        "ls_provider": "cloudflare-ai-gateway",
        "ls_model_name": "gpt-4.1",
        "ls_model_type": "chat",
        "ls_temperature": 0.2,
        "ls_max_tokens": 9,
        "ls_stop": ["END"],
    }
    assert model._get_ls_params(model="other", stop=["X"])["ls_model_name"] == "other"
    assert model._get_ls_params(stop=["X"])["ls_stop"] == ["X"]


def test_secrets_stay_secret() -> None:
    model = make(api_key=API_KEY, cf_aig_token=TOKEN, gateway_options={"metadata": {"user": "u1"}})
    texts = [
        repr(model),
        str(model),
        dumps(model),
        str(dumpd(model)),
        str(model._identifying_params),
        str(model._get_invocation_params()),
        str(model._get_ls_params()),
        str(model.asdict()),
        repr(model.gateway),
    ]
    for text in texts:
        assert API_KEY not in text and TOKEN not in text
    serialized = dumpd(model)
    assert serialized["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": ["OPENAI_API_KEY"]}
    assert serialized["kwargs"]["cf_aig_token"] == {"lc": 1, "type": "secret", "id": ["CF_AIG_TOKEN"]}
    assert model.lc_secrets == {"api_key": "OPENAI_API_KEY", "cf_aig_token": "CF_AIG_TOKEN"}


def test_errors_do_not_leak_secrets() -> None:
    with pytest.raises(ConfigurationError) as info:
        make(api_key=API_KEY, cf_aig_token=TOKEN, gateway_id="bad/id")
    assert API_KEY not in str(info.value) and TOKEN not in str(info.value)
    assert API_KEY not in repr(info.value)


def test_round_trip_through_load(monkeypatch: pytest.MonkeyPatch) -> None:
    model = make(model="gpt-4.1", api="responses", temperature=0.5, gateway_options={"cache_ttl": 60})
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    loaded = load(
        dumpd(model),
        valid_namespaces=["langchain_cf_ai_gateway"],
        allowed_objects=[ChatCloudflareAIGateway],
        secrets_from_env=True,
    )
    assert isinstance(loaded, ChatCloudflareAIGateway)
    assert loaded.asdict() == model.asdict()
    assert loaded.api == "responses" and loaded.gateway_options == {"cache_ttl": 60}
    assert loaded.api_key is not None and loaded.api_key.get_secret_value() == API_KEY


def test_gateway_client_is_lazy_and_cached() -> None:
    model = make()
    assert model._gateway is None
    assert model.gateway is model.gateway
    assert model.gateway.config.account_id == ACCOUNT


def test_pickles_without_the_client() -> None:
    model = make(api_key=API_KEY)
    clone = pickle.loads(pickle.dumps(model))
    assert clone.model == model.model


def test_deep_copies_do_not_share_or_copy_the_client() -> None:
    import copy

    model = make()
    client = model.gateway
    clone = copy.deepcopy(model)
    assert clone._gateway is None
    assert clone.gateway is not client
    assert model.model_copy().gateway is client


def test_model_copy_with_new_settings_gets_its_own_checked_client() -> None:
    model = make(gateway_options={"cache_ttl": 60})
    client = model.gateway
    same = model.model_copy()
    assert same.gateway is client
    other = model.model_copy(update={"gateway_id": "other", "gateway_options": {"cache_ttl": 90}})
    assert other.gateway is not client
    assert other.gateway.config.gateway_id == "other"
    assert other.gateway.options.to_dict() == {"cache_ttl": 90}
    assert model.gateway.config.gateway_id == "default"
    with pytest.raises(ConfigurationError, match="gateway_id"):
        model.model_copy(update={"gateway_id": "bad/id"})


@pytest.mark.parametrize(
    ("provider", "key_env"),
    [("openai", "OPENAI_API_KEY"), ("groq", "GROQ_API_KEY"), ("custom-mine", "CF_AIG_PROVIDER_API_KEY")],
)
def test_serialized_key_names_the_providers_own_variable(
    monkeypatch: pytest.MonkeyPatch, provider: str, key_env: str
) -> None:
    model = make(provider=provider)
    assert model.lc_secrets["api_key"] == key_env
    assert dumpd(model)["kwargs"]["api_key"] == {"lc": 1, "type": "secret", "id": [key_env]}
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-must-not-travel")
    monkeypatch.setenv(key_env, "key-for-" + provider)
    loaded = loads(
        dumps(model),
        valid_namespaces=["langchain_cf_ai_gateway"],
        allowed_objects=[ChatCloudflareAIGateway],
        secrets_from_env=True,
    )
    assert loaded.provider == provider
    assert loaded.api_key is not None and loaded.api_key.get_secret_value() == "key-for-" + provider


def test_loading_a_groq_model_without_its_key_never_falls_back_to_openai(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = dumps(make(provider="groq"))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-must-not-travel")
    with pytest.raises(ConfigurationError, match="GROQ_API_KEY"):
        loads(
            text,
            valid_namespaces=["langchain_cf_ai_gateway"],
            allowed_objects=[ChatCloudflareAIGateway],
            secrets_from_env=True,
        )
