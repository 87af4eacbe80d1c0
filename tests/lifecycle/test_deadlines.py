"""When the server cannot take the events before the deadline: down, failing, silent, slow.

`stop()` returns by its deadline, cutting a request in flight; what is left is accounted for by
the counters and reported by one warning that says how many, why (the last error) and where (the
URL, never the key), and says "lost" only when the process is exiting and nothing keeps them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.lifecycle._harness import (
    assert_accounts,
    assert_clean,
    config_for,
    run_child,
    stats_of,
    the_report,
)
from tests.lifecycle._scenarios import EXIT, STOP, check_stopped_in_time, unreachable
from tests.lifecycle._servers import (
    local_server,
)

from mosaicstack_telemetry.server import FaultConfig

EVENTS = 6
STOP_TIMEOUT = 0.6
#: The exit hook's budget too (min(2 s, this)): the process ends soon after its stop().
SHUTDOWN = 1.0


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", ["down", "500", "silent"])
def test_stop_against_a_server_that_cannot_take_the_events(
    tmp_path: Path, kind: str, mode: str
) -> None:
    with unreachable(kind) as srv:
        child = run_child(
            tmp_path,
            STOP,
            config_for(srv, shutdown_timeout_seconds=SHUTDOWN),
            params={"mode": mode, "events": EVENTS, "stop_timeout": STOP_TIMEOUT},
        )
        assert child.returncode == 0, child.describe()
        assert_clean(child, srv.key)
        check_stopped_in_time(child, srv, EVENTS, STOP_TIMEOUT)
        stats = stats_of(child.report("stopped"))
        assert stats.sent == 0
        assert stats.queued == EVENTS  # still queued: the process goes on
        assert stats.last_error, "the failure is not recorded"
        if kind == "silent":
            assert "timeout" in stats.last_error.lower(), stats.last_error
        if kind != "silent":
            assert srv.event_count() == 0
        # The process is not exiting and the events stay queued: not "lost".
        the_report(
            child,
            after=child.mark("stopping")["t"],
            until=child.mark("stopped")["t"],
            count=EVENTS,
            url=srv.url,
            last_error=stats.last_error,
            lost=False,
        )


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_stop_with_a_request_in_flight_cuts_it_and_sent_equals_stored(
    tmp_path: Path, mode: str
) -> None:
    """300 events: one batch goes at once (a full batch wakes the sender); stop() 1 s later
    finds the second request in flight, cuts it at the deadline and waits for the sender."""
    # Every request is read, then served 0.6 s later (or not at all if the client gave up).
    with local_server(FaultConfig(rate=1.0, kinds=("delay",), delay_seconds=0.6)) as srv:
        child = run_child(
            tmp_path,
            STOP,
            config_for(srv, shutdown_timeout_seconds=SHUTDOWN),
            params={"mode": mode, "events": 300, "stop_timeout": 1.0},
        )
        assert child.returncode == 0, child.describe()
        assert_clean(child, srv.key)
        check_stopped_in_time(child, srv, 300, 1.0)
        stats = stats_of(child.report("stopped"))
        assert stats.sent == srv.event_count(), "what the client counts is not what was stored"
        assert stats.duplicate == 0
        left = stats.queued + stats.spooled
        assert left > 0  # the deadline did cut the drain short
        # The request out at the deadline was cut; on a machine so loaded that loading the HTTP
        # stack took the whole second, none went out: nothing to cut, and nothing was sent.
        cut = sum(1 for r in srv.requests if r.status is None)
        assert cut >= 1 or (not srv.requests and stats.sent == 0), child.describe()
        the_report(
            child,
            after=child.mark("stopping")["t"],
            until=child.mark("stopped")["t"],
            count=left,
            url=srv.url,
            lost=False,
        )


@pytest.mark.parametrize(
    ("mode", "kind", "spool"),
    [("async", "500", False), ("sync", "silent", False), ("sync", "down", True)],
    ids=["async-500", "sync-silent", "sync-down-spool"],
)
def test_exit_with_events_left(tmp_path: Path, mode: str, kind: str, spool: bool) -> None:
    """The script ends with events the server cannot take: the exit flush gives up within its
    budget and one warning says how many; "lost" unless a spool keeps them."""
    with unreachable(kind) as srv:
        overrides: dict[str, Any] = {"shutdown_timeout_seconds": 1.0}
        if spool:
            overrides["spool_path"] = str(tmp_path / "spool.db")
        child = run_child(
            tmp_path, EXIT, config_for(srv, **overrides), params={"mode": mode, "events": 4}
        )
        assert child.returncode == 0, child.describe()
        assert_clean(child, srv.key)
        assert child.elapsed < 1.0 + 10.0  # the exit budget, plus start-up, generously
        (final,) = child.finals().values()
        stats = stats_of(final)
        assert_accounts(stats, 4)
        assert stats.sent == 0
        assert stats.in_flight == 0
        assert (stats.spooled if spool else stats.queued) == 4
        the_report(
            child,
            after=child.mark("exiting")["t"],
            count=4,
            url=srv.url,
            last_error=stats.last_error,
            lost=not spool,
        )
