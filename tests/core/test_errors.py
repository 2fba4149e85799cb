"""Error envelopes to typed errors: gateway codes, provider pass-through, pickling, secrets."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from cf_ai_gateway import (
    GatewayAuthenticationError,
    GatewayBadRequestError,
    GatewayContentBlockedError,
    GatewayError,
    GatewayNotFoundError,
    GatewayPaymentRequiredError,
    GatewayRateLimitError,
    ProviderError,
    SpendLimitError,
)

from .conftest import API_KEY, TOKEN
from .testserver import Reply, TestServer


def envelope(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "success": False, "result": [], "messages": [],
        "error": [{"code": code, "message": message}],
        "name": "AiGatewayError", "httpCode": status, "internalCode": code, "message": message,
    }


CASES = [
    (401, 2009, "Unauthorized", GatewayAuthenticationError),
    (400, 2001, "Please configure AI Gateway in the Cloudflare dashboard", GatewayNotFoundError),
    (429, 2003, "Rate limited", GatewayRateLimitError),
    (400, 2016, "Prompt blocked due to security configurations", GatewayContentBlockedError),
    (400, 2017, "Response blocked due to security configurations", GatewayContentBlockedError),
    (402, 2021, "Insufficient balance; add money to your gateway or use BYOK", GatewayPaymentRequiredError),
    (400, 2029, "Request content blocked due to DLP policy violations", GatewayContentBlockedError),
    (400, 2040, "Provider 'openai' has no BYOK credential named 'x'. Configured aliases: 'default'", GatewayBadRequestError),
    (400, 2008, "Invalid provider", GatewayNotFoundError),
    (429, 2045, "Spend limit exceeded", SpendLimitError),
]


@pytest.mark.parametrize(("status", "code", "message", "cls"), CASES)
def test_gateway_envelopes(
    make_gateway: Any, server: TestServer, status: int, code: int, message: str, cls: type[GatewayError]
) -> None:
    gw = make_gateway(max_retries=0, cf_aig_token=TOKEN)
    server.queue(Reply(status=status, body=envelope(code, message, status), headers={"cf-aig-log-id": "01JLOG"}))
    with pytest.raises(cls) as err:
        gw.create("chat/completions", {"model": "m"})
    e = err.value
    assert (e.status_code, e.code, e.log_id) == (status, code, "01JLOG")
    assert message in str(e)
    assert not isinstance(e, ProviderError)
    assert e.info.log_id == "01JLOG"
    copy = pickle.loads(pickle.dumps(e))
    assert type(copy) is cls and (copy.status_code, copy.code, copy.log_id) == (status, code, "01JLOG")
    assert str(copy) == str(e)


def test_minimal_envelope_without_name(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(status=400, body={"success": False, "result": [], "messages": [],
                                         "error": [{"code": 2001, "message": "Please configure"}]}))
    with pytest.raises(GatewayNotFoundError):
        make_gateway(max_retries=0).create("chat/completions", {})


def test_cloudflare_api_plural_errors_envelope(make_gateway: Any, server: TestServer) -> None:
    body = {"result": None, "success": False, "errors": [{"code": 10000, "message": "Authentication error"}], "messages": []}
    server.queue(Reply(status=401, body=body))
    with pytest.raises(GatewayAuthenticationError) as err:
        make_gateway(max_retries=0).create("chat/completions", {})
    assert err.value.code == 10000


def test_provider_401_is_not_a_gateway_auth_error(make_gateway: Any, server: TestServer) -> None:
    body = {"error": {"message": "Incorrect API key provided: sk-test-***6789.", "type": "invalid_request_error",
                      "param": None, "code": "invalid_api_key"}}
    server.queue(Reply(status=401, body=body, headers={"cf-aig-log-id": "L2"}))
    with pytest.raises(ProviderError) as err:
        make_gateway(max_retries=0).create("chat/completions", {})
    e = err.value
    assert not isinstance(e, GatewayAuthenticationError)
    assert e.status_code == 401 and e.code is None and e.log_id == "L2"
    assert e.provider_code == "invalid_api_key" and e.provider_type == "invalid_request_error"


def test_provider_429_is_a_rate_limit_error(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(status=429, body={"error": {"message": "Rate limit reached", "type": "requests"}},
                       headers={"retry-after": "7"}))
    with pytest.raises(GatewayRateLimitError) as err:
        make_gateway(max_retries=0).create("chat/completions", {})
    assert err.value.retry_after == 7.0 and err.value.code is None


def test_secrets_never_appear_in_errors(make_gateway: Any, server: TestServer) -> None:
    leaked = {"error": {"message": f"bad key {API_KEY} and Bearer {TOKEN}", "type": "x"}}
    server.queue(Reply(status=400, body=leaked))
    gw = make_gateway(max_retries=0, api_key=API_KEY, cf_aig_token=TOKEN)
    with pytest.raises(ProviderError) as err:
        gw.create("chat/completions", {})
    e = err.value
    for text in (str(e), repr(e), str(e.body), str(e.args), str(pickle.dumps(e))):
        assert API_KEY not in text and TOKEN not in text


def test_retry_after_http_date(make_gateway: Any, server: TestServer) -> None:
    server.queue(Reply(status=503, body={"error": {"message": "busy"}}, headers={"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    with pytest.raises(ProviderError) as err:
        make_gateway(max_retries=0).create("chat/completions", {})
    assert err.value.retry_after == 0.0
