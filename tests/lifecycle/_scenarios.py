"""The child scripts and the checks that several lifecycle test files share."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.lifecycle._harness import (
    GRACE,
    Action,
    Child,
    assert_accounts,
    assert_clean,
    assert_no_warning,
    config_for,
    run_child,
    send,
    stats_of,
    the_report,
)
from tests.lifecycle._servers import (
    LocalServer,
    SilentServer,
    local_server,
)

from mosaicstack_telemetry.server import FaultConfig

SYNC = """
import time
ending = lc.PARAMS["ending"]
client = lc.make_client()
if ending == "with":
    with client:
        lc.track(client, lc.PARAMS["events"])
        lc.mark("ending")
else:
    client.start()
    lc.track(client, lc.PARAMS["events"])
    lc.mark("ending")
    if ending == "stop":
        client.stop()
if ending != "exit":  # "exit": the script simply ends
    lc.mark("stopped")
    lc.report("stopped")
    time.sleep(0.3)
    lc.report("later")
"""

ASYNC = """
import asyncio
ending = lc.PARAMS["ending"]

async def main():
    client = lc.make_client()
    if ending == "async_with":
        async with client:
            lc.track(client, lc.PARAMS["events"])
            lc.mark("ending")
    else:
        await client.start_async()
        lc.track(client, lc.PARAMS["events"])
        lc.mark("ending")
        if ending == "asyncio_run_returns":
            return  # without stop_async(): asyncio.run() cancels the sender and closes the loop
        await client.stop_async()
    lc.mark("stopped")
    lc.report("stopped")
    await asyncio.sleep(0.3)
    lc.report("later")

asyncio.run(main())
"""


def check_delivered(child: Child, server: LocalServer, events: int) -> None:
    """Every tracked event stored and delivered once; the counters say so; nothing warned."""
    assert child.returncode == 0, child.describe()
    assert_clean(child, server.key)
    finals = child.finals()
    assert len(finals) == 1, child.describe()
    (final,) = finals.values()
    tracked = final["tracked"]
    assert len(tracked) == events
    assert sorted(server.stored_ids()) == sorted(tracked), child.describe()
    assert server.deliveries(tracked) == dict.fromkeys(tracked, 1)
    stats = stats_of(final)
    assert stats.sent == events, child.describe()
    assert stats.duplicate == 0
    assert (stats.queued, stats.spooled, stats.dropped) == (0, 0, {})
    assert_accounts(stats, events)
    assert_no_warning(child)


def check_still_after_stop(child: Child, server: LocalServer) -> None:
    """After stop() returned: no counter changes, no request leaves, sent equals stored."""
    stopped = child.report("stopped")
    assert stats_of(stopped).in_flight == 0
    assert stats_of(stopped).sent == server.event_count()
    assert_quiet_after_stop(child, server)


def assert_quiet_after_stop(child: Child, server: Any) -> None:
    """Issue 11: "After stop() returns, no request leaves, no counter changes" - while the
    process goes on, and at its exit too (a stopped client is not flushed again at exit)."""
    stopped, later = child.report("stopped"), child.report("later")
    assert stopped["stats"] == later["stats"], "a counter changed after stop() returned"
    late = server.arrived_after(stopped["t"] + GRACE)
    at_exit = [a for a in late if a[0] > later["t"]]
    assert not late, (
        f"{len(late)} requests left after stop() returned, {len(at_exit)} of them at the "
        f"process's exit: {late}"
    )
    finals = [r for r in child.reports("final") if r["pid"] == stopped["pid"]]
    for final in finals:
        assert final["stats"] == stopped["stats"], "a counter changed at exit, after stop()"


#: Every request to the events endpoint answers 500.
FAILING = FaultConfig(rate=1.0, kinds=("500",), paths=("/v1/events/batch",))
#: Every request to the events endpoint answers 429 with `Retry-After: 2`. It fails as surely
#: as FAILING, but the waits are the server's, not the backoff's full jitter, so a final flush
#: to a deadline 8 s away is still retrying 1.5 s in. With 500s a jittered wait can pass the
#: deadline early, and the final flush then ends within 1.5 s in about one run in a hundred.
REFUSING = FaultConfig(rate=1.0, kinds=("429",), retry_after="2", paths=("/v1/events/batch",))


STOP = """
import asyncio, time

def sync():
    client = lc.make_client()
    client.start()
    lc.track(client, lc.PARAMS["events"])
    lc.mark("stopping")
    client.stop(timeout=lc.PARAMS["stop_timeout"])
    lc.mark("stopped")
    lc.report("stopped")
    time.sleep(0.3)
    lc.report("later")

async def main():
    client = lc.make_client()
    await client.start_async()
    lc.track(client, lc.PARAMS["events"])
    lc.mark("stopping")
    await client.stop_async(timeout=lc.PARAMS["stop_timeout"])
    lc.mark("stopped")
    lc.report("stopped")
    await asyncio.sleep(0.3)
    lc.report("later")

sync() if lc.PARAMS["mode"] == "sync" else asyncio.run(main())
"""


@contextmanager
def unreachable(kind: str) -> Iterator[Any]:
    """A server that is down (connections reset), answers 500 forever, or never answers."""
    if kind == "silent":
        srv = SilentServer()
        try:
            yield srv
        finally:
            srv.close()
        return
    with local_server(FAILING if kind == "500" else None) as srv:
        if kind == "down":
            srv.set_down(True)
        yield srv


def check_stopped_in_time(child: Child, srv: Any, events: int, stop_timeout: float) -> None:
    """stop() returned by its deadline; then nothing moved and nothing left."""
    stopping, stopped = child.mark("stopping")["t"], child.mark("stopped")["t"]
    assert stopped - stopping < stop_timeout + 2.0, "stop() overran its deadline"
    stats = stats_of(child.report("stopped"))
    assert stats.in_flight == 0
    assert_accounts(stats, events)
    assert_quiet_after_stop(child, srv)


EXIT = """
import asyncio

async def main():
    client = lc.make_client()
    await client.start_async()
    lc.track(client, lc.PARAMS["events"])
    lc.mark("exiting")

if lc.PARAMS["mode"] == "sync":
    client = lc.make_client()
    client.start()
    lc.track(client, lc.PARAMS["events"])
    lc.mark("exiting")
else:
    asyncio.run(main())  # returns without stop_async()
"""


METHODS = multiprocessing.get_all_start_methods()


MULTIPROCESSING = """
import multiprocessing, os

client = lc.make_client()
client.start()

def task(n):
    lc.in_child()
    lc.track(client, n)
    return os.getpid()

def main():
    p = lc.PARAMS
    ctx = multiprocessing.get_context(p["method"])
    if p["kind"] == "process":
        children = [ctx.Process(target=task, args=(p["events"],)) for _ in range(p["tasks"])]
        for child in children:
            child.start()
        for child in children:
            child.join(60)
        codes = [child.exitcode for child in children]
    else:
        pool = ctx.Pool(2, initializer=lc.in_child)
        pool.map(task, [p["events"]] * p["tasks"], chunksize=1)
        pool.close()
        pool.join()
        codes = [0]
    lc.mark("children_done", codes=codes)
    lc.track(client, 2)  # the parent's own, after its children
    client.stop()

if __name__ == "__main__":
    main()
"""


def check_processes(
    child: Child, server: LocalServer, children_events: int, *, shared_spool: bool = False
) -> None:
    """Every process delivered what it tracked, each event stored and delivered once, and
    each process's counters account for its events.

    With a shared spool any process may deliver any process's events: then the processes'
    `sent` add up to what was stored, and nothing is left in the spool.
    """
    assert child.returncode == 0, child.describe()
    assert_clean(child, server.key)
    assert set(child.mark("children_done")["codes"]) == {0}, child.describe()
    finals = child.finals()
    tracked = [i for report in finals.values() for i in report["tracked"]]
    assert len(tracked) == children_events + 2, child.describe()
    assert len(set(tracked)) == len(tracked)
    assert sorted(server.stored_ids()) == sorted(tracked), child.describe()
    assert server.deliveries(tracked) == dict.fromkeys(tracked, 1)
    if shared_spool:
        assert sum(stats_of(r).sent for r in finals.values()) == len(tracked), child.describe()
        # `spooled` counts the whole shared file: nothing is left when the last process ends.
        assert stats_of(max(finals.values(), key=lambda r: r["t"])).spooled == 0
    else:
        for report in finals.values():
            stats = stats_of(report)
            assert stats.sent == len(report["tracked"]), child.describe()
            assert_accounts(stats, len(report["tracked"]))
    assert_no_warning(child)


def run_multiprocessing(
    tmp_path: Path, server: LocalServer, method: str, kind: str, tasks: int, events: int, **cfg: Any
) -> Child:
    if method not in METHODS:
        pytest.skip(f"the {method} start method is not available on this platform")
    return run_child(
        tmp_path,
        MULTIPROCESSING,
        config_for(server, **cfg),
        params={"method": method, "kind": kind, "tasks": tasks, "events": events},
    )


PRELOAD = """
import os, sys

client = lc.make_client()
client.start()
lc.track(client, lc.PARAMS["before"])  # still queued when the workers are forked
pids = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:  # a worker: it tracks, then exits through sys.exit, as gunicorn's do
        lc.track(client, 5)
        sys.exit(0)
    pids.append(pid)
codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
lc.mark("children_done", codes=codes)
lc.track(client, 2)
client.stop()
"""


SIGINT_DURING_STOP = """
import asyncio, signal

# The default Ctrl-C behaviour, even if the test runner was started with SIGINT ignored.
signal.signal(signal.SIGINT, signal.default_int_handler)
client = lc.make_client()

async def main():
    await client.start_async()
    lc.track(client, 5)
    lc.mark("stopping")
    await client.stop_async(timeout=lc.PARAMS["stop_timeout"])
    lc.mark("stopped")

try:
    if lc.PARAMS["mode"] == "sync":
        client.start()
        lc.track(client, 5)
        lc.mark("stopping")
        client.stop(timeout=lc.PARAMS["stop_timeout"])
        lc.mark("stopped")
    else:
        asyncio.run(main())
except KeyboardInterrupt:
    lc.mark("interrupted")
    lc.report("interrupted")
    raise
"""


def sigint_during_stop(tmp_path: Path, srv: LocalServer, mode: str, **cfg: Any) -> None:
    """SIGINT 1.5 s into a stop() whose every request fails (`srv` runs REFUSING): the
    interrupt reaches the program at once, the five events are still accounted for, and one
    warning at the exit says what became of them."""
    child = run_child(
        tmp_path,
        SIGINT_DURING_STOP,
        config_for(srv, shutdown_timeout_seconds=1.0, **cfg),
        params={"mode": mode, "stop_timeout": 8.0},
        actions=[Action("stopping", send(signal.SIGINT), delay=1.5)],
    )
    assert_clean(child, srv.key, traceback_ok=True)  # the KeyboardInterrupt's own traceback
    assert not child.marks("stopped"), "stop() swallowed the interrupt or ignored the signal"
    interrupted = child.mark("interrupted")
    assert child.returncode != 0, child.describe()
    stopping = child.mark("stopping")["t"]
    assert interrupted["t"] - stopping < 1.5 + 2.0, "the interrupt did not reach the program"
    assert child.elapsed < 1.5 + 1.0 + 10.0  # and the exit after it is bounded too
    # Right after the interrupt a request may still be on its way (in_flight): the identity
    # holds all the same. By the exit everything has settled.
    stats = stats_of(child.report("interrupted"))
    assert stats.sent == 0
    assert_accounts(stats, 5)
    (final,) = child.finals().values()
    stats = stats_of(final)
    assert_accounts(stats, 5)
    assert stats.in_flight == 0
    spool = bool(cfg.get("spool_path"))
    assert (stats.spooled if spool else stats.queued) == 5
    the_report(
        child,
        after=stopping,
        count=5,
        url=srv.url,
        last_error=stats.last_error,
        lost=not spool,  # the process is exiting: lost, unless the spool keeps them
    )


SIGTERM_EXIT = """
import asyncio, signal, sys, time

def on_sigterm(signum, frame):
    sys.exit(0)  # the host turns SIGTERM into an ordinary exit

signal.signal(signal.SIGTERM, on_sigterm)
client = lc.make_client()

async def main():
    await client.start_async()
    lc.track(client, 5)
    lc.mark("ready")
    await asyncio.sleep(30)

if lc.PARAMS["mode"] == "sync":
    client.start()
    lc.track(client, 5)
    lc.mark("ready")
    time.sleep(30)
else:
    asyncio.run(main())
"""
