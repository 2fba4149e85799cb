"""Benchmark: import time of the core and both adapters against what they replace.

Each statement runs in a fresh interpreter that times only the import (``time.perf_counter``
around the statement, so interpreter start-up is not counted). The two sides of a pair run
alternately, round by round, so machine load hits both alike. Pairs:

- ``import cf_ai_gateway`` vs ``import httpx`` (the floor every httpx client pays);
- ``from langchain_cf_ai_gateway import ChatCloudflareAIGateway`` vs
  ``from langchain_openai import ChatOpenAI``;
- ``from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM`` vs
  ``from llama_index.llms.openai_like import OpenAILike``.

Two modes: ``cached`` (bytecode in ``__pycache__``, the usual case after the first run; written
even when ``PYTHONDONTWRITEBYTECODE`` is set) and
``cold`` (every module compiled from source: each interpreter gets a fresh, empty
``PYTHONPYCACHEPREFIX``, for both sides alike). Prints, per pair, the median of each side in ms
and the median of the per-round ratios with their min-max spread.

Run ``python benchmarks/bench_import.py [--runs 9] [--mode cached|cold|both]`` (needs the
``bench`` extra for the framework classes). Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

PAIRS = (
    ("core", "import cf_ai_gateway", "import httpx"),
    (
        "langchain",
        "from langchain_cf_ai_gateway import ChatCloudflareAIGateway",
        "from langchain_openai import ChatOpenAI",
    ),
    (
        "llamaindex",
        "from llama_index.llms.cf_ai_gateway import CloudflareAIGatewayLLM",
        "from llama_index.llms.openai_like import OpenAILike",
    ),
)


CLOCK = "time.perf_counter"


def _time_statement(statement: str, cold: bool) -> float:
    """Seconds one fresh interpreter spends on ``statement``."""
    code = f"import time; t = {CLOCK}(); {statement}; print({CLOCK}() - t)"
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # "cached" needs the bytecode written once
    with tempfile.TemporaryDirectory() as prefix:
        if cold:
            env["PYTHONPYCACHEPREFIX"] = prefix
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
    return float(done.stdout.strip())


def _measure(ours: str, theirs: str, runs: int, cold: bool) -> tuple[list[float], list[float]]:
    """Interleaved samples of both statements; the order alternates each round."""
    _time_statement(ours, False)  # fill __pycache__ so "cached" means cached
    _time_statement(theirs, False)
    ours_s: list[float] = []
    theirs_s: list[float] = []
    for number in range(runs):
        if number % 2 == 0:
            ours_s.append(_time_statement(ours, cold))
            theirs_s.append(_time_statement(theirs, cold))
        else:
            theirs_s.append(_time_statement(theirs, cold))
            ours_s.append(_time_statement(ours, cold))
    return ours_s, theirs_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per side")
    parser.add_argument("--mode", choices=("cached", "cold", "both"), default="both")
    parser.add_argument("--only", choices=[name for name, _, _ in PAIRS], action="append")
    parser.add_argument(
        "--clock",
        choices=("wall", "cpu"),
        default="wall",
        help="wall time (perf_counter), or the process's CPU time (steadier on a busy machine)",
    )
    args = parser.parse_args()
    global CLOCK
    CLOCK = "time.perf_counter" if args.clock == "wall" else "time.process_time"
    modes = ("cached", "cold") if args.mode == "both" else (args.mode,)
    print(f"{'pair':<12}{'mode':<8}{'ours ms':>9}{'theirs ms':>11}{'ratio':>8}  spread")
    for name, ours, theirs in PAIRS:
        if args.only and name not in args.only:
            continue
        for mode in modes:
            ours_s, theirs_s = _measure(ours, theirs, args.runs, mode == "cold")
            ratios = sorted(a / b for a, b in zip(ours_s, theirs_s, strict=True))
            print(
                f"{name:<12}{mode:<8}{statistics.median(ours_s) * 1e3:>9.1f}"
                f"{statistics.median(theirs_s) * 1e3:>11.1f}{statistics.median(ratios):>8.2f}"
                f"  {ratios[0]:.2f}-{ratios[-1]:.2f}"
            )
    print(
        f"(medians of {args.runs} interleaved fresh interpreters per side, {args.clock} clock; "
        "ratio = ours/theirs, spread = min-max of the per-round ratios)"
    )


if __name__ == "__main__":
    main()
