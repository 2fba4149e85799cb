"""Every benchmark figure of the README in one command.

Run ``python benchmarks/run_all.py`` (``pip install -e '.[bench]'`` first), or with ``--quick``
for a smoke run, or with section names to run only those (``core``, ``langchain``,
``llamaindex``, ``embeddings``, ``fanout``). It runs, in one process and against loopback
servers that flush one HTTP chunk per SSE event: the core against raw httpx and the openai SDK,
the LangChain adapter against ``ChatOpenAI`` (long streams included), the LlamaIndex adapter
against ``OpenAILike`` and ``OpenAIResponses``, and the embedding classes against the
frameworks' OpenAI ones; then ``bench_fanout.py``, when present, in its own process with its
output passed through (and ``BENCH_QUICK=1`` under ``--quick``). Each section prints its table as it finishes; at the end one Markdown
table holds every ratio as the median of interleaved rounds with its spread (lowest-highest
round), in the README's format, with the command and settings that made it. Knobs: the
``BENCH_*`` environment variables described in ``harness.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_core  # noqa: E402
import bench_embeddings  # noqa: E402
import bench_langchain  # noqa: E402
import bench_llamaindex  # noqa: E402
from harness import Row, Settings, markdown, print_rows  # noqa: E402

SECTIONS: dict[str, tuple[str, Callable[[Settings], list[Row]]]] = {
    "core": ("Core vs raw httpx and the openai SDK", bench_core.measure),
    "langchain": ("LangChain adapter vs ChatOpenAI", bench_langchain.measure),
    "llamaindex": ("LlamaIndex adapter vs OpenAILike / OpenAIResponses", bench_llamaindex.measure),
    "embeddings": ("Embeddings vs OpenAIEmbeddings / OpenAIEmbedding", bench_embeddings.measure),
}
FANOUT = os.path.join(HERE, "bench_fanout.py")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (smoke run)")
    parser.add_argument(
        "sections",
        nargs="*",
        metavar="section",
        help=f"run only these: {', '.join([*SECTIONS, 'fanout'])}",
    )
    args = parser.parse_args()
    chosen = args.sections or [*SECTIONS, "fanout"]
    unknown = set(chosen) - {*SECTIONS, "fanout"}
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    s = Settings.from_env(args.quick)
    command = " ".join(["python", "benchmarks/run_all.py", *sys.argv[1:]])
    started = time.monotonic()

    rows: list[Row] = []
    failed: list[str] = []
    for name in SECTIONS:
        if name not in chosen:
            continue
        title, measure = SECTIONS[name]
        try:
            section = measure(s)
        except Exception:  # a missing extra or a failing client skips its section, loudly
            traceback.print_exc()
            failed.append(name)
            continue
        print_rows(title, section)
        sys.stdout.flush()
        rows += section

    if "fanout" in chosen and os.path.exists(FANOUT):
        print("\nFan-out (bench_fanout.py)", flush=True)
        env = {**os.environ, **({"BENCH_QUICK": "1"} if args.quick else {})}
        if subprocess.run([sys.executable, FANOUT], env=env).returncode != 0:
            failed.append("fanout")

    print(
        f"\n`{command}` ({time.monotonic() - started:.0f} s; Python {platform.python_version()}, "
        f"{os.cpu_count()} cores). Ratios ours / theirs, lower is better: median of {s.rounds} "
        f"interleaved rounds (lowest-highest round); {s.calls} calls or {s.streams} streams of "
        f"{s.chunks} chunks per round; the server flushes one HTTP chunk per SSE event; imports: "
        f"{s.import_runs} fresh interpreters each, bytecode cached.\n"
    )
    print(markdown(rows))
    if failed:
        print(f"\nFailed sections: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
