"""One SDK's side of a fault scenario, in a process of its own: track, wait, shut down.

    python -m benchmarks._faultpeer {ours,posthog} URL --events N --threads T
        [--hold SECONDS] [--stop-timeout SECONDS] [--shutdown-bound SECONDS] [--interval S]

`T` threads track `N` events between them (each builds its event as an application would:
ours through the `EventBuilder` chain, posthog's `capture()` with the same fields), then the
process waits `--hold` seconds with the client running, then makes the documented shutdown:
ours `stop()` (its default deadline, `shutdown_timeout_seconds` = 20 s, unless
`--stop-timeout`), posthog's `shutdown()` (which has no deadline: `--shutdown-bound` ends
the process when it has not returned within that many seconds, reported as `cut`).

Both clients keep their defaults but one: ours gets `max_queue_size` = N when N is above its
default of 1,000, else `track()` would evict events before any could be sent (posthog's
default queue holds 10,000); and `--interval` sets its `submit_interval_seconds` (default
300 s), for a run that must see several send cycles.

It prints one JSON line after the last `track()` (`{"phase": "tracked", ...}`) and one after
the shutdown (`{"phase": "done", ...}`). Times are `time.monotonic()`, one clock for every
process on Linux, so the parent matches them with its server's arrival times.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any


def _emit(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


def _track_from_threads(one: Callable[[], None], events: int, threads: int) -> float:
    """Run `one` `events` times across `threads` threads started together; return t0, the
    moment they were released (just before the first track)."""
    share = [events // threads + (1 if i < events % threads else 0) for i in range(threads)]
    t0: list[float] = []
    barrier = threading.Barrier(threads, action=lambda: t0.append(time.monotonic()))

    def work(n: int) -> None:
        barrier.wait(timeout=30)
        for _ in range(n):
            one()

    workers = [threading.Thread(target=work, args=(n,)) for n in share]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
        if w.is_alive():
            raise RuntimeError("a tracking thread did not finish within 120 s")
    return t0[0]


def run_ours(
    url: str,
    events: int,
    threads: int,
    hold: float,
    stop_timeout: float | None,
    interval: float | None,
) -> None:
    from benchmarks._common import build_event, config
    from mosaicstack_telemetry import TelemetryClient

    overrides: dict[str, Any] = {"max_queue_size": max(events, 1000)}
    if interval is not None:
        overrides["submit_interval_seconds"] = interval
    client = TelemetryClient(config(server_url=url, **overrides))
    client.start()
    t0 = _track_from_threads(lambda: client.track(build_event()), events, threads)
    _emit(phase="tracked", t0=t0, tracked_at=time.monotonic())
    time.sleep(hold)
    stop_at = time.monotonic()
    client.stop() if stop_timeout is None else client.stop(timeout=stop_timeout)
    end = time.monotonic()
    stats = client.stats()
    _emit(
        phase="done",
        t0=t0,
        stop_at=stop_at,
        end=end,
        wall=end - t0,
        left=stats.queued,
        sent=stats.sent,
        retried=stats.retried,
        dropped=sum(stats.dropped.values()),
        evicted=stats.evicted,
    )


def run_posthog(
    url: str, events: int, threads: int, hold: float, shutdown_bound: float | None
) -> None:
    from posthog.client import Client

    from benchmarks import _peers
    from benchmarks._common import INSTANCE_ID

    client = Client("phc_benchmark", host=url)

    def one() -> None:
        client.capture("task_completed", distinct_id=INSTANCE_ID, properties=_peers.properties())

    t0 = _track_from_threads(one, events, threads)
    _emit(phase="tracked", t0=t0, tracked_at=time.monotonic())
    time.sleep(hold)
    stop_at = time.monotonic()
    if shutdown_bound is None:
        client.shutdown()
        end = time.monotonic()
        _emit(phase="done", t0=t0, stop_at=stop_at, end=end, wall=end - t0)
        return
    # Its shutdown has no deadline: against a server that is down it would take minutes.
    closer = threading.Thread(target=client.shutdown, daemon=True)
    closer.start()
    closer.join(shutdown_bound)
    end = time.monotonic()
    cut = closer.is_alive()
    _emit(phase="done", t0=t0, stop_at=stop_at, end=end, wall=None if cut else end - t0, cut=cut)
    if cut:  # its consumer thread and exit hooks would keep this process alive
        os._exit(0)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks._faultpeer")
    parser.add_argument("peer", choices=("ours", "posthog"))
    parser.add_argument("url")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--hold", type=float, default=0.0)
    parser.add_argument("--stop-timeout", type=float, default=None)
    parser.add_argument("--shutdown-bound", type=float, default=None)
    parser.add_argument("--interval", type=float, default=None, help="ours: submit interval")
    args = parser.parse_args(argv)
    if not args.url.startswith("http://127.0.0.1:"):
        parser.error("loopback only: the URL must start with http://127.0.0.1:")
    if args.peer == "ours":
        run_ours(args.url, args.events, args.threads, args.hold, args.stop_timeout, args.interval)
    else:
        run_posthog(args.url, args.events, args.threads, args.hold, args.shutdown_bound)


if __name__ == "__main__":
    main(sys.argv[1:])
