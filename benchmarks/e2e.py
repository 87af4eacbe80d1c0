"""End to end over loopback: delivery throughput, and how soon the spool has an event."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable

from benchmarks import _peers
from benchmarks._common import API_KEY, INSTANCE_ID, Result, Scale, build_event, config
from benchmarks._sink import running_sink
from mosaicstack_telemetry import TelemetryClient

#: Both SDKs: batches of 100, one sender thread, a partial batch waits at most this long.
INTERVAL = 0.5
DEADLINE = 120.0  # seconds; a run that takes longer is reported as failed, never hangs
#: Today's same-run ratio to posthog (issue 12: a new delivery core must keep it): the median
#: of 9 full runs of this row on the branch `benchfaults` at 9abb8aa; single runs gave
#: 3.60-4.35x on this shared 2-core machine, so a ratio down to the lowest of them (-15 %)
#: is within today's noise (results.md's notes).
TODAY_RATIO = 4.2
NOISE = 0.85


def _wait_for(count: Callable[[], int], n: int, start: float) -> float:
    """Seconds from `start` until `count()` reaches `n` (bounded by DEADLINE)."""
    while count() < n:
        if time.perf_counter() - start > DEADLINE:
            raise TimeoutError(f"only {count()} of {n} events arrived in {DEADLINE} s")
        time.sleep(0.001)
    return time.perf_counter() - start


def ours_rate(url: str, n: int, count: Callable[[], int]) -> float:
    """Events/s: n distinct prebuilt events tracked, until the server has them all."""
    events = [build_event() for _ in range(n)]
    client = TelemetryClient(
        config(server_url=url, max_queue_size=n, batch_size=100, submit_interval_seconds=INTERVAL)
    )
    client.start()
    try:
        base = count()
        start = time.perf_counter()
        for event in events:
            client.track(event)
        elapsed = _wait_for(lambda: count() - base, n, start)
    finally:
        client.stop(timeout=2.0)
    return n / elapsed


def posthog_rate(url: str, n: int, count: Callable[[], int]) -> float:
    """Events/s for posthog-python: the same fields, prebuilt property dicts, capture()."""
    props = [_peers.properties() for _ in range(n)]
    client = _peers.sending_client(url, flush_at=100, max_queue_size=n + 10)
    client.flush_interval = INTERVAL
    try:
        base = count()
        start = time.perf_counter()
        for p in props:
            client.capture("task_completed", distinct_id=INSTANCE_ID, properties=p)
        elapsed = _wait_for(lambda: count() - base, n, start)
    finally:
        client.shutdown()
    return n / elapsed


def have_server() -> bool:
    return importlib.util.find_spec("mosaicstack_telemetry.server") is not None


def bench_e2e(scale: Scale) -> list[Result]:
    """5. Events/s delivered: ours vs posthog on the same minimal endpoint; ours on the
    reference server too, when it is there."""
    n = max(scale.e2e_events // 100 * 100, 100)
    runs = 5 if scale.name == "full" else 1
    results = []
    mine_runs: list[float] = []
    their_runs: list[float] = []
    with running_sink() as sink:
        ours_rate(sink.url, min(n, 500), lambda: sink.events)  # warm-up: imports, pool
        if _peers.HAVE_POSTHOG:
            posthog_rate(sink.url, min(n, 500), lambda: sink.events)
        for _ in range(runs):  # interleaved, so the machine's load hits both alike
            mine_runs.append(ours_rate(sink.url, n, lambda: sink.events))
            if _peers.HAVE_POSTHOG:
                their_runs.append(posthog_rate(sink.url, n, lambda: sink.events))
    mine = statistics.median(mine_runs)
    theirs = statistics.median(their_runs) if their_runs else None
    ratios = [m / t for m, t in zip(mine_runs, their_runs, strict=False)]
    results.append(
        Result(
            "e2e",
            f"delivered to a minimal loopback endpoint ({n:,} events)",
            mine,
            theirs,
            "events/s",
            "posthog-python to the same endpoint" if theirs else "posthog (not installed)",
            f">= today's {TODAY_RATIO:g}x (-15 % noise: {TODAY_RATIO * NOISE:.2f}x)",
            None if theirs is None else mine >= theirs * TODAY_RATIO * NOISE,
            note="batches of 100, one sender thread each, partial batch after 0.5 s"
            + (f"; ratio per run {min(ratios):.2f}-{max(ratios):.2f}x" if ratios else ""),
        )
    )
    if have_server():
        from mosaicstack_telemetry.server import start_server

        with start_server(keys={API_KEY: INSTANCE_ID}) as srv:
            ours_rate(srv.url, min(n, 500), srv.event_count)
            real = statistics.median(ours_rate(srv.url, n, srv.event_count) for _ in range(runs))
        results.append(
            Result(
                "e2e_server",
                f"delivered to the reference server ({n:,} events)",
                real,
                mine,
                "events/s",
                "ours to the minimal endpoint",
                "(informative)",
                None,
                note="validates, authenticates and stores every event",
            )
        )
    return results


def bench_spool_latency(scale: Scale) -> Result:
    """Issue 8: how long an event waits in memory before it is in the spool's SQLite file."""
    samples = scale.n(40, 3)
    with tempfile.TemporaryDirectory() as tmp, running_sink() as sink:
        path = os.path.join(tmp, "spool.db")
        client = TelemetryClient(config(server_url=sink.url, spool_path=path))
        client.start()
        reader: sqlite3.Connection | None = None
        latencies = []
        try:
            for i in range(samples + 1):
                event = build_event()
                start = time.perf_counter()
                client.track(event)
                key = str(event.event_id)
                while True:
                    if time.perf_counter() - start > 5.0:
                        raise TimeoutError("an event was not persisted within 5 s")
                    try:
                        if reader is None:
                            reader = sqlite3.connect(path, timeout=1.0)
                        query = "SELECT 1 FROM events WHERE event_id = ?"
                        if reader.execute(query, (key,)).fetchone():
                            break
                    except sqlite3.Error:
                        pass  # not created yet
                    time.sleep(0.0002)
                if i:  # the first one opens the file and creates the schema
                    latencies.append(time.perf_counter() - start)
        finally:
            if reader is not None:
                reader.close()
            client.stop(timeout=2.0)
    return Result(
        "spool_latency",
        "track() until the event is in the spool file",
        statistics.median(latencies) * 1e3,
        None,
        "ms",
        "",
        "(informative)",
        None,
        note=f"median of {len(latencies)}; max {max(latencies) * 1e3:.1f} ms",
    )
