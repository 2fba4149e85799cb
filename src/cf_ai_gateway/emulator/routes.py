"""Which gateway surface a request path addresses, and with which account, gateway and provider.

Four surfaces are served: provider-native routes ``/v1/{account}/{gateway}/{provider}/{endpoint}``,
the Unified API ``/v1/{account}/{gateway}/compat/{endpoint}`` (model ``{provider}/{model}``), the REST
API ``/client/v4/accounts/{account}/ai/v1/{endpoint}`` (gateway from ``cf-aig-gateway-id``), and the
logs API ``/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs[/{id}[/request|/response]]``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Provider slugs that speak the OpenAI wire format on their gateway routes.
OPENAI_WIRE_PROVIDERS = frozenset(
    {
        "openai",
        "groq",
        "mistral",
        "deepseek",
        "grok",
        "workers-ai",
        "openrouter",
        "perplexity-ai",
        "cerebras",
        "baseten",
        "fireworks",
        "alibaba",
        "minimax",
    }
)
# Real providers whose native (non-OpenAI) APIs the emulator does not speak.
OTHER_PROVIDERS = frozenset(
    {
        "anthropic",
        "azure-openai",
        "google-ai-studio",
        "google-vertex-ai",
        "aws-bedrock",
        "cohere",
        "huggingface",
        "replicate",
        "parallel",
        "cartesia",
        "elevenlabs",
        "deepgram",
        "fal",
        "ideogram",
        "adobe-firefly",
    }
)
# Prefixes the Unified API accepts in ``model``.
COMPAT_PREFIXES = frozenset(
    {
        "openai",
        "anthropic",
        "groq",
        "mistral",
        "cohere",
        "perplexity",
        "perplexity-ai",
        "workers-ai",
        "google-ai-studio",
        "google-vertex-ai",
        "grok",
        "deepseek",
        "cerebras",
        "baseten",
        "parallel",
        "openrouter",
        "dynamic",
        "cloudflare",
    }
)
MODEL_ENDPOINTS = ("chat/completions", "responses", "embeddings")


def is_known_provider(slug: str) -> bool:
    return slug in OPENAI_WIRE_PROVIDERS or slug in OTHER_PROVIDERS or is_custom_provider(slug)


def is_custom_provider(slug: str) -> bool:
    return slug.startswith("custom-") and len(slug) > len("custom-")


@dataclass(frozen=True)
class RouteMatch:
    """A parsed request path."""

    surface: str  # "native" | "compat" | "rest" | "logs" | "universal" | "unknown"
    account: str = ""
    gateway: str = ""
    provider: str = ""
    endpoint: str = ""
    raw_endpoint: str = ""
    log_id: str | None = None
    log_part: str | None = None
    api_root: bool = False  # under /client/v4 (Cloudflare API envelope)


def _endpoint(rest: list[str]) -> str:
    parts = list(rest)
    if parts and parts[0] == "v1":
        parts = parts[1:]
    return "/".join(parts)


def match_path(path: str) -> RouteMatch:
    """Classify ``path`` (no query string)."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["v1"]:
        if len(parts) == 3:
            return RouteMatch("universal", parts[1], parts[2])
        if len(parts) < 4:
            return RouteMatch("unknown")
        account, gateway, provider, rest = parts[1], parts[2], parts[3], parts[4:]
        raw = "/".join(rest)
        if provider == "compat":
            return RouteMatch("compat", account, gateway, "compat", _endpoint(rest), raw)
        if provider == "workers-ai" and rest[:1] != ["v1"]:
            return RouteMatch("native", account, gateway, provider, "", raw)
        if is_custom_provider(provider):
            # Everything after custom-{slug}/ is the upstream's own path (custom-providers page).
            endpoint = next(
                (e for e in MODEL_ENDPOINTS if raw == e or raw.endswith("/" + e)), _endpoint(rest)
            )
            return RouteMatch("native", account, gateway, provider, endpoint, raw)
        return RouteMatch("native", account, gateway, provider, _endpoint(rest), raw)
    if parts[:3] == ["client", "v4", "accounts"] and len(parts) >= 5:
        account = parts[3]
        if parts[4:6] == ["ai", "v1"] and len(parts) > 6:
            endpoint = "/".join(parts[6:])
            return RouteMatch("rest", account, "", "", endpoint, endpoint, api_root=True)
        if parts[4:6] == ["ai-gateway", "gateways"] and len(parts) >= 8 and parts[7] == "logs":
            log_id = parts[8] if len(parts) > 8 else None
            log_part = parts[9] if len(parts) > 9 else None
            if len(parts) > 10 or (
                log_part is not None and log_part not in ("request", "response")
            ):
                return RouteMatch("unknown", account, api_root=True)
            return RouteMatch(
                "logs", account, parts[6], log_id=log_id, log_part=log_part, api_root=True
            )
        return RouteMatch("unknown", account, api_root=True)
    return RouteMatch("unknown", api_root=parts[:2] == ["client", "v4"])
