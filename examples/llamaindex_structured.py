"""Structured output with LlamaIndex through Cloudflare AI Gateway.

``structured_predict`` and ``as_structured_llm`` ask the model for JSON that follows a pydantic
class's schema (the API's native ``json_schema`` format, strict mode), and return validated
objects. Without ``CF_ACCOUNT_ID`` and a key/token in the environment it runs against the local
emulator: ``python examples/llamaindex_structured.py``.

Extras: ``emulator`` and ``llamaindex`` (from a clone: ``pip install -e '.[emulator,llamaindex]'``).
"""

from __future__ import annotations

import os
from contextlib import ExitStack

from llama_index.core.llms import ChatMessage
from llama_index.core.prompts import PromptTemplate
from pydantic import BaseModel, Field

from cf_ai_gateway.emulator import real_or_emulated
from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM


class City(BaseModel):
    """A city and a few facts about it."""

    name: str
    country: str
    population_millions: float = Field(description="Population in millions")
    landmarks: list[str]


def main() -> None:
    with ExitStack() as stack:
        llm = CloudflareAIGatewayLLM(
            model=os.environ.get("CF_AIG_MODEL", "gpt-4o-mini"), **stack.enter_context(real_or_emulated())
        )
        prompt = PromptTemplate("Describe the city of {city}.")

        city = llm.structured_predict(City, prompt, city="Paris")
        print("structured_predict:", city)

        partials = list(llm.stream_structured_predict(City, prompt, city="Rome"))
        print(f"stream_structured_predict: {len(partials)} partial objects, last:", partials[-1])

        structured = llm.as_structured_llm(City)
        reply = structured.chat([ChatMessage(role="user", content="Describe Tokyo.")])
        print("as_structured_llm:", reply.raw)
        llm.close()


if __name__ == "__main__":
    main()
