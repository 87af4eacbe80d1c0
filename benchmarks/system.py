"""Process-level costs: idle CPU and threads, import time, start() and stop()."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import threading
import time

from benchmarks import _peers, process
from benchmarks._common import Result, Scale, config
from mosaicstack_telemetry import TelemetryClient


def _thread_cpu(thread: threading.Thread) -> float:
    """CPU seconds one thread has used (its POSIX CPU-time clock: ns resolution)."""
    assert thread.ident is not None
    return time.clock_gettime(time.pthread_getcpuclockid(thread.ident))


def _os_threads() -> int:
    """Threads of this process as the OS sees them (also those Python did not start)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # not Linux
        return threading.active_count()


def _new_threads(before: set[int]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.ident not in before]


def bench_idle(scale: Scale) -> list[Result]:
    """8. CPU used by a started, idle client's sender thread, and the threads it adds.

    posthog's consumer idles in the same window (its own thread, measured the same way).
    """
    before_ids = {t.ident for t in threading.enumerate() if t.ident is not None}
    os_before = _os_threads()
    client = TelemetryClient(config())
    client.start()
    ours_threads = _new_threads(before_ids)
    added = _os_threads() - os_before
    peer = None
    peer_threads: list[threading.Thread] = []
    if _peers.HAVE_POSTHOG:
        ids = {t.ident for t in threading.enumerate() if t.ident is not None}
        peer = _peers.sending_client("http://127.0.0.1:9")
        peer.flush_interval = 5.0  # posthog's default
        peer_threads = _new_threads(ids)
    try:
        time.sleep(0.1)  # settle: the threads reach their idle wait
        ours0 = sum(_thread_cpu(t) for t in ours_threads)
        peer0 = sum(_thread_cpu(t) for t in peer_threads)
        time.sleep(scale.idle_seconds)
        ours = sum(_thread_cpu(t) for t in ours_threads) - ours0
        theirs = sum(_thread_cpu(t) for t in peer_threads) - peer0
    finally:
        client.stop(timeout=1.0)
        if peer is not None:
            peer.shutdown()
    window = f"{scale.idle_seconds:g} s idle"
    return [
        Result(
            "idle_cpu",
            f"sender CPU over {window}",
            ours * 1e3,
            theirs * 1e3 if peer is not None else None,
            "ms",
            "posthog consumer thread, same window",
            "< 1 ms",
            ours < 1e-3,
        ),
        Result(
            "idle_threads",
            "threads a started client adds",
            float(added),
            float(len(peer_threads)) if peer is not None else None,
            "threads",
            "posthog (thread=1)",
            "1",
            added == 1 and len(ours_threads) == 1,
        ),
    ]


_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def _import_modules(code: str) -> dict[str, int]:
    """Self time (us) of each module imported by `code`, in a fresh interpreter."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stderr
    return {m.group(4): int(m.group(1)) for m in map(_LINE.match, out.splitlines()) if m}


def _import_us(code: str) -> int:
    """Total self time (us) of every module imported by `code`, in a fresh interpreter."""
    return sum(_import_modules(code).values())


def _beyond_us(code: str, base: str) -> int:
    """Self time (us) of the modules `code` imports that `base` does not: its own part beyond
    `base`, whatever of `base` it does not import (the SDK imports httpx only to send)."""
    shared = _import_modules(base)
    return sum(us for name, us in _import_modules(code).items() if name not in shared)


def import_breakdown(top: int = 12) -> list[tuple[str, int]]:
    """The modules importing mosaicstack_telemetry pulls in beyond httpx+pydantic, by self
    time: where to look when the import target is missed."""

    def modules(code: str) -> dict[str, int]:
        out = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", code],
            capture_output=True,
            text=True,
            check=True,
        ).stderr
        return {m.group(4): int(m.group(1)) for m in map(_LINE.match, out.splitlines()) if m}

    base = modules(BASELINE_IMPORT)
    ours = modules(USED_IMPORT)
    extra = {k: v for k, v in ours.items() if k not in base}
    return sorted(extra.items(), key=lambda kv: -kv[1])[:top]


#: What a program that uses the SDK imports. The package's names load on first use (PEP 562),
#: so `import mosaicstack_telemetry` alone costs almost nothing; timing only that would hide
#: the real cost, so the target is measured on this.
USED_IMPORT = (
    "from mosaicstack_telemetry import EventBuilder, TaskCompletionEvent, TelemetryClient, "
    "TelemetryConfig"
)
BASELINE_IMPORT = "import httpx, pydantic"
#: pydantic imports lazily: `import pydantic` alone loads almost none of it. Defining any model
#: loads BaseModel and Field's modules (pydantic.fields, pydantic.types, annotated_types...).
BASELINE_MODELS = "import httpx, pydantic; from pydantic import BaseModel, Field, TypeAdapter"


def bench_import(scale: Scale) -> list[Result]:
    """9. `import mosaicstack_telemetry` alone, and the import line's modules by self time
    (informative: the own-part target is judged on whole processes, `process.py`)."""
    process.compile_sdk()  # bytecode, as an install leaves it
    runs = max(scale.import_runs, 1)
    bare, used, base, own, own_models = [], [], [], [], []
    for _ in range(runs):
        bare.append(_import_us("import mosaicstack_telemetry"))
        used.append(_import_us(USED_IMPORT))
        base.append(_import_us(BASELINE_IMPORT))
        own.append(_beyond_us(USED_IMPORT, BASELINE_IMPORT))
        own_models.append(_beyond_us(USED_IMPORT, BASELINE_MODELS))
    mine = statistics.median(used) / 1e3
    deps = statistics.median(base) / 1e3
    own_part = statistics.median(own) / 1e3
    lazy = statistics.median(bare) / 1e3
    return [
        Result(
            "import_selftime",
            "the import line's modules beyond pydantic's, by `-X importtime` self time",
            own_part,
            deps,
            "ms",
            f"`{BASELINE_IMPORT}` (total: ours {mine:.1f} ms)",
            "(informative)",
            None,
            note=(
                f"`{USED_IMPORT}`; self time of the modules it imports that "
                f"`{BASELINE_IMPORT}` does not, which counts pydantic's model machinery "
                "(`import pydantic` alone loads almost none of it); beyond what any pydantic "
                "model loads too (BaseModel, Field, TypeAdapter): "
                f"{statistics.median(own_models) / 1e3:.1f} ms. The target is judged on whole "
                "processes (row `import_own`)"
            ),
        ),
        Result(
            "import_bare",
            "`import mosaicstack_telemetry` alone (what the pytest plugin and server pay)",
            lazy,
            None,
            "ms",
            "",
            "< 30 ms",
            lazy < 30.0,
            note="names load on first use; no httpx, pydantic or models",
        ),
    ]


def bench_start_stop(scale: Scale) -> list[Result]:
    """10. start() and stop() with an empty queue, against 127.0.0.1 (nothing is sent)."""
    reps = max(scale.repeat * 4, 3)
    client = TelemetryClient(config())
    client.start()  # the first start builds the transport (lazy imports): not what is timed
    client.stop(timeout=1.0)
    starts, stops = [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        client.start()
        t1 = time.perf_counter()
        time.sleep(0.002)  # the thread reaches its wait, as in real use
        t2 = time.perf_counter()
        client.stop(timeout=1.0)
        t3 = time.perf_counter()
        starts.append(t1 - t0)
        stops.append(t3 - t2)
    return [
        Result(
            "start",
            "start()",
            statistics.median(starts) * 1e3,
            None,
            "ms",
            "",
            "< 5 ms",
            statistics.median(starts) < 5e-3,
            note=f"median of {reps}",
        ),
        Result(
            "stop",
            "stop() with an empty queue",
            statistics.median(stops) * 1e3,
            None,
            "ms",
            "",
            "< 5 ms",
            statistics.median(stops) < 5e-3,
            note=f"median of {reps}",
        ),
    ]
