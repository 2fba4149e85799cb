"""The gateway's credential checks: gateway token, provider key, stored keys, Cloudflare API token.

An authenticated gateway (a token is configured) requires ``cf-aig-authorization: Bearer <token>``;
its failure is the gateway's own 401 with code 2009. Provider keys travel in ``Authorization``:
with none, an authenticated gateway serves the request with a stored key (BYOK) and an
unauthenticated one forwards it keyless, so the provider's own 401 comes back. The OpenAI provider
page also shows a provider SDK whose API key is the Cloudflare token, with no
``cf-aig-authorization`` ("With Stored Keys (BYOK) / Unified Billing",
https://developers.cloudflare.com/ai-gateway/usage/providers/openai/): when ``cf-aig-authorization``
is absent, ``Authorization: Bearer <gateway token>`` is taken as the gateway token and the stored
key pays. With ``cf-aig-authorization`` present, ``Authorization`` is always the provider key. The
REST and logs APIs take a Cloudflare API token in ``Authorization`` and answer 10000 when it is wrong.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass


def bearer(value: str | None) -> str | None:
    """The token of an ``Authorization``-style ``Bearer <token>`` value, else None."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _same(left: str | None, right: str | None) -> bool:
    return (
        left is not None
        and right is not None
        and hmac.compare_digest(left.encode(), right.encode())
    )


def sdk_form(headers: Mapping[str, str], token: str | None) -> bool:
    """Whether the gateway token travels in ``Authorization`` (no ``cf-aig-authorization`` sent)."""
    return (
        token is not None
        and "cf-aig-authorization" not in headers
        and _same(bearer(headers.get("authorization")), token)
    )


def gateway_token_ok(headers: Mapping[str, str], token: str | None) -> bool:
    """Whether the request passes the gateway's own authentication."""
    if token is None:
        return True
    return _same(bearer(headers.get("cf-aig-authorization")), token) or sdk_form(headers, token)


@dataclass(frozen=True)
class ProviderCredential:
    """How the provider call is authorised: ``"request"`` key, ``"stored"`` key (BYOK), or none."""

    source: str | None
    key: str | None = None


def provider_credential(
    headers: Mapping[str, str], *, token: str | None, stored_keys: bool
) -> ProviderCredential:
    """The credential the provider call would use on a gateway with gateway token ``token``."""
    authenticated = token is not None
    key = bearer(headers.get("authorization"))
    if key is not None and not sdk_form(headers, token):
        return ProviderCredential("request", key)
    if authenticated and stored_keys:
        return ProviderCredential("stored")
    return ProviderCredential(None)


def api_token_ok(headers: Mapping[str, str], accepted: tuple[str | None, ...]) -> bool:
    """Whether ``Authorization`` carries an accepted Cloudflare API token.

    With no token configured (all of ``accepted`` None), any bearer token is accepted.
    """
    token = bearer(headers.get("authorization"))
    if token is None:
        return False
    configured = [t for t in accepted if t is not None]
    return not configured or any(_same(token, t) for t in configured)
