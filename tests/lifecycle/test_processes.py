"""Child processes: multiprocessing under fork, forkserver and spawn (`Process`, and `Pool` with
`close()`/`join()`), and a gunicorn-style `--preload` fork.

A module-level client is created and started at import, as an application does. A forked child
uses the parent's started client; a spawned one (and one forked from the forkserver, which
imported the main module) has its own. Each child tracks and returns: it must deliver at its own
exit, within the exit budget. multiprocessing ends a fork or forkserver child with `os._exit`
after running its finalizers, so the SDK's `atexit` hook does not run there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.lifecycle._harness import (
    assert_accounts,
    assert_clean,
    assert_no_warning,
    config_for,
    run_child,
    stats_of,
)
from tests.lifecycle._scenarios import PRELOAD, check_processes, run_multiprocessing
from tests.lifecycle._servers import (
    LocalServer,
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
    assert server.deliveries(tracked) == dict.fromkeys(tracked, 1), "an event was sent twice"
    stats = stats_of(parent)
    assert stats.sent == 5
    assert_accounts(stats, 5)
    for report in finals.values():
        if report is not parent:
            assert stats_of(report).sent == 5, child.describe()
    assert_no_warning(child)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")
@pytest.mark.parametrize("delay", [0.0, 0.01, 0.03, 0.06])
def test_a_fork_during_the_first_flush_leaves_the_child_a_working_client(
    server: LocalServer, tmp_path: Path, delay: float
) -> None:
    """A full batch wakes the sender, whose first flush loads the HTTP stack (about 0.2 s)
    and serializes for the first time; the process forks meanwhile. The child used to find
    a module half-imported (ImportError at its exit flush) or an import lock, or pydantic-core's
    first-use state, held by a thread it does not have: its `flush(timeout=3)` never returned.
    Now the fork waits for that one-time work, and the child delivers."""
    child = run_child(
        tmp_path,
        """
        import os, sys, time

        client = lc.make_client(batch_size=5)
        client.start()
        lc.track(client, 5)  # a full batch: the sender's first flush begins now
        time.sleep(lc.PARAMS["delay"])
        pid = os.fork()
        if pid == 0:
            lc.track(client, 3)
            started = time.monotonic()
            result = client.flush(timeout=3)
            lc.mark("child flushed", seconds=time.monotonic() - started, remaining=result.remaining)
            sys.exit(0)
        os.waitpid(pid, 0)
        client.stop()
        """,
        config_for(server),
        params={"delay": delay},
        timeout=30,
    )
    assert child.returncode == 0, child.describe()
    assert_clean(child, server.key)
    flushed = child.mark("child flushed")
    assert (flushed["remaining"], flushed["seconds"] < 5) == (0, True), child.describe()
    tracked = [i for final in child.finals().values() for i in final["tracked"]]
    assert len(tracked) == 8, child.describe()
    assert server.deliveries(tracked) == dict.fromkeys(tracked, 1), child.describe()


#: A plain script, without the lifecycle prelude (which imports `logging`, as most hosts do;
#: a script that does not is the case here). It forks `forks` children back to back while its
#: sender makes its first flush; each child tracks one event and must flush it in time.
FORKS_DURING_FIRST_FLUSH = """
import json, os, sys, time
from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig

config = json.loads(os.environ["FORK_TEST_CONFIG"])
client = TelemetryClient(TelemetryConfig(**config))
client.start()
for _ in range(5):  # a full batch: the sender's first flush begins now
    client.track(EventBuilder(config["instance_id"]).build())
pids = []
for _ in range(int(sys.argv[1])):
    pid = os.fork()
    if pid == 0:
        client.track(EventBuilder(config["instance_id"]).build())
        os._exit(0 if client.flush(timeout=20).remaining == 0 else 3)
    pids.append(pid)
codes, give_up = [], time.monotonic() + 40
while pids and time.monotonic() < give_up:
    for pid in list(pids):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            codes.append(os.waitstatus_to_exitcode(status))
            pids.remove(pid)
    time.sleep(0.01)
for pid in pids:  # hung: ended here, so that the test reports instead of hanging
    os.kill(pid, 9)
    os.waitpid(pid, 0)
client.stop()
print(json.dumps({"hung": len(pids), "failed": sum(1 for c in codes if c)}))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")
@pytest.mark.parametrize("dry_run", [False, True], ids=["http", "dry_run"])
def test_forks_during_the_first_flush_of_a_script_without_logging(
    server: LocalServer, tmp_path: Path, dry_run: bool
) -> None:
    """Two hangs a child forked during the sender's first flush met, in a script that had not
    imported `logging` (the prelude of the other tests does):
    - the sender imported `logging` itself, on its own thread (to order the fork hooks): a
      child forked meanwhile hung for ever on that module's import lock, its first log record;
    - with `dry_run` no HTTP wire is made, so pydantic-core's first serialization ran outside
      the fork guard: a child forked during it hung in `dump_json` (7 runs in 40 of one fork).
    Eight fresh processes of 20 forks each; before the fix most runs left children hung."""
    config = config_for(server, batch_size=5, dry_run=dry_run)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_TELEMETRY_")}
    env["FORK_TEST_CONFIG"] = json.dumps(config)
    script = tmp_path / "forks.py"
    script.write_text(FORKS_DURING_FIRST_FLUSH)
    outcomes = []
    for _ in range(8):
        run = subprocess.run(
            [sys.executable, str(script), "20"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        assert server.key not in run.stdout + run.stderr
        outcomes.append(json.loads(run.stdout.splitlines()[-1]))
        if outcomes[-1]["hung"]:
            break  # each hung child costs the script's whole wait: one such run is enough
    # A child forked before the parent's first load does it itself: under coverage, with 20 of
    # them on 2 cores, that takes seconds; the bounds above are for hangs, not for speed.
    assert outcomes == [{"hung": 0, "failed": 0}] * 8
    # Each run's 5 events and its 20 children's one each: stored, or with dry-run never sent.
    assert server.event_count() == (0 if dry_run else 8 * 25)
