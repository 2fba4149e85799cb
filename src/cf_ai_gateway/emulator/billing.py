"""Who pays for the provider call: the caller's key, a stored key (BYOK), or Unified Billing.

A request's own provider key is used as is. Without one, an authenticated gateway uses its stored
key (BYOK); without a stored key it falls back to Unified Billing when the emulator has credits
configured (``credits=<USD>``), and otherwise the provider's own 401 comes back. "Require provider
credentials" (gateway ``byok_only``) or ``cf-aig-no-wholesale: true`` forbid that fallback: a
third-party request without an applicable credential gets HTTP 400 (the header cannot relax the
gateway setting; Workers AI stays allowed). Unified Billing answers 402 (code 2021) when the
credits are used up and 429 past its request limit (200 per 60 s per gateway by default). On the
REST API a stored ``default`` key is used when present, else Unified Billing, and a provider
rejecting the credentials gives 401 with code 2009 (503 under Unified Billing).
"""

from __future__ import annotations

from starlette.responses import Response

from . import envelopes
from .auth import provider_credential
from .exchange import Exchange
from .retries import Failure

# Cloudflare documents the status (400) but not the body; the emulator answers its own envelope.
CREDENTIALS_REQUIRED_CODE = 2046
CREDENTIALS_REQUIRED_MESSAGE = (
    "Provider credentials are required for this request (Require provider credentials / "
    "cf-aig-no-wholesale): send the provider key or store one on the gateway"
)
UB_WINDOW_SECONDS = 60.0


def is_workers_ai(ex: Exchange) -> bool:
    model = ex.model or ""
    return (
        ex.provider == "workers-ai" or model.startswith("@cf/") or model.startswith("workers-ai/")
    )


def settle_credential(ex: Exchange, rest: bool) -> Response | None:
    """Decide how the provider call is paid; an error answer when it cannot be."""
    state, headers = ex.state, ex.headers
    settings = state.settings
    no_wholesale = (
        settings.byok_only or headers.get("cf-aig-no-wholesale", "").strip().lower() == "true"
    )
    if rest:
        if is_workers_ai(ex):
            return None
        if settings.stored_keys and "default" in settings.stored_key_aliases:
            ex.byok = True
            return None
        return _unified_billing(ex, no_wholesale)
    credential = provider_credential(
        headers, token=settings.token, stored_keys=settings.stored_keys
    )
    if credential.source is None:
        if no_wholesale and not is_workers_ai(ex):
            return _credentials_required(ex)
        if settings.token is not None and settings.credits is not None and not is_workers_ai(ex):
            return _unified_billing(ex, no_wholesale)
        status, error_body = envelopes.missing_key_error()
        return ex.answer(status, error_body, cache_status="MISS")
    if (
        credential.source == "request"
        and settings.api_key is not None
        and credential.key != settings.api_key
    ):
        status, error_body = envelopes.invalid_key_error(credential.key or "")
        return ex.answer(status, error_body, cache_status="MISS")
    ex.byok = credential.source == "stored"
    alias = headers.get("cf-aig-byok-alias", "").strip() or "default"
    if ex.byok and alias not in settings.stored_key_aliases:
        configured = ", ".join(f"'{a}'" for a in settings.stored_key_aliases) or "none"
        return ex.answer(
            *envelopes.gateway_error(
                2040,
                f"Provider '{ex.provider}' has no BYOK credential named '{alias}'. "
                f"Configured aliases: {configured}",
            )
        )
    return None


def _credentials_required(ex: Exchange) -> Response:
    status, body = envelopes.gateway_error(
        CREDENTIALS_REQUIRED_CODE, CREDENTIALS_REQUIRED_MESSAGE, 400
    )
    if ex.route.surface == "rest":
        status, body = envelopes.api_error(
            CREDENTIALS_REQUIRED_CODE, CREDENTIALS_REQUIRED_MESSAGE, 400
        )
    return ex.answer(status, body, cache_status="MISS")


def _unified_billing(ex: Exchange, no_wholesale: bool) -> Response | None:
    """Serve the call with Cloudflare-managed credentials, within the credits and the request limit."""
    if no_wholesale:
        return _credentials_required(ex)
    state, settings = ex.state, ex.state.settings
    ex.wholesale = True
    slot = int(state.clock.now() // UB_WINDOW_SECONDS)
    count = state.features.add_to_window(("ub-requests", ex.route.account, ex.gateway, slot), 1)
    if count > settings.unified_billing_rate_limit:
        return ex.answer(
            *envelopes.gateway_error(2003, "Rate limited (Unified Billing request limit)")
        )
    if settings.credits is not None and settings.credits - state.features.credits_spent <= 0:
        return ex.answer(*envelopes.gateway_error(2021))
    ex.cost_listeners.append(state.features.spend_credits)
    return None


def rest_credential_failure(ex: Exchange, failure: Failure) -> Failure:
    """On the REST API, a provider rejecting the credentials is 401/2009, or 503 under Unified Billing."""
    if (
        ex.route.surface != "rest"
        or failure.status not in (401, 403)
        or failure.cache_status is None
    ):
        return failure
    if ex.wholesale:
        status, body = envelopes.api_error(
            2005, "The provider rejected the Unified Billing credentials", 503
        )
    else:
        status, body = envelopes.api_error(
            2009, "Unauthorized: the provider rejected the credentials", 401
        )
    return Failure(status, body, failure.extra, None, False)
