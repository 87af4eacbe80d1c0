"""Child processes: multiprocessing under fork, forkserver and spawn (`Process`, and `Pool` with
`close()`/`join()`), and a gunicorn-style `--preload` fork.

A module-level client is created and started at import, as an application does. A forked child
uses the parent's started client; a spawned one (and one forked from the forkserver, which
imported the main module) has its own. Each child tracks and returns: it must deliver at its own
exit, within the exit budget. multiprocessing ends a fork or forkserver child with `os._exit`
after running its finalizers, so the SDK's `atexit` hook does not run there.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

import pytest

from tests.lifecycle._harness import (
    Child,
    LocalServer,
    assert_accounts,
    assert_clean,
    assert_no_warning,
    config_for,
    run_child,
    stats_of,
)

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
    assert server.deliveries() == dict.fromkeys(tracked, 1)
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


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_multiprocessing_process_delivers_at_the_childs_exit(
    server: LocalServer, tmp_path: Path, method: str
) -> None:
    # fork: tests/lifecycle/test_issue_table.py, the table's first row.
    child = run_multiprocessing(tmp_path, server, method, "process", tasks=2, events=4)
    check_processes(child, server, 8)


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_multiprocessing_pool_close_join_delivers(
    server: LocalServer, tmp_path: Path, method: str
) -> None:
    # fork: tests/lifecycle/test_issue_table.py, the table's second row.
    child = run_multiprocessing(tmp_path, server, method, "pool", tasks=4, events=5)
    check_processes(child, server, 20)


@pytest.mark.parametrize(("method", "kind"), [("fork", "process"), ("spawn", "pool")])
def test_multiprocessing_with_a_shared_spool(
    server: LocalServer, tmp_path: Path, method: str, kind: str
) -> None:
    """Parent and children share one spool file; together they deliver each event once."""
    spool = str(tmp_path / "spool.db")
    child = run_multiprocessing(tmp_path, server, method, kind, tasks=2, events=4, spool_path=spool)
    check_processes(child, server, 8, shared_spool=True)


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


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")
def test_preload_fork_workers_deliver_at_their_exit(server: LocalServer, tmp_path: Path) -> None:
    """gunicorn --preload: the client is started in the master, then workers are forked."""
    child = run_child(tmp_path, PRELOAD, config_for(server), params={"before": 0})
    check_processes(child, server, 10)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")
def test_preload_fork_events_queued_at_fork_are_the_parents_alone(
    server: LocalServer, tmp_path: Path
) -> None:
    """Events the master had queued when it forked are delivered once, by the master: a worker
    does not send its inherited copy (as OpenTelemetry's BatchProcessor clears its queue in a
    forked child), so each event reaches the server in exactly one request."""
    child = run_child(tmp_path, PRELOAD, config_for(server), params={"before": 3})
    assert child.returncode == 0, child.describe()
    assert_clean(child, server.key)
    finals = child.finals()
    parent = next(r for r in finals.values() if r["pid"] == child.mark("children_done")["pid"])
    tracked = [i for report in finals.values() for i in report["tracked"]]
    assert len(tracked) == 3 + 10 + 2
    assert sorted(server.stored_ids()) == sorted(tracked)
    assert server.deliveries() == dict.fromkeys(tracked, 1), "an event was sent twice"
    stats = stats_of(parent)
    assert stats.sent == 5
    assert_accounts(stats, 5)
    for report in finals.values():
        if report is not parent:
            assert stats_of(report).sent == 5, child.describe()
    assert_no_warning(child)
