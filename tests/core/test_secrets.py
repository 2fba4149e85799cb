"""No key or token in any repr, str, log line or exception of the core."""

from __future__ import annotations

import logging
import pickle
from typing import Any

import pytest

from cf_ai_gateway import Gateway, GatewayError, GatewayOptions

from .conftest import API_KEY, TOKEN
from .testserver import Reply, TestServer


def test_log_lines_never_hold_secrets(
    make_gateway: Any, server: TestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    gw = make_gateway(api_key=API_KEY, cf_aig_token=TOKEN, max_retries=2)
    server.queue(
        Reply(status=429, body={"error": {"message": f"slow down {API_KEY}"}}, headers={"retry-after": "0"}),
        Reply(status=500, body=f"oops Bearer {TOKEN}"),
    )
    assert gw.create("chat/completions", {"model": "m"}).body == {"ok": True}
    assert len(server.requests) == 3
    retry_lines = [r for r in caplog.records if r.name == "cf_ai_gateway"]
    assert len(retry_lines) == 2  # one line per retry
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert API_KEY not in text and TOKEN not in text
    # the secrets did go on the wire, in the right headers
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_objects_never_show_secrets() -> None:
    gw = Gateway(account_id="a", api_key=API_KEY, cf_aig_token=TOKEN, cf_api_token="cf-api-secret-999",
                 gateway_options=GatewayOptions(metadata={"user": "u1"}))
    objs = [gw, gw.config, gw.transport.auth, gw.config.api_key, gw.config.cf_aig_token, gw.options,
            gw.config.describe()]
    for obj in objs:
        for text in (repr(obj), str(obj)):
            assert API_KEY not in text and TOKEN not in text and "cf-api-secret-999" not in text


def test_error_from_unreachable_gateway_has_no_secret() -> None:
    gw = Gateway(account_id="a", api_key=API_KEY, cf_aig_token=TOKEN,
                 base_url="http://127.0.0.1:9/v1", max_retries=0)
    with pytest.raises(GatewayError) as err:
        gw.create("chat/completions", {})
    e = err.value
    for text in (str(e), repr(e), str(e.__cause__), str(pickle.dumps(e))):
        assert API_KEY not in text and TOKEN not in text
