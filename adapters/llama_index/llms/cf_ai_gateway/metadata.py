"""``LLMMetadata`` from the core model catalog (:mod:`cf_ai_gateway.profiles`).

LlamaIndex sizes prompts, memories and chunking from ``context_window`` and ``num_output``. A
model that is not in the catalog gets LlamaIndex's own conservative defaults (which a user can
override with the ``context_window`` field). Dated snapshots, fine-tunes and provider-prefixed
names (``openai/gpt-4o``) resolve to their base model, as the catalog does.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.llms.types import LLMMetadata, MessageRole
from llama_index.core.constants import DEFAULT_CONTEXT_WINDOW, DEFAULT_NUM_OUTPUTS

from cf_ai_gateway.profiles import model_profile

__all__ = ["llm_metadata", "model_limits", "resolve_limits"]


def model_limits(model: str) -> tuple[int, int] | None:
    """``(context_window, max_output_tokens)`` of a model in the core catalog, else None."""
    profile = model_profile(model)
    return (profile.context_window, profile.max_output_tokens) if profile else None


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
        is_function_calling_model=_tool_calling(model),
        model_name=model,
        system_role=MessageRole.SYSTEM,
    )
    return metadata, {"class_name": class_name, **metadata.model_dump()}


def _tool_calling(model: str) -> bool:
    """Whether the model calls tools; an unknown model is assumed to (OpenAI-wire providers do)."""
    profile = model_profile(model)
    return profile.tool_calling if profile else True
