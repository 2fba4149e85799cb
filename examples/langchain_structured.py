"""Structured output through Cloudflare AI Gateway: a pydantic object, a dict, and raw + parsed.

``with_structured_output`` uses strict JSON-schema output by default; ``function_calling`` and
``json_mode`` are the other methods. Without ``CF_ACCOUNT_ID`` and a provider key or gateway
token in the environment it runs against the local emulator, whose deterministic model answers
with schema-valid JSON: ``python examples/langchain_structured.py``.

Extras: ``emulator`` and ``langchain`` (from a clone: ``pip install -e '.[emulator,langchain]'``).
"""

from __future__ import annotations

from contextlib import ExitStack

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from cf_ai_gateway.emulator import real_or_emulated
from langchain_cf_ai_gateway import ChatCloudflareAIGateway


class Movie(BaseModel):
    """A movie mentioned in the text."""

    title: str = Field(description="The movie's title")
    year: int = Field(description="Release year")
    director: str | None = Field(default=None, description="The director, if known")


class Place(TypedDict):
    """A place mentioned in the text."""

    name: str
    country: str


def main() -> None:
    with ExitStack() as stack:
        settings = stack.enter_context(real_or_emulated())
        model = ChatCloudflareAIGateway(model="gpt-4o-mini", temperature=0, **settings)
        text = "Alien (1979), directed by Ridley Scott, was shot at Shepperton, England."

        movie = model.with_structured_output(Movie).invoke(f"Extract the movie: {text}")
        print("json_schema  ->", repr(movie))

        place = model.with_structured_output(Place, method="function_calling").invoke(
            f"Extract the place: {text}"
        )
        print("function call ->", place)

        raw = model.model_copy(update={"api": "responses"}).with_structured_output(
            Movie, include_raw=True
        ).invoke(f"Extract the movie: {text}")
        print("responses raw ->", raw["raw"].text)
        print("      parsed ->", repr(raw["parsed"]), "| error:", raw["parsing_error"])


if __name__ == "__main__":
    main()
