"""``cf-ai-gateway logs``: list, tail, get, feedback and delete against the emulator's logs API.

Most commands run in-process (``main([...])``) against the shared emulator the environment points
at; one runs as a subprocess with ``--emulator``.
"""

from __future__ import annotations

import io
import json
import types
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cf_ai_gateway import Gateway
from cf_ai_gateway.cli import main
from cf_ai_gateway.emulator import Emulator

from .test_cli import clean_env, run

SECRET_KEY = "sk-logs-cli-secret-0123456789"


def ask(emulator: Emulator, text: str = "hello", **options: Any) -> str:
    env = emulator.env()
    with Gateway(account_id=env["CF_ACCOUNT_ID"], base_url=env["CF_AIG_BASE_URL"],
                 api_key=env.get("OPENAI_API_KEY"), cf_aig_token=env.get("CF_AIG_TOKEN"), max_retries=0) as gw:
        model = options.pop("model", "gpt-4o-mini")
        raw = gw.create("chat/completions", {"model": model, "messages": [{"role": "user", "content": text}]},
                        options=options or None)
    assert raw.info.log_id
    return raw.info.log_id


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, error = capsys.readouterr()
    return code, out, error


def test_list_prints_a_table_newest_first(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = ask(emulator, "one"), ask(emulator, "two", model="gpt-4.1")
    code, out, _ = cli(capsys, "logs", "list")
    assert code == 0
    lines = out.splitlines()
    for column in ("TIME (UTC)", "LOG ID", "MODEL", "STATUS", "CACHE", "TOKENS", "COST", "DURATION"):
        assert column in lines[0]
    assert second in lines[1] and "gpt-4.1" in lines[1] and "200" in lines[1] and "MISS" in lines[1]
    assert first in lines[2] and "$0.0000" in lines[2] and "ms" in lines[2]


def test_list_filters(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    plain = ask(emulator, "plain", metadata={"team": "blue"})
    ask(emulator, "cache", cache_ttl=60, cache_key="logs-test")
    hit = ask(emulator, "cache", cache_ttl=60, cache_key="logs-test")
    emulator.fault(500)
    with pytest.raises(Exception):  # noqa: B017
        ask(emulator, "boom")
    failed = emulator.logs[-1].id
    other = ask(emulator, "other model", model="gpt-4.1")
    assert cli(capsys, "logs", "list", "--failed")[1].count("\n") == 2
    assert failed in cli(capsys, "logs", "list", "--failed")[1]
    cached = cli(capsys, "logs", "list", "--cached")[1]
    assert hit in cached and "HIT" in cached and plain not in cached
    assert [line.split()[2] for line in cli(capsys, "logs", "list", "--model", "gpt-4.1")[1].splitlines()[1:]] == [other]
    meta = cli(capsys, "logs", "list", "--meta", "team=blue")[1]
    assert plain in meta and other not in meta
    assert other in cli(capsys, "logs", "list", "--since", "1h")[1]
    code, _, error = cli(capsys, "logs", "list", "--until", "1h")
    assert code == 0 and "no log entries match" in error


def test_list_json_and_limit(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    ids = [ask(emulator, f"q{i}") for i in range(3)]
    code, out, _ = cli(capsys, "logs", "list", "--json", "--limit", "2")
    assert code == 0
    assert [entry["id"] for entry in json.loads(out)] == ids[:0:-1]


def test_tail_prints_new_entries_as_they_arrive(emulator: Emulator, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    first = ask(emulator, "before")
    later: list[str] = []
    fake_time = types.SimpleNamespace(sleep=lambda seconds: later.append(ask(emulator, "during")))
    monkeypatch.setattr("cf_ai_gateway.cli.logs.time", fake_time)
    code, out, _ = cli(capsys, "logs", "tail", "--max-polls", "3", "--interval", "0.01")
    assert code == 0
    lines = out.splitlines()
    assert "LOG ID" in lines[0]
    assert [line.split()[2] for line in lines[1:]] == [first, *later[:2]]


def test_get_masks_secrets_and_shows_stored_bodies(emulator: Emulator, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    emulator.configure(api_key=SECRET_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", SECRET_KEY)
    log_id = ask(emulator, f"my key is {SECRET_KEY}", metadata={"api_key": "hunter2-hunter2"})
    code, out, _ = cli(capsys, "logs", "get", log_id, "--request", "--response")
    assert code == 0
    assert SECRET_KEY not in out and "hunter2-hunter2" not in out
    entry, rest = out.split("--- request ---")
    assert json.loads(entry)["id"] == log_id and json.loads(entry)["metadata"]["api_key"] == "***"
    request, response = rest.split("--- response ---")
    content = json.loads(request)["messages"][0]["content"]
    assert content.startswith("my key is ***") and SECRET_KEY[3:] not in content
    assert json.loads(response)["object"] == "chat.completion"


def test_feedback_up_down_and_score(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    log_id = ask(emulator)
    assert cli(capsys, "logs", "feedback", log_id, "--up", "--score", "80")[0] == 0
    entry = emulator.log(log_id)
    assert entry is not None and entry.feedback == 1 and entry.score == 80
    assert cli(capsys, "logs", "feedback", log_id, "--down")[0] == 0
    assert entry.feedback == -1
    code, _, error = cli(capsys, "logs", "feedback", log_id)
    assert code == 2 and "--up" in error


def test_delete_asks_for_confirmation(emulator: Emulator, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    keep, drop = ask(emulator), ask(emulator, model="gpt-4.1")
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    code, _, error = cli(capsys, "logs", "delete", "--model", "gpt-4.1")
    assert code == 1 and "[y/N]" in error and "nothing deleted" in error
    assert {e.id for e in emulator.logs} == {keep, drop}
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    assert cli(capsys, "logs", "delete", "--model", "gpt-4.1")[0] == 0
    assert [e.id for e in emulator.logs] == [keep]
    assert cli(capsys, "logs", "delete", "--filter", "model=gpt-4o-mini", "--yes")[0] == 0
    assert emulator.logs == []


def test_delete_without_a_filter_is_refused(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    ask(emulator)
    code, _, error = cli(capsys, "logs", "delete", "--yes")
    assert code == 2 and "filter" in error and len(emulator.logs) == 1


def test_an_account_without_the_logs_api_is_explained(emulator: Emulator,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    emulator.configure(logs_api=False)
    code, _, error = cli(capsys, "logs", "list")
    assert code == 1 and "Workers Observability" in error and "Traceback" not in error


def test_bad_values_are_usage_errors(emulator: Emulator, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--since", "yesterday"], ["--meta", "novalue"], ["--limit", "0"]):
        code, _, error = cli(capsys, "logs", "list", *args)
        assert code == 2 and error.startswith("error:")
    assert emulator.requests == []


def test_logs_list_with_the_in_process_emulator() -> None:
    result = run("logs", "list", "--emulator", env=clean_env())
    assert result.returncode == 0, result.stderr
    assert "LOG ID" in result.stdout and "gpt-4o-mini" in result.stdout
    assert "Traceback" not in result.stderr


def test_logs_need_only_the_account_and_the_api_token(emulator: Emulator, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    log_id = ask(emulator)
    for name in ("OPENAI_API_KEY", "CF_AIG_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    code, out, error = cli(capsys, "logs", "list")
    assert code == 0 and log_id in out, error
    monkeypatch.delenv("CF_API_TOKEN")
    code, out, error = cli(capsys, "logs", "list")
    assert code == 2 and "CF_API_TOKEN" in error and out == ""


_SECRET = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789", min_size=12, max_size=30)
_HEADER = st.sampled_from(["authorization", "Authorization", "x-api-key", "cf-aig-authorization", "api_key",
                           "Cookie", "x-goog-api-key"])


@settings(max_examples=80, deadline=None)
@given(_HEADER, _SECRET, st.sampled_from(["", "Bearer ", "Basic "]), st.sampled_from(["dict", "json", "line"]))
def test_stored_header_secrets_are_masked(header: str, secret: str, scheme: str, shape: str) -> None:
    from cf_ai_gateway.cli.logs import mask

    def stored(value: str) -> Any:
        return {
            "dict": {"headers": {header: value}},
            "json": {"request_head": json.dumps({"headers": {header: value, "accept": "*/*"}})},
            "line": {"request_head": f"POST /v1 HTTP/1.1\r\n{header}: {value}\r\naccept: */*"},
        }[shape]

    # A generated secret that is part of the surrounding text (a header name) proves nothing.
    assume(secret not in json.dumps(mask(stored(scheme), ())))
    assert secret not in json.dumps(mask(stored(f"{scheme}{secret}"), ()))
