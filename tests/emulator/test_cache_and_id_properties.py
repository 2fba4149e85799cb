"""Property tests for the cache's opt-in rule and key, and for UUIDv7 log ids.

The rules (https://developers.cloudflare.com/ai-gateway/features/caching/): a TTL header alone
never opts a request in; a cache key or a gateway default TTL does; the default key separates
every provider auth header. Ids follow the UUIDv7 layout of RFC 9562 (changelog 2026-10-08).
"""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from cf_ai_gateway.emulator.cache import MAX_TTL_SECONDS, MIN_TTL_SECONDS, cache_key, parse_cache_directive
from cf_ai_gateway.emulator.ids import uuid7

header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20)


@given(ttl=header_text, skip=st.one_of(st.none(), header_text))
def test_a_ttl_header_alone_never_opts_in(ttl: str, skip: str | None) -> None:
    headers = {"cf-aig-cache-ttl": ttl, **({"cf-aig-skip-cache": skip} if skip is not None else {})}
    assert parse_cache_directive(headers, None).enabled is False


@given(key=header_text.filter(lambda k: k.strip()), ttl=st.one_of(st.none(), header_text),
       default=st.one_of(st.none(), st.integers(min_value=-10, max_value=10**9)))
def test_a_cache_key_opts_in_with_a_bounded_ttl(key: str, ttl: str | None, default: int | None) -> None:
    headers = {"cf-aig-cache-key": key, **({"cf-aig-cache-ttl": ttl} if ttl is not None else {})}
    directive = parse_cache_directive(headers, default)
    assert MIN_TTL_SECONDS <= directive.ttl <= MAX_TTL_SECONDS
    explicit_off = ttl is not None and _number(ttl) is not None and _number(ttl) <= 0  # type: ignore[operator]
    assert directive.enabled is not explicit_off


def _number(text: str) -> float | None:
    try:
        return int(float(text))
    except (ValueError, OverflowError):
        return None


@given(first=header_text, second=header_text, body=st.binary(max_size=64))
def test_different_provider_auth_headers_never_share_a_default_key(first: str, second: str, body: bytes) -> None:
    def key(auth: str) -> str:
        return cache_key("acct/gw", None, provider="openai", endpoint="chat/completions", model="m",
                         provider_auth=auth, body=body)

    assert (key(first) == key(second)) is (first == second)


@given(st.lists(st.floats(min_value=0, max_value=2**47 / 1000, allow_nan=False), min_size=1, max_size=20))
def test_uuid7_ids_are_lowercase_version_7_and_never_repeat(times: list[float]) -> None:
    ids = [uuid7(moment) for moment in times]
    assert len(set(ids)) == len(ids)
    for text in ids:
        parsed = uuid.UUID(text)
        assert text == str(parsed) and parsed.version == 7 and parsed.variant == uuid.RFC_4122
