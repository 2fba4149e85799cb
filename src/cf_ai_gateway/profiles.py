"""Model profiles: what a model can take and give, for frameworks that size prompts and pick tools.

One catalog for the OpenAI models and common models of the other providers the gateway routes to:
context window, maximum output tokens, tool calling, structured output (JSON schema), reasoning,
and image and audio input. :func:`model_profile` finds a model by its name as any surface spells
it: dated snapshots (``gpt-4o-2024-08-06``), fine-tunes (``ft:gpt-4o-mini:org::id``) and
provider-prefixed names (``openai/gpt-4o``, ``groq/llama-3.3-70b-versatile``) resolve to their
base model by longest prefix. An unknown model has no profile (None): callers pick safe defaults.
Figures come from the providers' model pages.
"""

from __future__ import annotations

from functools import cache, lru_cache

from .records import record

__all__ = ["ModelProfile", "model_profile"]


@record(frozen=True, slots=True)
class ModelProfile:
    """The limits and abilities of one model."""

    context_window: int
    max_output_tokens: int
    tool_calling: bool = True
    structured_output: bool = True
    reasoning: bool = False
    image_input: bool = False
    audio_input: bool = False


def _p(
    window: int,
    output: int,
    *,
    tools: bool = True,
    structured: bool = True,
    reasoning: bool = False,
    image: bool = False,
    audio: bool = False,
) -> ModelProfile:
    return ModelProfile(window, output, tools, structured, reasoning, image, audio)


@cache
def _catalog() -> dict[str, ModelProfile]:
    """Base model name -> profile, built on first use. Longest matching prefix wins."""
    gpt5 = _p(400000, 128000, reasoning=True, image=True)
    gpt5_chat = _p(128000, 16384, image=True)
    gpt54 = _p(1050000, 128000, reasoning=True, image=True)
    o_series = _p(200000, 100000, reasoning=True, image=True)

    return {
        # OpenAI
        "gpt-3.5-turbo": _p(16385, 4096, structured=False),
        "gpt-3.5-turbo-instruct": _p(4096, 4096, tools=False, structured=False),
        "gpt-4": _p(8192, 8192, structured=False),
        "gpt-4-32k": _p(32768, 8192, structured=False),
        "gpt-4-turbo": _p(128000, 4096, structured=False, image=True),
        "gpt-4-1106": _p(128000, 4096, structured=False),
        "gpt-4-0125": _p(128000, 4096, structured=False),
        "gpt-4o": _p(128000, 16384, image=True),
        "gpt-4o-2024-05-13": _p(128000, 4096, structured=False, image=True),
        "gpt-4o-mini": _p(128000, 16384, image=True),
        "gpt-4o-audio": _p(128000, 16384, structured=False, audio=True),
        "gpt-4o-mini-audio": _p(128000, 16384, structured=False, audio=True),
        "chatgpt-4o": _p(128000, 16384, tools=False, structured=False, image=True),
        "gpt-4.1": _p(1047576, 32768, image=True),
        "gpt-4.5": _p(128000, 16384, image=True),
        "o1": o_series,
        "o1-mini": _p(128000, 65536, tools=False, structured=False, reasoning=True),
        "o1-preview": _p(128000, 32768, tools=False, structured=False, reasoning=True),
        "o3": o_series,
        "o3-mini": _p(200000, 100000, reasoning=True),
        "o4-mini": o_series,
        "gpt-5": gpt5,
        "gpt-5-chat": gpt5_chat,
        "gpt-5.1": gpt5,
        "gpt-5.1-chat": gpt5_chat,
        "gpt-5.2": gpt5,
        "gpt-5.2-chat": gpt5_chat,
        "gpt-5.4": gpt54,
        "gpt-5.4-mini": gpt5,
        "gpt-5.4-nano": gpt5,
        "gpt-5.4-chat": gpt5_chat,
        "gpt-5.5": gpt54,
        # Anthropic
        "claude-3-5-haiku": _p(200000, 8192, structured=False, image=True),
        "claude-3-7-sonnet": _p(200000, 64000, structured=False, reasoning=True, image=True),
        "claude-sonnet-4": _p(200000, 64000, structured=False, reasoning=True, image=True),
        "claude-opus-4": _p(200000, 32000, structured=False, reasoning=True, image=True),
        "claude-haiku-4-5": _p(200000, 64000, structured=False, reasoning=True, image=True),
        # Google
        "gemini-2.0-flash": _p(1048576, 8192, image=True, audio=True),
        "gemini-2.5-flash": _p(1048576, 65536, reasoning=True, image=True, audio=True),
        "gemini-2.5-pro": _p(1048576, 65536, reasoning=True, image=True, audio=True),
        # Groq, Cerebras and other hosts of open models
        "llama-3.1-8b-instant": _p(131072, 8192, structured=False),
        "llama-3.3-70b-versatile": _p(131072, 32768, structured=False),
        "openai/gpt-oss-20b": _p(131072, 65536, reasoning=True),
        "openai/gpt-oss-120b": _p(131072, 65536, reasoning=True),
        "gpt-oss-20b": _p(131072, 65536, reasoning=True),
        "gpt-oss-120b": _p(131072, 65536, reasoning=True),
        # Mistral
        "mistral-large": _p(131072, 131072, image=True),
        "mistral-medium": _p(131072, 131072, image=True),
        "mistral-small": _p(131072, 131072, image=True),
        # DeepSeek
        "deepseek-chat": _p(128000, 8192, structured=False),
        "deepseek-reasoner": _p(128000, 64000, tools=False, structured=False, reasoning=True),
        # xAI
        "grok-3": _p(131072, 131072),
        "grok-3-mini": _p(131072, 131072, reasoning=True),
        "grok-4": _p(256000, 256000, reasoning=True, image=True),
    }


def _names(model: str) -> list[str]:
    """The catalog names to try for ``model``: as given, then without a provider prefix."""
    name = model.strip().lower()
    if name.startswith("ft:"):
        name = name.split(":")[1]
    elif ":ft-" in name:
        name = name.split(":")[0]
    names = [name]
    if "/" in name:
        names.append(name.split("/", 1)[1])
    return names


def model_profile(model: str) -> ModelProfile | None:
    """The profile of a known model (by longest matching prefix), else None (also for a
    value that is not a string)."""
    if not isinstance(model, str):
        return None
    return _lookup(model)


@lru_cache(maxsize=512)
def _lookup(model: str) -> ModelProfile | None:
    for name in _names(model):
        best: str | None = None
        catalog = _catalog()
        for prefix in catalog:
            if (
                name == prefix or name.startswith(prefix + "-") or name.startswith(prefix + ".")
            ) and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is not None:
            return catalog[best]
    return None
