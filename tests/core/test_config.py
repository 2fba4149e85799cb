"""Config resolution: env defaults, auth-mode inference, id checks and URL building."""

from __future__ import annotations

import pytest

from cf_ai_gateway import ConfigurationError, Gateway, GatewayConfig

from .conftest import API_KEY, TOKEN
from .testserver import TestServer


def test_url_shape_for_provider_native_route() -> None:
    cfg = GatewayConfig.resolve(account_id="acct", api_key=API_KEY)
    assert cfg.url("chat/completions") == (
        "https://gateway.ai.cloudflare.com/v1/acct/default/openai/chat/completions"
    )
    assert cfg.url("responses") == "https://gateway.ai.cloudflare.com/v1/acct/default/openai/responses"
    assert cfg.url("embeddings").endswith("/acct/default/openai/embeddings")


@pytest.mark.parametrize(
    "base_url",
    [
        "https://gateway.ai.cloudflare.com/v1/",
        "https://gateway.ai.cloudflare.com/v1",
        "https://gateway.ai.cloudflare.com/v1/v1",
        "https://gateway.ai.cloudflare.com",
    ],
)
def test_base_url_forms_never_double_v1(base_url: str) -> None:
    cfg = GatewayConfig.resolve(account_id="a1", gateway_id="gw", api_key=API_KEY, base_url=base_url)
    url = cfg.url("chat/completions")
    assert url == "https://gateway.ai.cloudflare.com/v1/a1/gw/openai/chat/completions"
    assert "/v1/v1" not in url and "//a1" not in url


def test_env_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "fromenv")
    monkeypatch.setenv("CF_AIG_GATEWAY_ID", "my-gw")
    monkeypatch.setenv("CF_AIG_TOKEN", TOKEN)
    cfg = GatewayConfig.resolve()
    assert (cfg.account_id, cfg.gateway_id, cfg.auth_mode) == ("fromenv", "my-gw", "byok")
    monkeypatch.setenv("CF_ACCOUNT_ID", "primary")
    assert GatewayConfig.resolve().account_id == "primary"


@pytest.mark.parametrize(
    ("key", "token", "mode"),
    [(API_KEY, TOKEN, "authenticated"), (API_KEY, None, "unauthenticated"), (None, TOKEN, "byok")],
)
def test_auth_mode_inferred(key: str | None, token: str | None, mode: str) -> None:
    cfg = GatewayConfig.resolve(account_id="a", api_key=key, cf_aig_token=token)
    assert cfg.auth_mode == mode


def test_unified_billing_is_an_alias_of_byok() -> None:
    cfg = GatewayConfig.resolve(
        account_id="a", api_key=API_KEY, cf_aig_token=TOKEN, auth_mode="unified_billing"
    )
    assert cfg.auth_mode == "byok"
    assert cfg.api_key is None  # never sent in byok mode


def test_missing_credentials_names_arguments_and_env_vars() -> None:
    with pytest.raises(ConfigurationError) as err:
        GatewayConfig.resolve(account_id="a")
    text = str(err.value)
    for word in ("api_key", "OPENAI_API_KEY", "cf_aig_token", "CF_AIG_TOKEN"):
        assert word in text


def test_missing_account_names_argument_and_env_var() -> None:
    with pytest.raises(ConfigurationError, match=r"account_id.*CF_ACCOUNT_ID"):
        GatewayConfig.resolve(api_key=API_KEY)


@pytest.mark.parametrize(
    ("mode", "kwargs", "needs"),
    [
        ("authenticated", {"api_key": API_KEY}, "CF_AIG_TOKEN"),
        ("authenticated", {"cf_aig_token": TOKEN}, "OPENAI_API_KEY"),
        ("unauthenticated", {"cf_aig_token": TOKEN}, "OPENAI_API_KEY"),
        ("byok", {"api_key": API_KEY}, "CF_AIG_TOKEN"),
    ],
)
def test_requested_mode_without_its_secret(mode: str, kwargs: dict[str, str], needs: str) -> None:
    with pytest.raises(ConfigurationError, match=needs):
        GatewayConfig.resolve(account_id="a", auth_mode=mode, **kwargs)


def test_unknown_auth_mode() -> None:
    with pytest.raises(ConfigurationError, match="auth_mode"):
        GatewayConfig.resolve(account_id="a", api_key=API_KEY, auth_mode="magic")


BAD_IDS = ["a/b", "..", "a/../b", "a?x=1", "a#frag", "a b", "a\r\nb", "a\tb", "", "a%2fb", "a.b/c", "évil"]


@pytest.mark.parametrize("bad", BAD_IDS)
@pytest.mark.parametrize(("field", "env"), [("account_id", "CF_ACCOUNT_ID"), ("gateway_id", "CF_AIG_GATEWAY_ID")])
def test_ids_that_would_change_the_url_are_rejected_before_sending(
    bad: str, field: str, env: str, server: TestServer
) -> None:
    kwargs = {"account_id": "acct", "gateway_id": "gw", field: bad}
    if bad == "" and field == "gateway_id":
        # empty gateway id falls back to "default"
        cfg = GatewayConfig.resolve(api_key=API_KEY, base_url=server.base_url, **kwargs)
        assert cfg.gateway_id == "default"
        return
    with pytest.raises(ConfigurationError) as err:
        Gateway(api_key=API_KEY, base_url=server.base_url, **kwargs)
    assert field in str(err.value)
    if bad:
        assert env in str(err.value)
    assert server.requests == []


@pytest.mark.parametrize("bad", ["Open/AI", "openai/../x", "open ai", "openai?x", "", "OPENAI\n"])
def test_bad_provider_slug(bad: str) -> None:
    if bad == "":
        assert GatewayConfig.resolve(account_id="a", api_key=API_KEY, provider=bad).provider == "openai"
        return
    with pytest.raises(ConfigurationError, match="provider"):
        GatewayConfig.resolve(account_id="a", api_key=API_KEY, provider=bad)


@pytest.mark.parametrize(
    "bad",
    [
        "ftp://x/v1",
        "gateway.ai.cloudflare.com/v1",
        "https://gateway.ai.cloudflare.com/v1?x=1",
        "https://gateway.ai.cloudflare.com/v1#f",
        "https://user:pw@gateway.ai.cloudflare.com/v1",
        "https://gateway.ai.cloudflare.com/v1/acct/gw/openai/chat/completions",
        "https://gateway.ai.cloudflare.com/v1\r\nX: y",
    ],
)
def test_bad_base_url(bad: str) -> None:
    with pytest.raises(ConfigurationError, match=r"base_url.*CF_AIG_BASE_URL"):
        GatewayConfig.resolve(account_id="a", api_key=API_KEY, base_url=bad)


@pytest.mark.parametrize("bad", ["sk-abc\r\nX-Evil: 1", "sk-abc\n", " sk-abc", "sk-\x00abc"])
def test_secret_with_crlf_is_rejected_without_echoing_it(bad: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        GatewayConfig.resolve(account_id="a", api_key=bad)
    assert "api_key" in str(err.value) and "OPENAI_API_KEY" in str(err.value)
    assert "abc" not in str(err.value)


@pytest.mark.parametrize("endpoint", ["../x", "/abs", "a//b", "a?b", "a#b", "a b", "a/./b", ""])
def test_bad_endpoint_paths(endpoint: str) -> None:
    cfg = GatewayConfig.resolve(account_id="a", api_key=API_KEY)
    with pytest.raises(ConfigurationError, match="endpoint"):
        cfg.url(endpoint)


def test_repr_and_describe_hide_secrets() -> None:
    cfg = GatewayConfig.resolve(account_id="a", api_key=API_KEY, cf_aig_token=TOKEN)
    gw = Gateway(config=cfg)
    for text in (repr(cfg), str(cfg), repr(gw), str(gw), repr(cfg.api_key), str(cfg.describe())):
        assert API_KEY not in text and TOKEN not in text
    assert cfg.describe()["auth_mode"] == "authenticated"


def test_default_headers_cannot_smuggle_auth() -> None:
    with pytest.raises(ConfigurationError, match="default_headers"):
        GatewayConfig.resolve(account_id="a", api_key=API_KEY, default_headers={"Authorization": "x"})
    with pytest.raises(ConfigurationError, match="default_headers"):
        GatewayConfig.resolve(account_id="a", api_key=API_KEY, default_headers={"x-a": "b\r\nc: d"})


@pytest.mark.parametrize("bad", ["Bearer sk-abcdef123", "sk-abc def", "bearer tok123456"])
def test_secret_with_bearer_prefix_or_inner_space(bad: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        GatewayConfig.resolve(account_id="a", cf_aig_token=bad)
    assert "cf_aig_token" in str(err.value) and "CF_AIG_TOKEN" in str(err.value)
    assert bad not in str(err.value)


@pytest.mark.parametrize(
    "route",
    [
        "https://gateway.ai.cloudflare.com/v1/acct/default/openai",
        "http://127.0.0.1:8787/v1/acct/gw/compat/",
        "https://gateway.ai.cloudflare.com/v1/acct/gw/custom-acme",
    ],
)
def test_provider_route_given_as_base_url_is_explained(route: str) -> None:
    with pytest.raises(ConfigurationError, match="provider route"):
        GatewayConfig.resolve(account_id="a", api_key=API_KEY, base_url=route)


def test_describe_masks_secrets_and_names_the_endpoint() -> None:
    cfg = GatewayConfig.resolve(account_id="a", api_key=API_KEY, cf_aig_token="short-tok")
    described = cfg.describe("responses")
    assert described["url"].endswith("/a/default/openai/responses")
    assert described["api_key"] == "***" + API_KEY[-4:]
    assert described["cf_aig_token"] == "***"
