"""The chat model's ``profile``: the core model catalog in LangChain's ``ModelProfile`` keys.

LangChain reads ``max_input_tokens`` (``SummarizationMiddleware(trigger=("fraction", 0.8))``),
``structured_output`` (``create_agent(response_format=...)``) and the input modalities from it.
A model the catalog does not know gets a small, safe default: an 8k window, tool calling, and no
native structured output, so agents fall back to tool-based structured output and summarise early
rather than overflow. Pass ``profile={...}`` to the chat model to set your own.
"""

from __future__ import annotations

from langchain_core.language_models.model_profile import ModelProfile

from cf_ai_gateway.profiles import model_profile

__all__ = ["model_profile_dict"]

_UNKNOWN = ModelProfile(
    max_input_tokens=8192,
    max_output_tokens=4096,
    text_inputs=True,
    text_outputs=True,
    tool_calling=True,
    structured_output=False,
    reasoning_output=False,
    image_inputs=False,
    audio_inputs=False,
)


def model_profile_dict(model: str) -> ModelProfile:
    """The profile of ``model`` from the core catalog, else the safe default."""
    profile = model_profile(model)
    if profile is None:
        return ModelProfile(**_UNKNOWN)
    return ModelProfile(
        max_input_tokens=profile.context_window,
        max_output_tokens=profile.max_output_tokens,
        text_inputs=True,
        text_outputs=True,
        tool_calling=profile.tool_calling,
        structured_output=profile.structured_output,
        reasoning_output=profile.reasoning,
        image_inputs=profile.image_input,
        image_url_inputs=profile.image_input,
        audio_inputs=profile.audio_input,
    )
