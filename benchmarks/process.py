"""Whole processes (issue 16): a hook's `mosaic-telemetry track`, an empty `flush`, the SDK's
import line, and its first event.

Harness hooks start a fresh process per event, so what counts is the process from start to
exit. Each figure is the median wall time of `scale.import_runs` runs of each command, the
commands in alternation (ours, then its baseline, round after round, after one warm-up run of
each), so load on the shared machine hits both alike. The bytecode of the SDK and its generated
code is compiled first, as `pip install` leaves it.
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks import _common, _peers
from benchmarks._common import Result, Scale

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
IMPORT_LINE = (
    "from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig, "
    "TaskCompletionEvent"
)
#: After the import line: a config, a client, the first event built and tracked (timed).
#: pydantic discovers its plugins (an entry-point scan of every installed distribution) when
#: the process builds its first model, whoever's: timed apart, it is pydantic's once per process.
FIRST_USE = f"""
import os, time
t0 = time.perf_counter()
{IMPORT_LINE}
t1 = time.perf_counter()
from pydantic.plugin._loader import get_plugins
get_plugins()
t2 = time.perf_counter()
config = TelemetryConfig()
client = TelemetryClient(config)
client.track(EventBuilder(config.instance_id).model("x").build())
t3 = time.perf_counter()
print((t1 - t0) * 1e3, (t3 - t2) * 1e3, (t2 - t1) * 1e3)
os._exit(0)  # the exit hook would send the event: not what is timed
"""


def _env(spool: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        MOSAIC_TELEMETRY_SERVER_URL="http://127.0.0.1:9",
        MOSAIC_TELEMETRY_API_KEY=_common.API_KEY,
        MOSAIC_TELEMETRY_INSTANCE_ID=_common.INSTANCE_ID,
        MOSAIC_TELEMETRY_SPOOL_PATH=spool,
    )
    env.pop("MOSAIC_TELEMETRY_ENABLED", None)
    return env


def compile_sdk() -> None:
    """Bytecode for every module, as an installed wheel has it (`PYTHONDONTWRITEBYTECODE`
    would otherwise make every run compile the modules changed since the last install)."""
    for folder in (ROOT / "src", ROOT / "generated"):
        compileall.compile_dir(str(folder), quiet=1)


def _run(cmd: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def interleaved(
    commands: Sequence[Sequence[str]], env: dict[str, str], runs: int
) -> list[list[float]]:
    """Wall seconds of each command per round, the commands in turn, after a warm-up each."""
    for cmd in commands:
        _run(cmd, env)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for cmd, out in zip(commands, times, strict=True):
            out.append(_run(cmd, env))
    return times


def _distributions() -> int:
    import importlib.metadata

    return sum(1 for _ in importlib.metadata.distributions())


def _spread(values: Sequence[float]) -> str:
    ordered = sorted(values)
    lo, hi = ordered[len(ordered) // 4], ordered[(3 * len(ordered)) // 4]
    return f"{lo * 1e3:.1f}-{hi * 1e3:.1f} ms"


def bench_cli(scale: Scale) -> list[Result]:
    """`mosaic-telemetry track` (one event into the spool) and `flush` with an empty spool,
    each against `python -c pass` in the same rounds."""
    compile_sdk()
    runs = max(scale.import_runs, 1)
    cli = str(BIN / "mosaic-telemetry")
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(os.path.join(tmp, "spool.sqlite3"))
        empty = os.path.join(tmp, "empty.sqlite3")
        track = [cli, "track", "--model", "x", "--outcome", "success"]
        flush = [cli, "flush", "--spool", empty]
        bare, ours_track, ours_flush = interleaved(
            [[sys.executable, "-c", "pass"], track, flush], env, runs
        )
    base = statistics.median(bare)
    rows = []
    for key, name, times in (
        ("cli_track", "`mosaic-telemetry track --model x --outcome success`", ours_track),
        ("cli_flush", "`mosaic-telemetry flush` with an empty spool", ours_flush),
    ):
        mine = statistics.median(times)
        rows.append(
            Result(
                key,
                name,
                mine * 1e3,
                base * 1e3,
                "ms",
                "`python -c pass`",
                "<= 4x",
                mine <= 4 * base,
                note=(
                    f"whole process, median of {runs}; ours {_spread(times)}, "
                    f"python {_spread(bare)}"
                ),
            )
        )
    return rows


def bench_import_process(scale: Scale) -> list[Result]:
    """The import line as a whole process against `import posthog`, and the first event."""
    compile_sdk()
    runs = max(scale.import_runs, 1)
    with tempfile.TemporaryDirectory() as tmp:
        env = _env("")
        env.pop("MOSAIC_TELEMETRY_SPOOL_PATH")
        commands = [[sys.executable, "-c", IMPORT_LINE]]
        if _peers.HAVE_POSTHOG:
            commands.append([sys.executable, "-c", "import posthog"])
        ours, *peer = interleaved(commands, env, runs)
        firsts, plugins = [], []
        for _ in range(runs):
            done = subprocess.run(
                [sys.executable, "-c", FIRST_USE],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                cwd=tmp,
            )
            firsts.append(float(done.stdout.split()[1]))
            plugins.append(float(done.stdout.split()[2]))
    mine = statistics.median(ours)
    theirs = statistics.median(peer[0]) if peer else None
    first = statistics.median(firsts)
    return [
        Result(
            "import_process",
            f"`python -c '{IMPORT_LINE}'`",
            mine * 1e3,
            theirs * 1e3,
            "ms",
            "`python -c 'import posthog'`" if peer else "posthog (not installed)",
            "<= 0.5x",
            None if theirs is None else mine <= 0.5 * theirs,
            note=f"whole process, median of {runs}; ours {_spread(ours)}"
            + (f", posthog {_spread(peer[0])}" if peer else ""),
        ),
        Result(
            "first_track",
            "first `EventBuilder(...).build()` + `track()` after the import line",
            first,
            None,
            "ms",
            "",
            "< 15 ms",
            first < 15.0,
            note=(
                f"a fresh process each, median of {runs}, max {max(firsts):.1f} ms; "
                "a TelemetryClient made, not started; not counted: pydantic's plugin "
                f"discovery at the process's first model, {statistics.median(plugins):.1f} ms "
                f"here ({_distributions()} distributions installed)"
            ),
        ),
    ]
