"""Gateway-side retries: cf-aig-max-attempts, cf-aig-retry-delay, cf-aig-backoff and the gateway's defaults."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cf_ai_gateway.emulator import Emulator

from .features_helpers import authenticated, call


def test_two_upstream_failures_then_success_on_the_third_attempt(emulator: Emulator) -> None:
    authenticated(emulator)
    emulator.fault(503, times=2)
    reply = call(emulator, headers={"cf-aig-max-attempts": "3"})
    assert reply.status_code == 200 and reply.json()["object"] == "chat.completion"
    assert reply.headers["cf-aig-step"] == "2"
    entry = emulator.log(reply.headers["cf-aig-log-id"])
    assert entry is not None and (entry.attempts, entry.step, entry.success) == (3, 2, True)
    assert entry.to_api()["step"] == 2  # the logs API's documented field; attempts stay on the entry


def test_without_retries_an_upstream_failure_is_passed_through(emulator: Emulator) -> None:
    authenticated(emulator)
    emulator.fault(503, times=2)
    reply = call(emulator)
    assert reply.status_code == 503 and reply.headers["cf-aig-step"] == "0"
    assert emulator.logs[-1].attempts == 1
    assert emulator.settings.retry_max_attempts == 1


def test_the_gateway_default_retries_and_a_header_overrides_it(emulator: Emulator) -> None:
    authenticated(emulator, retry_max_attempts=2)
    emulator.fault(500)
    assert call(emulator).status_code == 200 and emulator.logs[-1].attempts == 2
    emulator.fault(500)
    assert call(emulator, headers={"cf-aig-max-attempts": "1"}).status_code == 500


def test_attempts_are_capped_at_five(emulator: Emulator) -> None:
    authenticated(emulator)
    emulator.fault(502, times=10)
    reply = call(emulator, headers={"cf-aig-max-attempts": "9"})
    assert reply.status_code == 502 and emulator.logs[-1].attempts == 5
    assert emulator.requests and reply.headers["cf-aig-step"] == "4"


def test_a_gateway_error_is_not_retried(emulator: Emulator) -> None:
    authenticated(emulator)
    emulator.fault(code=2003, times=3)
    reply = call(emulator, headers={"cf-aig-max-attempts": "3"})
    assert reply.status_code == 429 and emulator.logs[-1].attempts == 1


def test_a_request_timeout_is_retried(emulator: Emulator) -> None:
    authenticated(emulator)
    emulator.fault(delay=0.3)
    reply = call(emulator, headers={"cf-aig-max-attempts": "2", "cf-aig-request-timeout": "20"})
    assert reply.status_code == 200 and reply.headers["cf-aig-step"] == "1"


@pytest.mark.parametrize(("backoff", "waited"), [("constant", 3000), ("linear", 6000), ("exponential", 7000)])
def test_backoff_waits_on_the_emulator_clock(make_emulator: Callable[..., Emulator], backoff: str,
                                             waited: int) -> None:
    emu = authenticated(make_emulator(clock=lambda: 1_000_000.0))
    emu.fault(503, times=3)
    reply = call(emu, headers={"cf-aig-max-attempts": "4", "cf-aig-retry-delay": "1000", "cf-aig-backoff": backoff})
    assert reply.status_code == 200
    assert emu.now() == 1_000_000.0 + waited / 1000
    assert emu.logs[-1].duration_ms >= waited


def test_the_header_delay_is_capped_at_five_seconds(make_emulator: Callable[..., Emulator]) -> None:
    emu = authenticated(make_emulator(clock=lambda: 0.0))
    emu.fault(503)
    call(emu, headers={"cf-aig-max-attempts": "2", "cf-aig-retry-delay": "60000"})
    assert emu.now() == 5.0


def test_bad_gateway_retry_settings_are_refused(emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="retry_max_attempts"):
        emulator.configure(retry_max_attempts=6)
    with pytest.raises(ValueError, match="retry_backoff"):
        emulator.configure(retry_backoff="random")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(failures=st.integers(0, 6), attempts=st.integers(1, 5))
def test_attempts_and_step_follow_the_failures(emulator: Emulator, failures: int, attempts: int) -> None:
    emulator.reset()
    authenticated(emulator)
    if failures:
        emulator.fault(503, times=failures)
    reply = call(emulator, headers={"cf-aig-max-attempts": str(attempts)})
    assert reply.status_code == (200 if failures < attempts else 503)
    assert reply.headers["cf-aig-step"] == str(min(failures, attempts - 1))
    assert emulator.logs[-1].attempts == min(failures + 1, attempts)


HEADER_TEXT = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(attempts=HEADER_TEXT, delay=HEADER_TEXT, backoff=HEADER_TEXT, models=HEADER_TEXT)
def test_any_feature_header_value_gets_a_gateway_answer(emulator: Emulator, attempts: str, delay: str,
                                                        backoff: str, models: str) -> None:
    emulator.reset()
    authenticated(emulator, credits=1.0, auto_router_models=["openai/gpt-4.1-nano", "openai/gpt-4.1"])
    emulator.fault(503)
    headers = {"cf-aig-max-attempts": attempts, "cf-aig-retry-delay": delay, "cf-aig-backoff": backoff,
               "cf-aig-allowed-models": models, "cf-aig-no-wholesale": backoff}
    reply = call(emulator, {"model": "cloudflare/auto", "messages": [{"role": "user", "content": "hi"}]},
                 surface="compat", headers=headers)
    assert reply.status_code in (200, 400, 503)
    assert emulator.errors == []


def test_the_gateway_default_delay_and_backoff(make_emulator: Callable[..., Emulator]) -> None:
    emu = authenticated(make_emulator(clock=lambda: 0.0), retry_max_attempts=3, retry_delay=2000,
                        retry_backoff="linear")
    emu.fault(500, times=2)
    assert call(emu).status_code == 200 and emu.now() == 6.0
