"""Run every benchmark, print one table, write `benchmarks/results.md`.

    scripts/bench            # the full run (about 5 minutes on 2 cores, 3 of them faults)
    scripts/bench --quick    # shorter: fewer repetitions, a 2 s idle window
    scripts/bench --only track,build --no-write

`--smoke` runs each benchmark once with tiny counts (the test suite uses it): its figures
mean nothing, it only proves the benchmarks still run.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import _peers, e2e, faults, micro, process, system
from benchmarks._common import FULL, QUICK, SMOKE, Result, Scale

RESULTS = Path(__file__).with_name("results.md")
NOTES_MARKER = "<!-- notes: kept by benchmarks/run.py; edit below -->"

Bench = Callable[[Scale], "Result | list[Result]"]
#: In the order of the table (issue 7's numbering, then issue 8's spool rows, then issue 12's
#: delivery under faults, then issue 16's whole processes).
BENCHMARKS: dict[str, Bench] = {
    "track": micro.bench_track,
    "build_track": micro.bench_build_and_track,
    "build": micro.bench_build,
    "serialize": micro.bench_serialize,
    "e2e": e2e.bench_e2e,
    "threads": micro.bench_threads,
    "memory": micro.bench_memory,
    "idle": system.bench_idle,
    "import": system.bench_import,
    "start_stop": system.bench_start_stop,
    "spool_track": micro.bench_spool_track,
    "spool_latency": e2e.bench_spool_latency,
    "faults": faults.bench_drained,
    "down": faults.bench_down,
    "cli": process.bench_cli,
    "hook": process.bench_hook,
    "import_process": process.bench_import_process,
}


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit in ("events/s", "bytes", "events") and abs(value) >= 100:
        return f"{value:,.0f} {unit}"
    if unit == "threads":
        return f"{value:.0f}"
    return f"{value:,.3g} {unit}" if abs(value) < 100 else f"{value:,.0f} {unit}"


def _verdict(r: Result) -> str:
    if r.holds is None:
        return "-"
    return "yes" if r.holds else "**no**"


def table(results: Sequence[Result]) -> str:
    """A Markdown table (also readable in a terminal)."""
    rows = [
        "| benchmark | ours | baseline / peer (same run) | ratio | target | holds |",
        "|---|---:|---|---:|---|---|",
    ]
    for r in results:
        base = _fmt(r.baseline, r.unit)
        if r.baseline_name:
            base = f"{base} ({r.baseline_name})" if r.baseline is not None else r.baseline_name
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        name = f"{r.name}; {r.note}" if r.note else r.name
        rows.append(
            f"| {name} | {_fmt(r.ours, r.unit)} | {base} | {ratio} | {r.target} | {_verdict(r)} |"
        )
    return "\n".join(rows)


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    packages = ", ".join(
        f"{d} {_version(d)}"
        for d in ("mosaicstack-telemetry", "pydantic", "pydantic-core", "httpx", "pyperf")
    )
    return (
        f"- CPU: {cpu}, {os.cpu_count()} logical cores; {platform.system()} "
        f"{platform.release()}\n"
        f"- Python {platform.python_version()} ({platform.python_implementation()})\n"
        f"- {packages}; posthog {_peers.posthog_version()}"
    )


def write_results(results: Sequence[Result], scale: Scale, seconds: float) -> None:
    """Rewrite the measured part of results.md; keep the hand-written notes below the marker."""
    notes = ""
    if RESULTS.exists():
        text = RESULTS.read_text()
        if NOTES_MARKER in text:
            notes = text.split(NOTES_MARKER, 1)[1]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    body = f"""## Performance

Measured by `scripts/bench` ({scale.name} run, {stamp}, {seconds:.0f} s). Every baseline and
peer figure comes from the same run, interleaved with ours; figures are medians.

{table(results)}

{environment()}

Ratios are ours / baseline: below 1 is faster for times, above 1 is faster for rates.
posthog-python is configured so nothing leaves the machine: `capture()` enqueues into its real
queue (no consumer thread) for the in-process rows, and sends to a minimal loopback endpoint for
the end-to-end row, the same endpoint our SDK sends to. In the fault rows each SDK runs in a
process of its own with its defaults (ours with a queue of 5,000) against a loopback fault
server that injects the same seeded fault sequence into both (`benchmarks/_faultsink.py`).
The whole-process rows (`benchmarks/process.py`) time each command from start to exit, ours
and its baseline in alternation, with the SDK's bytecode compiled as an install leaves it.

"""
    RESULTS.write_text(body + NOTES_MARKER + (notes or "\n"))


def main(argv: Sequence[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="fewer repetitions, shorter idle")
    mode.add_argument("--smoke", action="store_true", help="tiny counts; implies --no-write")
    parser.add_argument("--only", default="", help=f"comma-separated: {', '.join(BENCHMARKS)}")
    parser.add_argument("--no-write", action="store_true", help="do not write results.md")
    args = parser.parse_args(argv)
    scale = SMOKE if args.smoke else QUICK if args.quick else FULL
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    started = time.perf_counter()
    results: list[Result] = []
    for name in names:
        t0 = time.perf_counter()
        out = BENCHMARKS[name](scale)
        results.extend(out if isinstance(out, list) else [out])
        print(f"  {name}: {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - started
    print(table(results))
    if not (args.smoke or args.no_write or args.only):
        write_results(results, scale, seconds)
        print(f"\nwritten: {RESULTS}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
