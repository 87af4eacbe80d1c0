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
#: The issue's baseline for the own part. The line loads no httpx (the SDK imports it to send),
#: and `import pydantic` alone is lazy: it loads almost none of what defining a model needs.
DEPS_IMPORT = "import httpx, pydantic"
#: What defining any pydantic model loads: the own part is judged beyond this, a stricter
#: baseline than the issue's (no httpx to subtract).
MODELS_IMPORT = "from pydantic import BaseModel, Field, TypeAdapter"
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
t3 = time.perf_counter()
client.track(EventBuilder(config.instance_id).model("x").build())
t4 = time.perf_counter()
print((t1 - t0) * 1e3, (t4 - t2) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3)
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


def _run(cmd: Sequence[str], env: dict[str, str], stdin: bytes | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, input=stdin, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0 or (stdin is not None and done.stderr):
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.decode()[-500:]}")
    return elapsed


def interleaved(
    commands: Sequence[Sequence[str]],
    env: dict[str, str],
    runs: int,
    stdin: Sequence[bytes | None] | None = None,
) -> list[list[float]]:
    """Wall seconds of each command per round, the commands in turn, after a warm-up each
    (`stdin`: each command's standard input, when it reads one)."""
    inputs = list(stdin) if stdin is not None else [None] * len(commands)
    for cmd, data in zip(commands, inputs, strict=True):
        _run(cmd, env, data)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for cmd, data, out in zip(commands, inputs, times, strict=True):
            out.append(_run(cmd, env, data))
    return times


#: A Claude Code turn as its transcript has it: a prompt, then two API responses.
_TRANSCRIPT = [
    {"type": "user", "uuid": "u1", "timestamp": "2026-12-02T10:00:00Z",
     "message": {"role": "user", "content": "fix the failing test"}},
    {"type": "assistant", "uuid": "a1", "timestamp": "2026-12-02T10:00:05Z",
     "message": {"id": "m1", "model": "claude-sonnet-4-5-20250929",
                 "usage": {"input_tokens": 1200, "cache_creation_input_tokens": 100,
                           "cache_read_input_tokens": 5000, "output_tokens": 300}}},
    {"type": "assistant", "uuid": "a2", "timestamp": "2026-12-02T10:00:09Z",
     "message": {"id": "m2", "model": "claude-sonnet-4-5-20250929",
                 "usage": {"input_tokens": 200, "cache_creation_input_tokens": 0,
                           "cache_read_input_tokens": 6000, "output_tokens": 500}}},
]  # fmt: skip


def bench_hook(scale: Scale) -> list[Result]:
    """`mosaic-telemetry hook claude-code`, what Claude Code runs after every turn: the
    payload on stdin, the transcript read, one event into the spool; against `python -c pass`."""
    import json

    compile_sdk()
    runs = max(scale.import_runs, 1)
    cli = str(BIN / "mosaic-telemetry")
    with tempfile.TemporaryDirectory() as tmp:
        env = _env(os.path.join(tmp, "spool.sqlite3"))
        transcript = os.path.join(tmp, "transcript.jsonl")
        with open(transcript, "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(line) + "\n" for line in _TRANSCRIPT)
        payload = json.dumps({"session_id": "s", "transcript_path": transcript}).encode()
        hook = [cli, "hook", "claude-code", "--no-prices"]
        bare, ours = interleaved(
            [[sys.executable, "-c", "pass"], hook], env, runs, stdin=[None, payload]
        )
    return [
        _against_python(
            "cli_hook",
            "`mosaic-telemetry hook claude-code --no-prices` (Claude Code's Stop hook)",
            ours,
            bare,
            limit=None,
            more="; the payload on stdin, a 3-line transcript read, one event into the spool. "
            "With genai-prices installed and --prices (the default), its import adds ~150 ms",
        )
    ]


def _against_python(
    key: str,
    name: str,
    times: Sequence[float],
    bare: Sequence[float],
    *,
    limit: float | None,
    more: str = "",
) -> Result:
    """A whole-process row against `python -c pass` of the same rounds; `limit`: the target
    ratio (None: informative)."""
    mine, base = statistics.median(times), statistics.median(bare)
    return Result(
        key,
        name,
        mine * 1e3,
        base * 1e3,
        "ms",
        "`python -c pass`",
        "(informative)" if limit is None else f"<= {limit:g}x",
        None if limit is None else mine <= limit * base,
        note=(
            f"whole process, median of {len(times)}; ours {_spread(times)}, "
            f"python {_spread(bare)}{more}"
        ),
    )


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
    return [
        _against_python(key, name, times, bare, limit=4)
        for key, name, times in (
            ("cli_track", "`mosaic-telemetry track --model x --outcome success`", ours_track),
            ("cli_flush", "`mosaic-telemetry flush` with an empty spool", ours_flush),
        )
    ]


def bench_import_process(scale: Scale) -> list[Result]:
    """The import line as a whole process: against `import posthog`, its own part beyond
    pydantic's (and the issue's `import httpx, pydantic`), and the first event after it."""
    compile_sdk()
    runs = max(scale.import_runs, 1)
    with tempfile.TemporaryDirectory() as tmp:
        env = _env("")
        env.pop("MOSAIC_TELEMETRY_SPOOL_PATH")
        lines = [IMPORT_LINE, MODELS_IMPORT, DEPS_IMPORT]
        if _peers.HAVE_POSTHOG:
            lines.append("import posthog")
        ours, models, deps, *peer = interleaved(
            [[sys.executable, "-c", line] for line in lines], env, runs
        )
        firsts, plugins, clients = [], [], []
        for _ in range(runs):
            done = subprocess.run(
                [sys.executable, "-c", FIRST_USE],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                cwd=tmp,
            )
            _, first_use, plugin, client = map(float, done.stdout.split())
            firsts.append(first_use)
            plugins.append(plugin)
            clients.append(client)
    mine = statistics.median(ours)
    theirs = statistics.median(peer[0]) if peer else None
    first = statistics.median(firsts)
    own = (mine - statistics.median(models)) * 1e3
    own_deps = (mine - statistics.median(deps)) * 1e3
    return [
        Result(
            "import_process",
            f"`python -c '{IMPORT_LINE}'`",
            mine * 1e3,
            None if theirs is None else theirs * 1e3,
            "ms",
            "`python -c 'import posthog'`" if peer else "posthog (not installed)",
            "<= 0.5x",
            None if theirs is None else mine <= 0.5 * theirs,
            note=f"whole process, median of {runs}; ours {_spread(ours)}"
            + (f", posthog {_spread(peer[0])}" if peer else ""),
        ),
        Result(
            "import_own",
            "the import line's own part: its process minus pydantic's model machinery",
            own,
            statistics.median(models) * 1e3,
            "ms",
            f"`python -c '{MODELS_IMPORT}'`",
            "< 30 ms",
            own < 30.0,
            note=(
                f"whole processes, the same rounds; ours {_spread(ours)}, pydantic's "
                f"{_spread(models)}; beyond the issue's `{DEPS_IMPORT}` "
                f"({statistics.median(deps) * 1e3:.1f} ms): {own_deps:+.1f} ms (the line loads "
                "no httpx)"
            ),
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
                "a TelemetryClient made, not started (its making loads the delivery core: "
                f"{statistics.median(clients):.1f} ms of it); not counted: pydantic's plugin "
                f"discovery at the process's first model, {statistics.median(plugins):.1f} ms "
                f"here ({_distributions()} distributions installed)"
            ),
        ),
    ]
