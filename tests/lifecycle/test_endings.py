"""The ordinary ways a program ends its client, sync and async, with and without a spool.

Each runs in its own interpreter against the real local server: the events are tracked, nothing
is sent before the ending (the interval is an hour and no batch fills), and the ending alone
must deliver every one, exactly once, with nothing logged at WARNING. After `stop()` returns
no request leaves and no counter moves.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lifecycle._harness import (
    GRACE,
    Child,
    LocalServer,
    assert_accounts,
    assert_clean,
    assert_no_warning,
    config_for,
    run_child,
    stats_of,
)

EVENTS = 7

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
    time.sleep(0.5)
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
    await asyncio.sleep(0.5)
    lc.report("later")

asyncio.run(main())
"""

ENDINGS = [
    ("sync", "stop"),
    ("sync", "with"),
    ("sync", "exit"),
    ("async", "stop_async"),
    ("async", "async_with"),
    ("async", "asyncio_run_returns"),
]


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
    assert server.deliveries() == dict.fromkeys(tracked, 1)
    stats = stats_of(final)
    assert stats.sent == events, child.describe()
    assert stats.duplicate == 0  # type: ignore[attr-defined]
    assert (stats.queued, stats.spooled, stats.dropped) == (0, 0, {})
    assert_accounts(stats, events)
    assert_no_warning(child)


def check_still_after_stop(child: Child, server: LocalServer) -> None:
    """After stop() returned: no counter changes, no request leaves, sent equals stored."""
    stopped, later = child.report("stopped"), child.report("later")
    assert stopped["stats"] == later["stats"], "a counter changed after stop() returned"
    assert stats_of(stopped).in_flight == 0  # type: ignore[attr-defined]
    assert stats_of(stopped).sent == server.event_count()
    late = server.arrived_after(child.mark("stopped")["t"] + GRACE)
    assert not late, f"requests left after stop() returned: {late}"


@pytest.mark.parametrize("spool", [False, True], ids=["memory", "spool"])
@pytest.mark.parametrize(("mode", "ending"), ENDINGS, ids=[e for _, e in ENDINGS])
def test_every_ending_delivers_what_was_tracked(
    server: LocalServer, tmp_path: Path, mode: str, ending: str, spool: bool
) -> None:
    overrides = {"spool_path": str(tmp_path / "spool" / "events.db")} if spool else {}
    child = run_child(
        tmp_path,
        SYNC if mode == "sync" else ASYNC,
        config_for(server, **overrides),
        params={"ending": ending, "events": EVENTS},
    )
    check_delivered(child, server, EVENTS)
    if child.marks("stopped"):
        check_still_after_stop(child, server)
    else:
        assert ending in ("exit", "asyncio_run_returns")
    # Nothing was sent before the ending: it is the ending that delivered.
    ending_at = child.mark("ending")["t"]
    assert not [a for a in server.arrivals if a[0] < ending_at]


def test_a_second_client_lifecycle_in_the_same_process_delivers_too(
    server: LocalServer, tmp_path: Path
) -> None:
    """stop(), then start() again on the same client and let the script end."""
    child = run_child(
        tmp_path,
        """
        client = lc.make_client()
        client.start()
        lc.track(client, 3)
        client.stop()
        lc.mark("stopped")
        client.start()
        lc.track(client, 4)
        """,
        config_for(server),
    )
    check_delivered(child, server, 7)
    stopped_at = child.mark("stopped")["t"]
    # The first three went at stop(), the other four at the exit.
    assert len([a for a in server.arrivals if a[0] <= stopped_at]) == 1
    assert len([a for a in server.arrivals if a[0] > stopped_at]) == 1
