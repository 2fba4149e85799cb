"""The gateway cache: opt-in headers, HIT/MISS, skip, TTL expiry on the emulator clock, custom keys."""

from __future__ import annotations

import json

from cf_ai_gateway.emulator import Emulator

from .helpers import CHAT_BODY, post

TTL = {"cf-aig-cache-ttl": "120"}


def test_caching_is_opt_in(emulator: Emulator) -> None:
    first, second = post(emulator), post(emulator)
    assert first.headers["cf-aig-cache-status"] == second.headers["cf-aig-cache-status"] == "MISS"
    assert first.json()["id"] != second.json()["id"]


def test_a_ttl_caches_the_reply_and_serves_it_as_a_hit(emulator: Emulator) -> None:
    first = post(emulator, headers=TTL)
    second = post(emulator, headers=TTL)
    assert first.headers["cf-aig-cache-status"] == "MISS"
    assert second.headers["cf-aig-cache-status"] == "HIT"
    assert second.content == first.content
    assert second.headers["cf-aig-log-id"] != first.headers["cf-aig-log-id"]
    hit = emulator.logs[-1]
    assert hit.cached is True and hit.cost == 0 and hit.tokens_out == first.json()["usage"]["completion_tokens"]


def test_the_key_is_path_plus_body_and_ignores_metadata(emulator: Emulator) -> None:
    post(emulator, headers={**TTL, "cf-aig-metadata": json.dumps({"user": "a"})})
    same = post(emulator, headers={**TTL, "cf-aig-metadata": json.dumps({"user": "b"})})
    assert same.headers["cf-aig-cache-status"] == "HIT"
    other_body = {**CHAT_BODY, "messages": [{"role": "user", "content": "Something else"}]}
    assert post(emulator, body=other_body, headers=TTL).headers["cf-aig-cache-status"] == "MISS"
    other_path = post(emulator, "chat/completions", headers=TTL, gateway="another")
    assert other_path.headers["cf-aig-cache-status"] == "MISS"


def test_skip_cache_bypasses_it(emulator: Emulator) -> None:
    post(emulator, headers=TTL)
    skipped = post(emulator, headers={**TTL, "cf-aig-skip-cache": "true"})
    assert skipped.headers["cf-aig-cache-status"] == "MISS"
    assert post(emulator, headers=TTL).headers["cf-aig-cache-status"] == "HIT"


def test_entries_expire_with_their_ttl(emulator: Emulator) -> None:
    post(emulator, headers=TTL)
    emulator.advance(119)
    assert post(emulator, headers=TTL).headers["cf-aig-cache-status"] == "HIT"
    emulator.advance(2)
    assert post(emulator, headers=TTL).headers["cf-aig-cache-status"] == "MISS"


def test_ttl_below_the_minimum_counts_as_sixty_seconds(emulator: Emulator) -> None:
    headers = {"cf-aig-cache-ttl": "5"}
    post(emulator, headers=headers)
    emulator.advance(30)
    assert post(emulator, headers=headers).headers["cf-aig-cache-status"] == "HIT"
    emulator.advance(31)
    assert post(emulator, headers=headers).headers["cf-aig-cache-status"] == "MISS"


def test_a_custom_key_opts_in_with_five_minutes_and_groups_different_bodies(emulator: Emulator) -> None:
    key = {"cf-aig-cache-key": "greeting"}
    first = post(emulator, headers=key)
    other = {**CHAT_BODY, "messages": [{"role": "user", "content": "A different question"}]}
    second = post(emulator, body=other, headers=key)
    assert second.headers["cf-aig-cache-status"] == "HIT" and second.content == first.content
    emulator.advance(299)
    assert post(emulator, headers=key).headers["cf-aig-cache-status"] == "HIT"
    emulator.advance(2)
    assert post(emulator, headers=key).headers["cf-aig-cache-status"] == "MISS"


def test_streamed_replies_are_not_cached(emulator: Emulator) -> None:
    body = {**CHAT_BODY, "stream": True}
    post(emulator, body=body, headers=TTL)
    assert post(emulator, body=body, headers=TTL).headers["cf-aig-cache-status"] == "MISS"


def test_a_gateway_default_ttl_caches_without_headers_and_zero_opts_out(emulator: Emulator) -> None:
    emulator.configure(cache_ttl=600)
    post(emulator)
    assert post(emulator).headers["cf-aig-cache-status"] == "HIT"
    assert post(emulator, headers={"cf-aig-cache-ttl": "0"}).headers["cf-aig-cache-status"] == "MISS"


def test_errors_are_not_cached_and_hits_skip_the_rate_limit(emulator: Emulator) -> None:
    post(emulator, headers=TTL, key=None)  # a 401 from the provider
    assert post(emulator, headers=TTL).headers["cf-aig-cache-status"] == "MISS"
    emulator.configure(rate_limit=1)
    assert post(emulator, headers=TTL).headers["cf-aig-cache-status"] == "HIT"  # exempt, although over
    assert post(emulator, body={**CHAT_BODY, "model": "gpt-4o"}).status_code == 200
    assert post(emulator, headers=TTL).headers["cf-aig-cache-status"] == "HIT"
    assert post(emulator, body={**CHAT_BODY, "model": "gpt-4.1"}).status_code == 429


def test_responses_and_embeddings_are_cacheable(emulator: Emulator) -> None:
    post(emulator, "responses", headers=TTL)
    assert post(emulator, "responses", headers=TTL).headers["cf-aig-cache-status"] == "HIT"
    body = {"model": "text-embedding-3-small", "input": "hello"}
    post(emulator, "embeddings", body=body, headers=TTL)
    assert post(emulator, "embeddings", body=body, headers=TTL).headers["cf-aig-cache-status"] == "HIT"
