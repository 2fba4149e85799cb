"""Context windows and output limits of known OpenAI models, for ``LLMMetadata``.

LlamaIndex sizes prompts, memories and chunking from ``context_window`` and ``num_output``. The
gateway routes to many providers, so a model that is not in this table gets LlamaIndex's own
conservative defaults (which a user can override with the ``context_window`` field). Dated
snapshots (``gpt-4o-2024-08-06``), fine-tunes (``ft:gpt-4o-mini:org::id``) and compat-style
names (``openai/gpt-4o``) resolve to their base model by longest prefix.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from llama_index.core.base.llms.types import LLMMetadata, MessageRole
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS

__all__ = ["llm_metadata", "model_limits", "resolve_limits"]

# Base model name -> (context window, maximum output tokens). Longest matching prefix wins.
_KNOWN_MODELS: dict[str, tuple[int, int]] = {
    "gpt-3.5-turbo": (16385, 4096),
    "gpt-3.5-turbo-instruct": (4096, 4096),
    "gpt-4": (8192, 8192),
    "gpt-4-32k": (32768, 8192),
    "gpt-4-turbo": (128000, 4096),
    "gpt-4-1106": (128000, 4096),
    "gpt-4-0125": (128000, 4096),
    "gpt-4o": (128000, 16384),
    "gpt-4o-2024-05-13": (128000, 4096),
    "gpt-4o-mini": (128000, 16384),
    "chatgpt-4o": (128000, 16384),
    "gpt-4.1": (1047576, 32768),
    "gpt-4.5": (128000, 16384),
    "o1": (200000, 100000),
    "o1-mini": (128000, 65536),
    "o1-preview": (128000, 32768),
    "o3": (200000, 100000),
    "o3-mini": (200000, 100000),
    "o4-mini": (200000, 100000),
    "gpt-5": (400000, 128000),
    "gpt-5-chat": (128000, 16384),
    "gpt-5.1-chat": (128000, 16384),
    "gpt-5.2-chat": (128000, 16384),
    "gpt-5.4": (1050000, 128000),
    "gpt-5.4-mini": (400000, 128000),
    "gpt-5.4-nano": (400000, 128000),
    "gpt-5.4-chat": (128000, 16384),
    "gpt-5.5": (1050000, 128000),
}


def _base_name(model: str) -> str:
    name = model.strip().lower()
    if name.startswith("ft:"):
        name = name.split(":")[1]
    elif ":ft-" in name:
        name = name.split(":")[0]
    if name.startswith("openai/"):
        name = name[len("openai/") :]
    return name


@lru_cache(maxsize=256)
def model_limits(model: str) -> tuple[int, int] | None:
    """``(context_window, max_output_tokens)`` of a known OpenAI model, else None."""
    name = _base_name(model)
    best: str | None = None
    for prefix in _KNOWN_MODELS:
        if (name == prefix or name.startswith(prefix + "-") or name.startswith(prefix + ".")) and (
            best is None or len(prefix) > len(best)
        ):
            best = prefix
    return _KNOWN_MODELS[best] if best is not None else None


def resolve_limits(
    model: str, context_window: int | None, max_tokens: int | None
) -> tuple[int, int]:
    """The ``(context_window, num_output)`` to report, honouring explicit overrides."""
    known = model_limits(model)
    window = context_window or (known[0] if known else DEFAULT_CONTEXT_WINDOW)
    output = max_tokens or (known[1] if known else DEFAULT_NUM_OUTPUTS)
    return window, min(output, window)


def llm_metadata(
    model: str, context_window: int | None, max_tokens: int | None, class_name: str
) -> tuple[LLMMetadata, dict[str, Any]]:
    """The ``LLMMetadata`` of a chat model, and the payload instrumentation sends with calls."""
    window, num_output = resolve_limits(model, context_window, max_tokens)
    metadata = LLMMetadata(
        context_window=window,
        num_output=num_output,
        is_chat_model=True,
        is_function_calling_model=True,
        model_name=model,
        system_role=MessageRole.SYSTEM,
    )
    return metadata, {"class_name": class_name, **metadata.model_dump()}
