"""Shared timing for the benchmarks: interleaved rounds, per-round ratios, imports, one table.

Every comparison runs its contenders in the same process against the same server, taking turns
call by call (A, B, C, A, B, C, ...; each round starts one contender later, so none always goes
first), and a ratio is computed per round, ours / theirs, from the two sides' times in that
round. A change of load on a shared machine then hits both sides of a ratio alike. Each figure is
reported as the median of the rounds and their spread (lowest-highest round), for wall-clock
time and for the CPU time of the measuring process. Import times are measured in fresh
interpreters, the statements interleaved run by run.

The knobs (environment variables; ``--quick`` lowers the defaults for a fast smoke run):
``BENCH_ROUNDS`` (rounds per figure, at least 3), ``BENCH_CALLS`` (non-streamed calls per round),
``BENCH_STREAMS`` (streams per round), ``BENCH_CHUNKS`` (deltas per stream),
``BENCH_LONG_CHUNKS`` (the long LangChain streams, comma-separated), ``BENCH_TEXTS`` (texts per
embedding call), ``BENCH_IMPORT_RUNS`` (fresh interpreters per import figure). The loopback
server's own knob, ``BENCH_SINGLE_BODY=1``, sends each stream as one body (see
``loopback_server.py``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    quick: bool
    rounds: int
    calls: int
    streams: int
    chunks: int
    long_chunks: tuple[int, ...]
    texts: int
    import_runs: int

    @classmethod
    def from_env(cls, quick: bool = False) -> Settings:
        def knob(name: str, full: str, fast: str) -> str:
            return os.environ.get(name, fast if quick else full)

        return cls(
            quick=quick,
            rounds=max(3, int(knob("BENCH_ROUNDS", "7", "3"))),
            calls=int(knob("BENCH_CALLS", "100", "20")),
            streams=int(knob("BENCH_STREAMS", "20", "5")),
            chunks=int(knob("BENCH_CHUNKS", "200", "200")),
            long_chunks=tuple(
                int(n) for n in knob("BENCH_LONG_CHUNKS", "2000,20000", "2000").split(",")
            ),
            texts=int(knob("BENCH_TEXTS", "2000", "500")),
            import_runs=max(3, int(knob("BENCH_IMPORT_RUNS", "9", "3"))),
        )


def settings(description: str | None = None) -> Settings:
    """The settings of a benchmark run from the command line: ``--quick`` and the environment."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (smoke run)")
    return Settings.from_env(parser.parse_args().quick)


@dataclass(frozen=True)
class Spread:
    """The median of some samples and their range."""

    median: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Spread:
        return cls(statistics.median(values), min(values), max(values))

    def scaled(self, factor: float) -> Spread:
        return Spread(self.median * factor, self.low * factor, self.high * factor)

    def format(self, spec: str = ".2f", suffix: str = "") -> str:
        return f"{self.median:{spec}}{suffix} ({self.low:{spec}}-{self.high:{spec}})"


@dataclass(frozen=True)
class Row:
    """One figure: ``measure`` (ours vs theirs), the per-round ratios and each side's time.

    ``ratio`` compares wall-clock times, what a caller waits; ``cpu_ratio`` compares the CPU
    time of the measuring process alone, which a busy machine's scheduling delays (the server
    process waiting for a core) do not dilute.
    """

    measure: str
    ratio: Spread
    cpu_ratio: Spread
    ours: Spread
    theirs: Spread
    unit: str = "ms"


@dataclass
class Samples:
    """Seconds per call of each contender in each round: wall-clock and CPU (this process)."""

    wall: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)

    def __contains__(self, name: object) -> bool:
        return name in self.wall

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.wall.setdefault(name, []).append(wall)
        self.cpu.setdefault(name, []).append(cpu)


def _rotations(names: list[str], count: int) -> list[list[str]]:
    """The order of each round: each starts one contender later, so none always goes first."""
    return [names[n % len(names) :] + names[: n % len(names)] for n in range(count)]


def interleave(
    contenders: Mapping[str, Callable[[], object]],
    *,
    calls: int,
    rounds: int,
    warmup: int | None = None,
) -> Samples:
    """Seconds per call of each contender in each round.

    Within a round the contenders take turns call by call (A, B, C, A, B, C, ...), each round
    starting one contender later, so a burst of load from elsewhere hits every side alike.
    """
    names = list(contenders)
    for name in names:  # warm up pools, caches and lazy imports
        for _ in range(max(1, calls // 5) if warmup is None else warmup):
            contenders[name]()
    samples = Samples()
    wall_clock, cpu_clock = time.perf_counter, time.process_time
    for order in _rotations(names, rounds):
        wall = dict.fromkeys(names, 0.0)
        cpu = dict.fromkeys(names, 0.0)
        turns = [(name, contenders[name]) for name in order]
        for _ in range(calls):
            for name, fn in turns:
                wall_start, cpu_start = wall_clock(), cpu_clock()
                fn()
                cpu[name] += cpu_clock() - cpu_start
                wall[name] += wall_clock() - wall_start
        for name in names:
            samples.add(name, wall[name] / calls, cpu[name] / calls)
    return samples


def row(
    measure: str,
    samples: Samples,
    ours: str,
    theirs: str,
    *,
    scale: float = 1e3,
    unit: str = "ms",
) -> Row:
    """The figure ``ours`` / ``theirs`` from interleaved samples; times shown as ``scale`` x seconds."""

    def ratios(times: dict[str, list[float]]) -> Spread:
        return Spread.of([a / b for a, b in zip(times[ours], times[theirs], strict=True)])

    return Row(
        measure,
        ratios(samples.wall),
        ratios(samples.cpu),
        Spread.of(samples.wall[ours]).scaled(scale),
        Spread.of(samples.wall[theirs]).scaled(scale),
        unit,
    )


def import_samples(statements: Mapping[str, str], runs: int) -> Samples:
    """Seconds each import statement takes in a fresh interpreter, ``runs`` times, interleaved.

    Each statement runs once first, so every module's bytecode is cached for both sides.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")
    }

    def once(statement: str) -> tuple[float, float]:
        code = (
            "import time; w, c = time.perf_counter(), time.process_time(); "
            f"{statement}; print(time.perf_counter() - w, time.process_time() - c)"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        wall, cpu = done.stdout.split()
        return float(wall), float(cpu)

    for statement in statements.values():
        once(statement)
    samples = Samples()
    for order in _rotations(list(statements), runs):
        for name in order:
            samples.add(name, *once(statements[name]))
    return samples


def print_rows(title: str, rows: Sequence[Row]) -> None:
    """A console table: each figure's ratios and both sides' times, medians with their spread."""
    print(f"\n{title}")
    width = max(len(r.measure) for r in rows) + 2
    print(f"{'measure':<{width}}{'ratio (wall)':<22}{'ratio (CPU)':<22}{'ours':<32}theirs")
    for r in rows:
        spec = ".3f" if r.unit == "ms" else ".1f"
        print(
            f"{r.measure:<{width}}{r.ratio.format('.2f', 'x'):<22}{r.cpu_ratio.format('.2f', 'x'):<22}"
            f"{r.ours.format(spec, ' ' + r.unit):<32}{r.theirs.format(spec, ' ' + r.unit)}"
        )


def markdown(rows: Sequence[Row]) -> str:
    """The README's table of figures: ratios and times as median (lowest-highest round)."""
    lines = [
        "| measure | ratio ours / theirs, wall | ratio, CPU | ours, wall | theirs, wall |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        spec = ".3f" if r.unit == "ms" else ".1f"
        lines.append(
            f"| {r.measure} | {r.ratio.format('.2f', 'x')} | {r.cpu_ratio.format('.2f', 'x')} | "
            f"{r.ours.format(spec, ' ' + r.unit)} | {r.theirs.format(spec, ' ' + r.unit)} |"
        )
    return "\n".join(lines)
