"""Every benchmark figure of the README in one command.

Run ``python benchmarks/run_all.py`` (``pip install -e '.[bench]'`` first), or with ``--quick``
for a smoke run, or with section names to run only those (``core``, ``langchain``,
``llamaindex``, ``embeddings``, and one per other ``bench_*.py``: ``fanout``, ``sse``, ...). It
runs, in one process and against loopback servers that flush one HTTP chunk per SSE event: the
core against raw httpx and the openai SDK, the LangChain adapter against ``ChatOpenAI`` (long
streams included), the LlamaIndex adapter against ``OpenAILike`` and ``OpenAIResponses``, and
the embedding classes against the frameworks' OpenAI ones; then every other ``bench_*.py``
(``bench_fanout.py`` among them; the SSE decoder, emulator and tracing benchmarks only when
named), each in its own process with its output passed through (and ``BENCH_QUICK=1`` under
``--quick``). Each section prints its table as it finishes; at the end one Markdown table holds
every ratio as the median of interleaved rounds with its spread (lowest-highest round), in the
README's format, with the command and settings that made it. Knobs: the ``BENCH_*`` environment
variables described in ``harness.py``.
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
# Other ``bench_*.py`` scripts (``bench_fanout.py`` and any added later) run in their own
# process, output passed through; these measure other things and run only when named.
NOT_BY_DEFAULT = {"sse", "emulator", "otel"}


def scripts() -> dict[str, str]:
    """The other benchmark scripts by section name: ``bench_fanout.py`` is ``fanout``."""
    found = {}
    for entry in sorted(os.listdir(HERE)):
        name = entry[len("bench_") : -len(".py")]
        if entry.startswith("bench_") and entry.endswith(".py") and name not in SECTIONS:
            found[name] = os.path.join(HERE, entry)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (smoke run)")
    others = scripts()
    parser.add_argument(
        "sections",
        nargs="*",
        metavar="section",
        help=f"run only these: {', '.join([*SECTIONS, *others])}",
    )
    args = parser.parse_args()
    chosen = args.sections or [*SECTIONS, *(name for name in others if name not in NOT_BY_DEFAULT)]
    unknown = set(chosen) - {*SECTIONS, *others}
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

    env = {**os.environ, **({"BENCH_QUICK": "1"} if args.quick else {})}
    for name, path in others.items():
        if name in chosen:
            print(f"\n{os.path.basename(path)}", flush=True)
            if subprocess.run([sys.executable, path], env=env).returncode != 0:
                failed.append(name)

    print(
        f"\n`{command}` ({time.monotonic() - started:.0f} s; Python {platform.python_version()}, "
        f"{os.cpu_count()} cores). Ratios ours / theirs, lower is better: median of {s.rounds} "
        f"interleaved rounds (lowest-highest round); {s.calls} calls or {s.streams} streams of "
        f"{s.chunks} chunks per round; the server flushes one HTTP chunk per SSE event; imports: "
        f"{s.import_runs} fresh interpreters each, bytecode cached.\n"
    )
    if rows:
        print(markdown(rows))
    if failed:
        print(f"\nFailed sections: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()
