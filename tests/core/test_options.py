"""GatewayOptions: documented limits, header encoding, merging and env parsing."""

from __future__ import annotations

import json

import pytest

from cf_ai_gateway import ConfigurationError, GatewayOptions
from cf_ai_gateway.options import MAX_CACHE_TTL


def test_every_field_maps_to_its_documented_header() -> None:
    opts = GatewayOptions(
        cache_ttl=3600, skip_cache=True, cache_key="k1", metadata={"team": "AI", "user": 12345, "test": True},
        collect_log=False, collect_log_payload=False, event_id="evt-1", request_timeout_ms=1500,
        max_attempts=3, retry_delay_ms=200, backoff="exponential",
        custom_cost={"per_token_in": 0.000001, "per_token_out": 0.000002},
        byok_alias="prod", zdr=True, no_wholesale=True,
    )
    assert opts.to_headers() == {
        "cf-aig-cache-ttl": "3600",
        "cf-aig-skip-cache": "true",
        "cf-aig-cache-key": "k1",
        "cf-aig-metadata": '{"team":"AI","user":12345,"test":true}',
        "cf-aig-collect-log": "false",
        "cf-aig-collect-log-payload": "false",
        "cf-aig-event-id": "evt-1",
        "cf-aig-request-timeout": "1500",
        "cf-aig-max-attempts": "3",
        "cf-aig-retry-delay": "200",
        "cf-aig-backoff": "exponential",
        "cf-aig-custom-cost": '{"per_token_in":1e-06,"per_token_out":2e-06}',
        "cf-aig-byok-alias": "prod",
        "cf-aig-zdr": "true",
        "cf-aig-no-wholesale": "true",
    }
    assert json.loads(opts.to_headers()["cf-aig-custom-cost"]) == {"per_token_in": 1e-06, "per_token_out": 2e-06}


def test_never_sends_deprecated_headers() -> None:
    headers = GatewayOptions(cache_ttl=60, skip_cache=True).to_headers()
    assert "cf-cache-ttl" not in headers and "cf-skip-cache" not in headers


def test_empty_options_send_nothing() -> None:
    assert GatewayOptions().to_headers() == {}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"cache_ttl": 59}, "cache_ttl"),
        ({"cache_ttl": 0}, "cache_ttl"),
        ({"cache_ttl": MAX_CACHE_TTL + 1}, "cache_ttl"),
        ({"cache_ttl": "60"}, "cache_ttl"),
        ({"cache_ttl": True}, "cache_ttl"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": 6}, "max_attempts"),
        ({"retry_delay_ms": 5001}, "retry_delay_ms"),
        ({"retry_delay_ms": -1}, "retry_delay_ms"),
        ({"request_timeout_ms": 0}, "request_timeout_ms"),
        ({"backoff": "random"}, "backoff"),
        ({"skip_cache": "yes"}, "skip_cache"),
        ({"metadata": {f"k{i}": i for i in range(6)}}, "metadata"),
        ({"metadata": {"a": None}}, "metadata"),
        ({"metadata": {"a": {"nested": 1}}}, "metadata"),
        ({"metadata": {"a": [1, 2]}}, "metadata"),
        ({"metadata": {"cf.user_id": "x"}}, "metadata"),
        ({"metadata": {"a": float("nan")}}, "metadata"),
        ({"metadata": {}}, "metadata"),
        ({"custom_cost": {"per_token": 1}}, "custom_cost"),
        ({"custom_cost": {"per_token_in": -1}}, "custom_cost"),
        ({"custom_cost": {"per_token_in": "1"}}, "custom_cost"),
        ({"cache_key": "a\r\nX-Injected: 1"}, "cache_key"),
        ({"event_id": "a\nb"}, "event_id"),
        ({"byok_alias": "a\rb"}, "byok_alias"),
        ({"cache_key": ""}, "cache_key"),
        ({"event_id": "caf\u00e9"}, "event_id"),
    ],
)
def test_out_of_range_options_name_argument_and_env_var(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        GatewayOptions(**kwargs)  # type: ignore[arg-type]
    text = str(err.value)
    assert f"gateway_options.{field}" in text
    assert f"CF_AIG_{field.upper()}" in text


def test_boundaries_are_accepted() -> None:
    GatewayOptions(cache_ttl=60, max_attempts=1, retry_delay_ms=0, metadata={f"k{i}": i for i in range(5)})
    GatewayOptions(cache_ttl=MAX_CACHE_TTL, max_attempts=5, retry_delay_ms=5000)


def test_merge_is_field_by_field_and_the_call_wins() -> None:
    client = GatewayOptions(cache_ttl=120, metadata={"app": "x"}, collect_log=True)
    call = GatewayOptions(cache_ttl=300, skip_cache=True)
    merged = client.merge(call)
    assert merged.to_headers() == {
        "cf-aig-cache-ttl": "300",
        "cf-aig-skip-cache": "true",
        "cf-aig-metadata": '{"app":"x"}',
        "cf-aig-collect-log": "true",
    }
    assert client.merge({"collect_log": False}).collect_log is False
    assert client.merge(None) is client


def test_dict_coercion_rejects_unknown_fields() -> None:
    with pytest.raises(ConfigurationError, match="cache_tll"):
        GatewayOptions.coerce({"cache_tll": 60})
    assert GatewayOptions.coerce({"cache_ttl": 60}).cache_ttl == 60


def test_from_env() -> None:
    env = {
        "CF_AIG_CACHE_TTL": "600",
        "CF_AIG_SKIP_CACHE": "false",
        "CF_AIG_METADATA": '{"team":"ml"}',
        "CF_AIG_ALLOWED_MODELS": "openai/*, anthropic/*",
    }
    opts = GatewayOptions.from_env(env)
    assert opts.to_headers() == {
        "cf-aig-cache-ttl": "600",
        "cf-aig-skip-cache": "false",
        "cf-aig-metadata": '{"team":"ml"}',
        "cf-aig-allowed-models": "openai/*,anthropic/*",
    }
    with pytest.raises(ConfigurationError, match="CF_AIG_MAX_ATTEMPTS"):
        GatewayOptions.from_env({"CF_AIG_MAX_ATTEMPTS": "lots"})
