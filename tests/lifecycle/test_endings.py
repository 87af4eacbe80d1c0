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
    Action,
    assert_clean,
    config_for,
    run_child,
    stats_of,
)
from tests.lifecycle._scenarios import ASYNC, SYNC, check_delivered, check_still_after_stop
from tests.lifecycle._servers import (
    LocalServer,
    local_server,
)

from mosaicstack_telemetry.server import FaultConfig

EVENTS = 7

ENDINGS = [
    ("sync", "stop"),
    ("sync", "with"),
    ("sync", "exit"),
    ("async", "stop_async"),
    ("async", "async_with"),
    ("async", "asyncio_run_returns"),
]


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


def test_an_event_tracked_while_stop_runs_is_delivered(server: LocalServer, tmp_path: Path) -> None:
    """Another thread tracks all through `stop()`. An event that lands after the final flush
    drained the queue, but before stop() returned, used to stay queued with the client marked
    stopped: the exit hook skipped it, lost without a word (3 runs in 10 lost one). Each round
    uses a new client, so no later flush of the same client picks it up by chance."""
    child = run_child(
        tmp_path,
        """
        import threading, time

        for _ in range(lc.PARAMS["rounds"]):
            client = lc.make_client()
            client.start()
            halt = threading.Event()

            def produce(client=client, halt=halt):
                while not halt.is_set():
                    lc.track(client, 1)
                    time.sleep(0.0003)

            producer = threading.Thread(target=produce)
            producer.start()
            time.sleep(0.02)
            client.stop()
            halt.set()  # only after stop() returned: nothing is tracked after it
            producer.join()
        """,
        config_for(server),
        params={"rounds": 20},
        # stop() sends until the queue is empty or its deadline (5 s here): with a producer
        # still tracking, a round may take the whole deadline when the server is slow (under
        # coverage, in CI), so 20 rounds can take 100 s.
        timeout=180,
    )
    assert child.returncode == 0, child.describe()
    finals = child.finals()
    assert len(finals) == 20, child.describe()
    tracked = [i for final in finals.values() for i in final["tracked"]]
    # On a loaded machine the producer can outrun the server: a request that timed out is sent
    # again (delivered twice, as promised: at least once) and a full queue evicts its oldest
    # event, counted. What must never happen is an event missing without a count.
    counts = server.deliveries(tracked)
    stats = [final["stats"] for final in finals.values()]
    evicted = sum(s["evicted"] for s in stats)
    assert len([i for i, n in counts.items() if n == 0]) <= evicted, child.describe()
    if not evicted and not sum(s["retried"] + s["requeued"] for s in stats):
        assert counts == dict.fromkeys(tracked, 1), child.describe()


def test_events_of_a_client_dropped_without_a_sender_go_at_exit(
    server: LocalServer, tmp_path: Path
) -> None:
    """The docs promise every client holding events a last flush at exit, "started or not,
    stopped or not". A client no longer referenced was garbage-collected with its queue: one
    never started, one that tracked after leaving `with`, one whose asyncio sender's loop no
    longer runs; their events were lost silently."""
    child = run_child(
        tmp_path,
        """
        import gc
        from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig

        def events(n):
            return [EventBuilder(lc.CONFIG["instance_id"]).build() for _ in range(n)]

        def never_started():
            client = TelemetryClient(TelemetryConfig(**lc.CONFIG))
            tracked = events(3)
            for event in tracked:
                client.track(event)
            return [str(e.event_id) for e in tracked]

        def tracked_after_with():
            client = TelemetryClient(TelemetryConfig(**lc.CONFIG))
            with client:
                first = events(2)
                for event in first:
                    client.track(event)
            later = events(2)
            for event in later:
                client.track(event)
            return [str(e.event_id) for e in first + later]

        def loop_no_longer_running():
            import asyncio

            client = TelemetryClient(TelemetryConfig(**lc.CONFIG))
            loop = asyncio.new_event_loop()  # left unclosed: its sender task never runs again
            loop.run_until_complete(client.start_async())
            tracked = events(2)
            for event in tracked:
                client.track(event)
            return [str(e.event_id) for e in tracked]

        ids = never_started() + tracked_after_with() + loop_no_longer_running()
        gc.collect()
        lc.mark("dropped", ids=ids)
        """,
        config_for(server),
    )
    assert child.returncode == 0, child.describe()
    assert_clean(child, server.key)
    ids = child.mark("dropped")["ids"]
    assert len(ids) == 9
    assert server.deliveries(ids) == dict.fromkeys(ids, 1), child.describe()


@pytest.mark.parametrize("dropped", [False, True], ids=["kept", "dropped"])
def test_events_in_flight_when_the_loop_was_closed_go_at_exit(
    tmp_path: Path, dropped: bool
) -> None:
    """A hand-made loop closed (without `stop_async()`) while its sender waits for an answer:
    the events that request carried are neither queued nor sent. The exit hook looked only at
    the queue, found it empty, and skipped the client: the events were lost without a word.
    The client kept or dropped (garbage-collected) alike."""
    # Every request is read, then served 1 s later: the closed loop's request may still be
    # served while the exit flush sends the same events again (within the exit budget, 2 s);
    # the server stores each once.
    with local_server(FaultConfig(rate=1.0, kinds=("delay",), delay_seconds=1.0)) as srv:
        child = run_child(
            tmp_path,
            """
            import asyncio, gc

            async def main(client):
                await client.start_async()
                lc.track(client, 3)  # a full batch: the sender wakes and sends it
                # Until the request is out (its answer comes 1 s later); a loaded machine may
                # take a while to load the HTTP stack first.
                for _ in range(1000):
                    if client.stats().in_flight:
                        break
                    await asyncio.sleep(0.01)

            client = lc.make_client(batch_size=3)
            loop = asyncio.new_event_loop()
            loop.run_until_complete(main(client))
            loop.close()
            lc.report("closed", client)
            if lc.PARAMS["dropped"]:
                ids = lc._tracked.pop((lc.os.getpid(), 0))
                lc._clients.clear()
                del client
                gc.collect()
                lc.mark("dropped", ids=ids)
            """,
            config_for(srv),
            params={"dropped": dropped},
        )
        assert child.returncode == 0, child.describe()
        assert_clean(child, srv.key)
        closed = stats_of(child.report("closed"))
        assert (closed.in_flight, closed.queued) == (3, 0), child.describe()
        ids = child.mark("dropped")["ids"] if dropped else child.report("closed")["tracked"]
        assert sorted(srv.stored_ids()) == sorted(ids), child.describe()
        if not dropped:
            final = stats_of(child.report("final"))
            assert (final.in_flight, final.queued, final.sent + final.duplicate) == (0, 0, 3)


@pytest.mark.parametrize("started", [False, True], ids=["never-started", "started"])
def test_the_exit_flush_sends_when_no_thread_can_be_started(
    server: LocalServer, tmp_path: Path, started: bool
) -> None:
    """Python 3.12.0 and 3.12.1 refuse to start a thread once the interpreter shuts down
    (`RuntimeError: can't create new thread at interpreter shutdown`), and the exit flush ran
    each request on a new worker thread: it failed with a traceback and lost every event. A
    worker that cannot be started now means the request runs on the flushing thread. Here the
    refusal is made by hand, by an exit handler that runs before the SDK's, on any Python."""
    child = run_child(
        tmp_path,
        """
        import atexit, threading

        def refuse(self):
            raise RuntimeError("can't create new thread at interpreter shutdown")

        client = lc.make_client()
        if lc.PARAMS["started"]:
            client.start()
        lc.track(client, 3)
        atexit.register(lambda: setattr(threading.Thread, "start", refuse))
        """,
        config_for(server),
        params={"started": started},
    )
    assert child.returncode == 0, child.describe()
    assert_clean(child, server.key)
    tracked = [i for final in child.finals().values() for i in final["tracked"]]
    assert len(tracked) == 3, child.describe()
    assert server.deliveries(tracked) == dict.fromkeys(tracked, 1), child.describe()


def test_a_dropped_clients_events_its_sender_could_not_send_go_at_exit(tmp_path: Path) -> None:
    """A started client garbage-collected while the server is down: its sender's last flush
    (2 s) fails and the sender ends. Its events were kept by nothing ("they stay queued", said
    the warning) and lost at exit, though the server was back by then."""
    with local_server() as srv:
        srv.set_down(True)
        child = run_child(
            tmp_path,
            """
            import gc, threading, time

            client = lc.make_client()
            client.start()
            lc.track(client, 3)
            ids = lc._tracked.pop((lc.os.getpid(), 0))
            lc._clients.clear()
            del client
            gc.collect()  # its sender makes a last flush, which fails, and ends
            for _ in range(1000):
                if "mosaicstack-telemetry-sender" not in [t.name for t in threading.enumerate()]:
                    break
                time.sleep(0.01)
            lc.mark("sender-ended", ids=ids)
            time.sleep(0.5)  # the server comes back meanwhile
            """,
            config_for(srv),
            actions=[Action("sender-ended", lambda _: srv.set_down(False))],
        )
        assert child.returncode == 0, child.describe()
        ids = child.mark("sender-ended")["ids"]
        assert sorted(srv.stored_ids()) == sorted(ids), child.describe()
        # Said once, truthfully: they stayed queued (for the exit flush), and were not lost.
        assert child.stderr.count("3 events were not delivered") == 1, child.describe()
        assert "they stay queued" in child.stderr, child.describe()
        assert "lost" not in child.stderr, child.describe()


def test_a_dropped_async_clients_events_go_at_exit_after_its_loop_stopped(
    server: LocalServer, tmp_path: Path
) -> None:
    """A client started in a loop that runs in another thread, dropped from this one: its
    task kept the events, then the loop stopped (not closed) with the task suspended. Nothing
    held the client for the exit flush: the events were lost without a word."""
    child = run_child(
        tmp_path,
        """
        import asyncio, gc, threading

        loop = asyncio.new_event_loop()
        runner = threading.Thread(target=loop.run_forever)
        runner.start()

        async def begin():
            client = lc.make_client(submit_interval_seconds=3600)
            await client.start_async()
            lc.track(client, 3)
            return client

        client = asyncio.run_coroutine_threadsafe(begin(), loop).result()
        ids = lc._tracked.pop((lc.os.getpid(), 0))
        lc._clients.clear()
        del client
        gc.collect()
        loop.call_soon_threadsafe(loop.stop)
        runner.join()
        lc.mark("loop-stopped", ids=ids)
        """,
        config_for(server),
    )
    assert child.returncode == 0, child.describe()
    ids = child.mark("loop-stopped")["ids"]
    assert server.deliveries(ids) == dict.fromkeys(ids, 1), child.describe()


@pytest.mark.parametrize("ended", ["closed", "stopped"])
def test_a_client_restarted_after_its_loop_ended_sends_what_that_loop_left_in_flight(
    tmp_path: Path, ended: str
) -> None:
    """A loop closed (no `stop_async()`) while its sender waited for an answer, then the client
    started again in `asyncio.run()`: the old request's events were counted in flight for ever,
    never sent again (lost if the server had not stored them), and `flush_async()` waited out
    its whole timeout for them. A loop only stopped (not closed) kept its task "running":
    `start_async()` in the new loop was ignored, and nothing sent in the background there."""
    with local_server(FaultConfig(rate=1.0, kinds=("delay",), delay_seconds=1.0)) as srv:
        child = run_child(
            tmp_path,
            """
            import asyncio

            client = lc.make_client(batch_size=3)

            async def first():
                await client.start_async()
                lc.track(client, 3)  # a full batch: sent at once, answered 1 s later
                for _ in range(1000):
                    if client.stats().in_flight:
                        break
                    await asyncio.sleep(0.01)

            loop = asyncio.new_event_loop()
            loop.run_until_complete(first())
            if lc.PARAMS["ended"] == "closed":
                loop.close()
            lc.report("closed", client)

            async def second():
                await client.start_async()
                lc.track(client, 3)
                for _ in range(1000):  # sent by the new sender, in the background
                    if client.stats().sent + client.stats().duplicate == 6:
                        break
                    await asyncio.sleep(0.01)
                result = await client.flush_async(timeout=10)
                lc.mark("flushed", remaining=result.remaining)
                await client.stop_async()

            asyncio.run(second())
            lc.report("stopped", client)
            """,
            config_for(srv, submit_interval_seconds=0.05),
            params={"ended": ended},
        )
        assert child.returncode == 0, child.describe()
        assert_clean(child, srv.key)
        assert stats_of(child.report("closed")).in_flight == 3, child.describe()
        assert child.mark("flushed")["remaining"] == 0, child.describe()
        stopped = stats_of(child.report("stopped"))
        assert (stopped.in_flight, stopped.queued) == (0, 0), child.describe()
        assert stopped.sent + stopped.duplicate == 6, child.describe()
        tracked = child.report("stopped")["tracked"]
        assert sorted(srv.stored_ids()) == sorted(tracked), child.describe()


def test_a_client_dropped_just_before_the_script_ends_delivers(tmp_path: Path) -> None:
    """`def main(): client = ...; client.start(); client.track(...)`, then the script ends: the
    client is dropped as `main()` returns and its sender starts a last flush, which the exit
    flush knew nothing of: the interpreter ended under it, the events lost without a word."""
    with local_server(FaultConfig(rate=1.0, kinds=("delay",), delay_seconds=0.5)) as srv:
        child = run_child(
            tmp_path,
            """
            def main():
                client = lc.make_client()
                client.start()
                lc.track(client, 3)
                ids = lc._tracked.pop((lc.os.getpid(), 0))
                lc._clients.clear()
                lc.mark("dropped", ids=ids)

            main()  # the client is dropped here, and the script ends at once
            """,
            config_for(srv),
        )
        assert child.returncode == 0, child.describe()
        assert_clean(child, srv.key)
        ids = child.mark("dropped")["ids"]
        assert sorted(srv.stored_ids()) == sorted(ids), child.describe()


def test_dropped_async_clients_whose_loop_is_blocked_share_one_exit_budget(
    server: LocalServer, tmp_path: Path
) -> None:
    """Ten asyncio clients, their loop in a thread that is blocked when the process exits: the
    exit flush waited each one's deadline plus a second of grace (12 s for ten) where the docs
    promise one budget (2 s) for all; the loop could run none of them anyway. They are
    reported as lost, in one bounded wait."""
    child = run_child(
        tmp_path,
        """
        import asyncio, gc, threading, time

        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()

        async def begin():
            client = lc.make_client(submit_interval_seconds=3600)
            await client.start_async()
            lc.track(client, 1)

        for _ in range(10):
            asyncio.run_coroutine_threadsafe(begin(), loop).result()
        lc._clients.clear()
        gc.collect()
        loop.call_soon_threadsafe(time.sleep, 60)  # its thread is busy as the process exits
        time.sleep(0.1)
        lc.mark("exiting")
        """,
        config_for(server),
        timeout=60,
    )
    assert child.returncode == 0, child.describe()
    assert child.elapsed < 8, child.describe()  # one 2 s budget, not 10 x (2 s + 1 s)
    assert "lost" in child.stderr, child.describe()
