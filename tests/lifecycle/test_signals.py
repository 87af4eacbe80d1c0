"""Signals sent from outside to the child: SIGINT during `stop()`, and SIGTERM where the host
turns it into an exit (a handler raising SystemExit, as gunicorn's and uvicorn's workers do)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from tests.lifecycle._harness import (
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
from tests.lifecycle._scenarios import REFUSING, SIGTERM_EXIT, sigint_during_stop
from tests.lifecycle._servers import (
    LocalServer,
    local_server,
)

from mosaicstack_telemetry.server import FaultConfig

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


@pytest.mark.parametrize(("mode", "spool"), [("async", False), ("sync", True)])
def test_sigint_during_stop(tmp_path: Path, mode: str, spool: bool) -> None:
    # sync without a spool: tests/lifecycle/test_issue_table.py, the table's fourth row.
    with local_server(REFUSING) as srv:
        cfg = {"spool_path": str(tmp_path / "spool.db")} if spool else {}
        sigint_during_stop(tmp_path, srv, mode, **cfg)


@pytest.mark.parametrize(("mode", "spool"), [("sync", False), ("async", False), ("async", True)])
def test_sigterm_turned_into_an_exit_delivers(
    server: LocalServer, tmp_path: Path, mode: str, spool: bool
) -> None:
    cfg = {"spool_path": str(tmp_path / "spool.db")} if spool else {}
    child = run_child(
        tmp_path,
        SIGTERM_EXIT,
        config_for(server, **cfg),
        params={"mode": mode},
        actions=[Action("ready", send(signal.SIGTERM), delay=0.2)],
    )
    assert child.returncode == 0, child.describe()
    assert child.elapsed < 15, "the SIGTERM did not end the sleep"
    assert_clean(child, server.key)
    (final,) = child.finals().values()
    assert sorted(server.stored_ids()) == sorted(final["tracked"]), child.describe()
    stats = stats_of(final)
    assert stats.sent == 5
    assert_accounts(stats, 5)
    assert_no_warning(child)


@pytest.mark.parametrize("started", [False, True], ids=["never-started", "started"])
def test_ctrl_c_that_ends_the_script_still_ends_it_by_sigint(
    server: LocalServer, tmp_path: Path, started: bool
) -> None:
    """A KeyboardInterrupt nothing caught ends Python by SIGINT once it has finalized (a shell
    then sees 130 and stops a loop of such commands). The exit flush loads the HTTP stack,
    whose `exec()` of generated source cleared CPython's record of that interrupt: the process
    exited 1 instead."""
    child = run_child(
        tmp_path,
        """
        client = lc.make_client()
        if lc.PARAMS["started"]:
            client.start()
        lc.track(client, 3)
        client.stats()  # loaded now: the harness's own report at exit, after the SDK's, execs none
        raise KeyboardInterrupt  # as Ctrl-C at the top level
        """,
        config_for(server),
        params={"started": started},
    )
    assert child.returncode == -signal.SIGINT, child.describe()
    _delivered_once(child, server)


def test_an_interactive_session_that_ends_normally_exits_0(
    server: LocalServer, tmp_path: Path
) -> None:
    # A console (`code.interact`, a Django shell, a REPL) records an interrupted command in
    # sys.last_value as well: that must not turn the session's normal end into a SIGINT death.
    child = run_child(
        tmp_path,
        """
        import code

        client = lc.make_client()
        lc.track(client, 3)
        client.stats()
        code.InteractiveConsole().push("raise KeyboardInterrupt")  # Ctrl-C during a command
        """,
        config_for(server),
    )
    assert child.returncode == 0, child.describe()
    _delivered_once(child, server)


def _delivered_once(child: Child, server: LocalServer) -> None:
    assert_clean(child, server.key, traceback_ok=True)
    assert child.stderr.count("Traceback") == 1, child.describe()  # the interrupt's own
    tracked = [i for final in child.finals().values() for i in final["tracked"]]
    assert len(tracked) == 3, child.describe()
    assert server.deliveries(tracked) == dict.fromkeys(tracked, 1), child.describe()


def test_a_signal_handler_that_tracks_while_its_thread_reads_stats_never_deadlocks(
    server: LocalServer, tmp_path: Path
) -> None:
    """A handler that tracks (here a bad event, dropped and counted) runs between any two
    bytecodes of its thread, inside `stats()` too: the counters' lock used to be taken again
    by the same thread, which waited for itself for ever."""
    child = run_child(
        tmp_path,
        """
        import signal, time

        client = lc.make_client()
        handled = 0

        def handler(signum, frame):
            global handled
            client.track("not an event")  # dropped, counted under the counters' lock
            handled += 1

        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            client.stats()
        signal.setitimer(signal.ITIMER_REAL, 0)
        lc.mark("done", handled=handled, dropped=client.stats().dropped)
        """,
        config_for(server),
        timeout=60,
    )
    assert child.returncode == 0, child.describe()
    done = child.mark("done")
    assert done["handled"] > 0, child.describe()
    assert done["dropped"] == {"invalid_event": done["handled"]}, child.describe()


@pytest.mark.parametrize("handler", ["stats", "flush"])
def test_a_signal_handler_using_a_client_with_a_spool_inside_its_flush(
    server: LocalServer, tmp_path: Path, handler: str
) -> None:
    """A handler calling `stats()` or `flush()` while its thread was inside the spool (a flush
    moving events into it or out): the spool's lock was taken again by the same thread, which
    waited for ever. Made reentrant, the handler's flush then began a transaction inside the
    running one (the spool was given up for memory) and drained the queue under the outer
    drain (IndexError, a batch lost): every event is stored now, without an error. (A handler
    taking a batch the interrupted flush had just picked may make it be sent twice: the server
    stores it once.)"""
    child = run_child(
        tmp_path,
        """
        import signal, time

        client = lc.make_client(spool_path=lc.PARAMS["spool"])
        lc.track(client, 1)
        client.flush(timeout=5)  # the first flush's imports done: a handler must not import
        busy = False             # a module its thread is in the middle of importing

        def handler(signum, frame):
            global busy
            if busy:
                return
            busy = True
            try:
                client.stats() if lc.PARAMS["handler"] == "stats" else client.flush(timeout=1)
            finally:
                busy = False

        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, 0.003, 0.003)
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            lc.track(client, 1)
            client.flush(timeout=1)
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        client.flush(timeout=5)
        lc.report("done", client)
        """,
        config_for(server),
        params={"spool": str(tmp_path / "spool.db"), "handler": handler},
        timeout=60,
    )
    assert child.returncode == 0, child.describe()
    assert_clean(child, server.key)
    done = child.report("done")
    tracked = done["tracked"]
    assert tracked, child.describe()
    assert sorted(server.stored_ids()) == sorted(tracked), child.describe()
    stats = stats_of(done)
    assert (stats.queued, stats.spooled, stats.in_flight, stats.internal_errors) == (0, 0, 0, 0)
    assert "cannot be used" not in child.stderr, child.describe()  # the spool was kept
    assert stats.sent + stats.duplicate >= len(tracked), child.describe()


SIGINT_DURING_EXIT = """
client = lc.make_client(
    on_error=lambda error, events: lc.mark("on_error", count=len(events), error=str(error))
)
if lc.PARAMS["started"]:
    client.start()
lc.track(client, 5)
lc.mark("exiting")  # and the script ends: the exit flush sends to a server that takes 5 s
"""


@pytest.mark.parametrize("started", [False, True], ids=["never-started", "started"])
def test_ctrl_c_during_the_exit_flush_says_what_is_lost(tmp_path: Path, started: bool) -> None:
    """A script that simply ended, and a Ctrl-C during its exit flush (a CLI the user tires
    of): it ends at once, and what it held is said lost, in the log and to `on_error`. Before,
    the interrupt escaped the flush: the events went without a word, and Python printed an
    "Exception ignored in atexit callback" traceback."""
    slow = FaultConfig(rate=1.0, kinds=("delay",), delay_seconds=5.0, paths=("/v1/events/batch",))
    with local_server(slow) as srv:
        child = run_child(
            tmp_path,
            SIGINT_DURING_EXIT,
            config_for(srv),
            params={"started": started},
            actions=[Action("exiting", send(signal.SIGINT), delay=0.7)],
        )
        assert child.returncode == 0, child.describe()  # the script itself had ended well
        assert_clean(child, srv.key)  # no traceback
        exiting = child.mark("exiting")["t"]
        assert child.elapsed < 0.7 + 1.0 + 10.0, child.describe()  # bounded, not the 5 s
        on_error = child.mark("on_error")
        assert on_error["count"] == 5
        assert "interrupted" in on_error["error"]
        message = the_report(child, after=exiting, count=5, url=srv.url, lost=True)
        assert "interrupted (Ctrl-C)" in message
        assert srv.event_count() == 0
