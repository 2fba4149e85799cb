"""Construction of ``CloudflareAIGatewayLLM``: environment defaults, checks, metadata and secrets.

Nothing here sends a request: bad input must fail at construction with a
``ConfigurationError`` that names the argument (and its environment variable), and secrets must
stay out of ``repr``, ``to_dict()``, ``to_json()``, pickles' readable state and error messages.
"""

from __future__ import annotations

import json
import pickle

import pytest
from llama_index.core.bridge.pydantic import SecretStr
from llama_index.core.llms.function_calling import FunctionCallingLLM

from cf_ai_gateway import ConfigurationError
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM

KEY = "sk-test-secret-key-1234567890"
TOKEN = "cfaig-secret-token-abcdef123456"
ENV_NAMES = (
    "CF_ACCOUNT_ID",
    "CLOUDFLARE_ACCOUNT_ID",
    "CF_AIG_GATEWAY_ID",
    "CF_AIG_TOKEN",
    "CF_AIG_BASE_URL",
    "OPENAI_API_KEY",
    "GROQ_API_KEY",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def make(**kwargs: object) -> CloudflareAIGatewayLLM:
    base: dict[str, object] = {"model": "gpt-4o-mini", "account_id": "acct123", "api_key": KEY}
    base.update(kwargs)
    return CloudflareAIGatewayLLM(**base)  # type: ignore[arg-type]


def test_is_function_calling_llm_with_defaults() -> None:
    llm = make()
    assert isinstance(llm, FunctionCallingLLM)
    assert llm.api == "chat"
    assert llm.gateway_id == "default"
    assert llm.provider == "openai"
    assert llm.base_url == "https://gateway.ai.cloudflare.com/v1"
    assert llm.gateway.config.auth_mode == "unauthenticated"
    assert llm.gateway.url("chat/completions") == (
        "https://gateway.ai.cloudflare.com/v1/acct123/default/openai/chat/completions"
    )


def test_environment_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "envacct")
    monkeypatch.setenv("CF_AIG_GATEWAY_ID", "my-gw")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN)
    monkeypatch.setenv("CF_AIG_BASE_URL", "http://127.0.0.1:9/v1")
    llm = CloudflareAIGatewayLLM(model="gpt-4o-mini", api="responses")
    assert llm.account_id == "envacct"
    assert llm.gateway_id == "my-gw"
    assert llm.api_key is not None and llm.api_key.get_secret_value() == KEY
    assert llm.cf_aig_token is not None and llm.cf_aig_token.get_secret_value() == TOKEN
    assert llm.gateway.config.auth_mode == "authenticated"
    assert llm.gateway.url("responses") == "http://127.0.0.1:9/v1/envacct/my-gw/openai/responses"
    # CF_ACCOUNT_ID wins over CLOUDFLARE_ACCOUNT_ID; explicit arguments win over both.
    monkeypatch.setenv("CF_ACCOUNT_ID", "primary")
    assert CloudflareAIGatewayLLM(model="m").account_id == "primary"
    assert CloudflareAIGatewayLLM(model="m", account_id="explicit").account_id == "explicit"


def test_byok_mode_needs_only_the_gateway_token() -> None:
    llm = CloudflareAIGatewayLLM(model="gpt-4o-mini", account_id="acct", cf_aig_token=TOKEN)
    assert llm.gateway.config.auth_mode == "byok"
    llm = make(cf_aig_token=TOKEN, auth_mode="unified_billing")
    assert llm.gateway.config.auth_mode == "byok"


def test_other_provider_reads_its_own_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", KEY)
    llm = CloudflareAIGatewayLLM(model="llama-3.1-8b-instant", account_id="a", provider="groq")
    assert llm.gateway.url("chat/completions").endswith("/a/default/groq/chat/completions")


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"account_id": None}, ("account_id", "CF_ACCOUNT_ID")),
        ({"api_key": None}, ("api_key", "OPENAI_API_KEY")),
        ({"model": ""}, ("model",)),
        ({"api": "completions"}, ("api",)),
        ({"account_id": "../evil"}, ("account_id",)),
        ({"gateway_id": "gw/../x"}, ("gateway_id",)),
        ({"temperature": 3.5}, ("temperature",)),
        ({"max_tokens": 0}, ("max_tokens",)),
        ({"timeout": -1}, ("timeout",)),
        ({"max_retries": -1}, ("max_retries",)),
        ({"gateway_options": {"cache_ttl": 5}}, ("cache_ttl",)),
        ({"gateway_options": {"no_such_option": 1}}, ("gateway_options",)),
        ({"auth_mode": "byok"}, ("cf_aig_token",)),
        ({"seed": "not-a-number"}, ("seed",)),
        ({"api_key": 12345}, ("api_key",)),
        ({"temprature": 0.5}, ("temprature",)),
        ({"api_base": "https://x"}, ("api_base", "base_url")),
        ({"base_url": 5}, ("base_url", "CF_AIG_BASE_URL")),
        ({"base_url": b"https://x"}, ("base_url", "CF_AIG_BASE_URL")),
        ({"default_headers": 5}, ("default_headers",)),
        ({"default_headers": {"x-team": 5}}, ("default_headers",)),
        ({"timeout": "soon"}, ("timeout",)),
        ({"stop": 5}, ("stop",)),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, object], names: tuple[str, ...]) -> None:
    with pytest.raises(ConfigurationError) as info:
        make(**kwargs)
    message = str(info.value)
    for name in names:
        assert name in message
    assert KEY not in message
    assert "soon" not in message and "https://x" not in message.replace("api_base", "")


def test_model_defaults_to_gpt_4o_mini() -> None:
    llm = CloudflareAIGatewayLLM(account_id="acct", api_key=KEY)
    assert llm.model == "gpt-4o-mini"


def test_configuration_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        make(model="")


def test_secrets_stay_out_of_repr_and_serialisation() -> None:
    llm = make(cf_aig_token=TOKEN, gateway_options={"cache_ttl": 3600})
    for text in (repr(llm), str(llm), llm.to_json(), json.dumps(llm.to_dict()), repr(llm.gateway)):
        assert KEY not in text
        assert TOKEN not in text
    data = llm.to_dict()
    assert "api_key" not in data and "cf_aig_token" not in data
    assert data["gateway_options"] == {"cache_ttl": 3600}
    assert data["class_name"] == "CloudflareAIGatewayLLM"
    assert KEY not in json.dumps(llm.to_payload())


def test_round_trip_from_dict_uses_the_environment_for_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = make(model="gpt-4o", temperature=0.3).to_dict()
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    again = CloudflareAIGatewayLLM.from_dict(data)
    assert again.model == "gpt-4o" and again.temperature == 0.3
    assert again.api_key is not None and again.api_key.get_secret_value() == KEY


def test_pickles_without_its_connection_pool() -> None:
    llm = make(cf_aig_token=TOKEN)
    _ = llm.gateway
    again = pickle.loads(pickle.dumps(llm))
    assert again.model == llm.model
    assert again.gateway.config.auth_mode == "authenticated"


def test_changing_a_connection_field_rebuilds_the_client() -> None:
    llm = make()
    first = llm.gateway
    llm.gateway_id = "other"
    assert llm.gateway is not first
    assert "/acct123/other/openai/" in llm.gateway.url("chat/completions")
    llm.api_key = "sk-replaced-key-000000"  # type: ignore[assignment]
    assert isinstance(llm.api_key, SecretStr)
    assert "sk-replaced" not in repr(llm)


@pytest.mark.parametrize(
    ("model", "window", "output"),
    [
        ("gpt-4o-mini", 128000, 16384),
        ("gpt-4o-2024-08-06", 128000, 16384),
        ("gpt-4.1-nano", 1047576, 32768),
        ("o3-mini", 200000, 100000),
        ("gpt-5", 400000, 128000),
        ("ft:gpt-4o-mini:org::abc", 128000, 16384),
        ("openai/gpt-4o", 128000, 16384),
        ("llama-3.1-8b-instant", 131072, 8192),
        ("a-model-nobody-knows", 3900, 256),
    ],
)
def test_metadata(model: str, window: int, output: int) -> None:
    metadata = make(model=model).metadata
    assert metadata.is_chat_model and metadata.is_function_calling_model
    assert metadata.model_name == model
    assert (metadata.context_window, metadata.num_output) == (window, output)


def test_metadata_overrides() -> None:
    llm = make(model="unknown-model", context_window=32000, max_tokens=1000)
    assert (llm.metadata.context_window, llm.metadata.num_output) == (32000, 1000)
    llm.max_tokens = 2000
    assert llm.metadata.num_output == 2000


def test_entry_point_is_registered() -> None:
    from importlib.metadata import entry_points

    (point,) = [p for p in entry_points(group="cf_ai_gateway.adapters") if p.name == "llama_index"]
    assert point.load() is CloudflareAIGatewayLLM


def test_namespace_package_layout() -> None:
    import llama_index
    import llama_index.llms

    assert getattr(llama_index, "__file__", None) is None
    assert getattr(llama_index.llms, "__file__", None) is None
