"""The gateway cache: off by default, opted into with ``cf-aig-cache-key`` or a gateway default TTL.

Source: https://developers.cloudflare.com/ai-gateway/features/caching/ ("Caching is disabled by
default"; ``cf-aig-cache-ttl`` sets the duration "for a request that already uses caching"; the
default key covers provider, endpoint, model, the provider auth header and the body).
"""

from __future__ import annotations

import json

from cf_ai_gateway.emulator import Emulator

from .helpers import CHAT_BODY, KEY, post

OPT_IN = {"cf-aig-cache-key": "what-is-cloudflare"}
OPT_IN_120 = {**OPT_IN, "cf-aig-cache-ttl": "120"}


def status(response: object) -> str:
    return response.headers["cf-aig-cache-status"]  # type: ignore[attr-defined, no-any-return]


def test_caching_is_off_by_default(emulator: Emulator) -> None:
    first, second = post(emulator), post(emulator)
    assert status(first) == status(second) == "MISS"
    assert first.json()["id"] != second.json()["id"]


def test_a_ttl_alone_does_not_opt_a_request_in(emulator: Emulator) -> None:
    ttl = {"cf-aig-cache-ttl": "3600"}
    post(emulator, headers=ttl)
    again = post(emulator, headers=ttl)
    assert status(again) == "MISS"
    assert len(emulator.requests) == 2 and not any(entry.cached for entry in emulator.logs)


def test_a_cache_key_opts_in_and_serves_a_hit(emulator: Emulator) -> None:
    first = post(emulator, headers=OPT_IN)
    second = post(emulator, headers=OPT_IN)
    assert status(first) == "MISS" and status(second) == "HIT"
    assert second.content == first.content
    assert second.headers["cf-aig-log-id"] != first.headers["cf-aig-log-id"]
    hit = emulator.logs[-1]
    assert hit.cached is True and hit.cost == 0 and hit.tokens_out == first.json()["usage"]["completion_tokens"]


def test_the_default_key_covers_provider_auth_model_endpoint_and_body_not_metadata(emulator: Emulator) -> None:
    emulator.configure(cache_ttl=600)  # the gateway caches every request, with the default key
    post(emulator, headers={"cf-aig-metadata": json.dumps({"user": "a"})})
    assert status(post(emulator, headers={"cf-aig-metadata": json.dumps({"user": "b"})})) == "HIT"
    assert status(post(emulator, key="sk-another-caller-0123456789")) == "MISS"
    assert status(post(emulator, key="sk-another-caller-0123456789")) == "HIT"
    assert status(post(emulator, key=None)) == "MISS"  # the stored key: another credential again
    assert status(post(emulator, body={**CHAT_BODY, "model": "gpt-4o"})) == "MISS"
    other_body = {**CHAT_BODY, "messages": [{"role": "user", "content": "Something else"}]}
    assert status(post(emulator, body=other_body)) == "MISS"
    assert status(post(emulator, provider="groq")) == "MISS"
    assert status(post(emulator, gateway="another")) == "MISS"
    assert status(post(emulator, headers={"authorization": f"Bearer {KEY}"})) == "HIT"


def test_callers_with_different_provider_keys_never_share_a_reply(emulator: Emulator) -> None:
    emulator.configure(cache_ttl=600)
    mine = post(emulator, key="sk-mine-0123456789")
    theirs = post(emulator, key="sk-theirs-0123456789")
    assert status(theirs) == "MISS" and theirs.json()["id"] != mine.json()["id"]


def test_skip_cache_bypasses_it(emulator: Emulator) -> None:
    post(emulator, headers=OPT_IN)
    skipped = post(emulator, headers={**OPT_IN, "cf-aig-skip-cache": "true"})
    assert status(skipped) == "MISS"
    assert status(post(emulator, headers=OPT_IN)) == "HIT"


def test_entries_expire_with_their_ttl(emulator: Emulator) -> None:
    post(emulator, headers=OPT_IN_120)
    emulator.advance(119)
    assert status(post(emulator, headers=OPT_IN_120)) == "HIT"
    emulator.advance(2)
    assert status(post(emulator, headers=OPT_IN_120)) == "MISS"


def test_ttl_below_the_minimum_counts_as_sixty_seconds(emulator: Emulator) -> None:
    headers = {**OPT_IN, "cf-aig-cache-ttl": "5"}
    post(emulator, headers=headers)
    emulator.advance(30)
    assert status(post(emulator, headers=headers)) == "HIT"
    emulator.advance(31)
    assert status(post(emulator, headers=headers)) == "MISS"


def test_a_custom_key_lasts_five_minutes_and_groups_different_bodies(emulator: Emulator) -> None:
    first = post(emulator, headers=OPT_IN)
    other = {**CHAT_BODY, "messages": [{"role": "user", "content": "A different question"}]}
    second = post(emulator, body=other, headers=OPT_IN)
    assert status(second) == "HIT" and second.content == first.content
    emulator.advance(299)
    assert status(post(emulator, headers=OPT_IN)) == "HIT"
    emulator.advance(2)
    assert status(post(emulator, headers=OPT_IN)) == "MISS"


def test_a_custom_key_takes_the_gateway_default_ttl(emulator: Emulator) -> None:
    emulator.configure(cache_ttl=900)
    post(emulator, headers=OPT_IN)
    emulator.advance(899)
    assert status(post(emulator, headers=OPT_IN)) == "HIT"
    emulator.advance(2)
    assert status(post(emulator, headers=OPT_IN)) == "MISS"


def test_streamed_replies_are_not_cached(emulator: Emulator) -> None:
    body = {**CHAT_BODY, "stream": True}
    post(emulator, body=body, headers=OPT_IN)
    assert status(post(emulator, body=body, headers=OPT_IN)) == "MISS"


def test_a_gateway_default_ttl_caches_without_headers_and_zero_opts_out(emulator: Emulator) -> None:
    emulator.configure(cache_ttl=600)
    post(emulator)
    assert status(post(emulator)) == "HIT"
    assert status(post(emulator, headers={"cf-aig-cache-ttl": "0"})) == "MISS"


def test_errors_are_not_cached_and_hits_skip_the_rate_limit(emulator: Emulator) -> None:
    emulator.configure(stored_keys=False)
    post(emulator, headers=OPT_IN, key=None)  # a 401 from the provider: no key, none stored
    emulator.configure(stored_keys=True)
    assert status(post(emulator, headers=OPT_IN)) == "MISS"
    emulator.configure(rate_limit=1)
    assert status(post(emulator, headers=OPT_IN)) == "HIT"  # exempt, although over
    assert post(emulator, body={**CHAT_BODY, "model": "gpt-4o"}).status_code == 200
    assert status(post(emulator, headers=OPT_IN)) == "HIT"
    assert post(emulator, body={**CHAT_BODY, "model": "gpt-4.1"}).status_code == 429


def test_responses_and_embeddings_are_cacheable(emulator: Emulator) -> None:
    post(emulator, "responses", headers=OPT_IN)
    assert status(post(emulator, "responses", headers=OPT_IN)) == "HIT"
    body = {"model": "text-embedding-3-small", "input": "hello"}
    embedding_key = {"cf-aig-cache-key": "embedding-of-hello"}
    post(emulator, "embeddings", body=body, headers=embedding_key)
    assert status(post(emulator, "embeddings", body=body, headers=embedding_key)) == "HIT"


def test_the_cache_is_bounded_and_evicts_the_oldest_first(emulator: Emulator) -> None:
    emulator.configure(max_entries=2)
    for name in ("a", "b", "c"):
        post(emulator, headers={"cf-aig-cache-key": name})
    assert status(post(emulator, headers={"cf-aig-cache-key": "c"})) == "HIT"
    assert status(post(emulator, headers={"cf-aig-cache-key": "b"})) == "HIT"
    assert status(post(emulator, headers={"cf-aig-cache-key": "a"})) == "MISS"


def test_an_unusable_ttl_is_ignored_not_an_internal_error(emulator: Emulator) -> None:
    for ttl in ("inf", "-inf", "nan", "soon"):
        reply = post(emulator, headers={**OPT_IN, "cf-aig-cache-ttl": ttl})
        assert reply.status_code == 200, ttl
    assert status(post(emulator, headers=OPT_IN)) == "HIT"  # cached for the default five minutes
    assert emulator.errors == []
