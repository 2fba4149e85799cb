"""real_or_emulated(): the environment's gateway when one is configured, else a local emulator."""

from __future__ import annotations

import pytest

from cf_ai_gateway import Gateway
from cf_ai_gateway.emulator import configured_in_environment, real_or_emulated
from cf_ai_gateway.wire.types import ChatRequest, Message

REQUEST = ChatRequest(model="gpt-4o-mini", messages=[Message(role="user", content="hello there")])
VARIABLES = ("CF_ACCOUNT_ID", "CLOUDFLARE_ACCOUNT_ID", "OPENAI_API_KEY", "CF_AIG_TOKEN",
             "CF_AIG_PROVIDER_API_KEY", "CF_AIG_BASE_URL", "CF_API_TOKEN", "CF_API_BASE_URL")


@pytest.fixture(autouse=True)
def _no_gateway_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_configured_environment_yields_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", "acct")
    assert not configured_in_environment()
    monkeypatch.setenv("CF_AIG_TOKEN", "tok-123456")
    assert configured_in_environment()
    with real_or_emulated() as settings:
        assert settings == {}


@pytest.mark.parametrize("byok", [False, True])
def test_emulator_settings_work_and_stop_afterwards(byok: bool, capsys: pytest.CaptureFixture[str]) -> None:
    with real_or_emulated(byok=byok, feedback=True) as settings:
        gw = Gateway(**settings)
        assert gw.config.auth_mode == ("byok" if byok else "authenticated")
        assert settings["cf_aig_token"]  # the emulator is an authenticated gateway with a generated token
        result = gw.chat(REQUEST)
        assert "hello" in result.text
        gw.feedback(result.info.log_id, feedback=1)
        gw.close()
    assert "local emulator" in capsys.readouterr().err
    with pytest.raises(Exception):  # noqa: B017 - the emulator is gone
        Gateway(**settings, max_retries=0).chat(REQUEST)
