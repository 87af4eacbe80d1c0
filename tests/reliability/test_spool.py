"""The durable spool: nothing leaves it before the server accepted it; processes share it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from tests.sdk.conftest import Reply, ScriptedServer, background_flush, make_config, make_event

from mosaicstack_telemetry import TelemetryClient
from mosaicstack_telemetry._spool import Spool

#: The instance of the hand-made rows (a spool leases one instance's events at a time).
INST = "12345678-1234-4234-8234-123456789abc"


def _rows(n: int, prefix: str = "e") -> list[tuple[str, str, bytes]]:
    return [(f"{prefix}{i}", INST, b'{"n": %d}' % i) for i in range(n)]


def test_spool_add_lease_ack_release(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db")
    assert spool.add(_rows(5)) == 0
    assert spool.add(_rows(2)) == 0  # known event_ids are stored once
    assert spool.count() == 5
    first = spool.lease(3, 60, INST)
    assert [e.event_id for e in first] == ["e0", "e1", "e2"]
    second = spool.lease(3, 60, INST)
    assert [e.event_id for e in second] == ["e3", "e4"]  # leased rows are not handed out twice
    assert spool.lease(3, 60, INST) == []
    spool.ack(first)
    spool.release(second)
    assert spool.count() == 2
    assert [e.event_id for e in spool.lease(5, 60, INST)] == ["e3", "e4"]
    assert spool.oldest_age() is not None
    spool.close()


def test_spool_is_bounded_oldest_evicted_and_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", max_events=3)
    assert spool.add(_rows(5)) == 2
    assert spool.count() == 3
    assert spool.evicted() == 2
    assert [e.event_id for e in spool.lease(5, 60, INST)] == ["e2", "e3", "e4"]


def test_expired_lease_is_reclaimed(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db")
    spool.add(_rows(2))
    assert len(spool.lease(2, 0.05, INST)) == 2
    time.sleep(0.1)
    assert len(spool.lease(2, 60, INST)) == 2


@pytest.mark.skipif(sys.platform == "win32", reason="dead-process leases rely on POSIX kill(0)")
def test_lease_of_a_dead_process_is_reclaimed_at_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Spool(path).add(_rows(3))
    code = f"""
        from mosaicstack_telemetry._spool import Spool
        print(len(Spool({str(path)!r}).lease(3, 3600, {INST!r})))
    """
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip() == "3"  # leased for an hour by a process that has now exited
    assert len(Spool(path).lease(3, 60, INST)) == 3


def test_client_persists_promptly_and_sends_on_stop(server: ScriptedServer, tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    client = TelemetryClient(make_config(server.url, spool_path=str(path)))
    client.start()
    events = [make_event() for _ in range(3)]
    for event in events:
        client.track(event)
    spool = Spool(path)
    deadline = time.monotonic() + 10
    while spool.count() < 3 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert spool.count() == 3  # on disk, though the batch is not full and the hour not over
    assert client.queue_size == 0
    assert server.seen == []
    client.stop()
    assert server.event_ids() == [str(e.event_id) for e in events]
    assert spool.count() == 0


def test_events_leave_the_spool_only_when_accepted(server: ScriptedServer, tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    client = TelemetryClient(make_config(server.url, spool_path=str(path), max_retries=0))
    for _ in range(4):
        client.track(make_event())
    server.script(Reply(503))
    assert background_flush(client) is False
    assert Spool(path).count() == 4
    assert client.stats().spooled == 4
    assert client.flush().sent == 4
    assert Spool(path).count() == 0


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_stay_in_the_spool(
    server: ScriptedServer, tmp_path: Path, status: int
) -> None:
    path = tmp_path / "spool.db"
    client = TelemetryClient(make_config(server.url, spool_path=str(path)))
    client.track(make_event())
    server.script(Reply(status))
    result = client.flush()
    assert result.dropped == 0
    assert result.remaining == 1
    assert Spool(path).count() == 1
    assert client.flush().sent == 1  # with the key fixed (here: the server relents)


def test_other_permanent_failures_leave_the_spool(server: ScriptedServer, tmp_path: Path) -> None:
    path = tmp_path / "spool.db"
    client = TelemetryClient(make_config(server.url, spool_path=str(path)))
    client.track(make_event())
    server.script(Reply(422))
    assert client.flush().dropped == 1
    assert Spool(path).count() == 0


def test_spool_survives_the_process(server: ScriptedServer, tmp_path: Path) -> None:
    """A process that tracks and exits with the server down leaves its events on disk; the
    next process delivers them."""
    path = tmp_path / "spool.db"
    code = f"""
        from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
        config = TelemetryConfig(server_url="http://127.0.0.1:9", api_key="{"ab" * 32}",
                                 instance_id="12345678-1234-4234-8234-123456789abc",
                                 spool_path={str(path)!r}, shutdown_timeout_seconds=0.5)
        client = TelemetryClient(config)
        for _ in range(7):
            client.track(EventBuilder(config.instance_id).build())
        client.stop()
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_TELEMETRY_")}
    subprocess.run([sys.executable, "-c", textwrap.dedent(code)], check=True, timeout=60, env=env)
    assert Spool(path).count() == 7
    client = TelemetryClient(make_config(server.url, spool_path=str(path)))
    assert client.flush().sent == 7
    assert len(set(server.event_ids())) == 7


_FLUSHER = """
import sys
from mosaicstack_telemetry import TelemetryClient, TelemetryConfig
config = TelemetryConfig(server_url=sys.argv[1], api_key=sys.argv[2], instance_id=sys.argv[3],
                         spool_path=sys.argv[4], batch_size=5, max_retries=0)
result = TelemetryClient(config).flush(timeout=60)
print(result.sent, result.duplicate, result.remaining)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL and dead-process leases are POSIX")
def test_sigkill_mid_flush_then_another_process_delivers_each_event_once(tmp_path: Path) -> None:
    """A process killed (SIGKILL) while a batch is in flight leaves its lease behind; the next
    process on the same spool reclaims it at once and delivers the rest: every event is stored
    exactly once (the server dedupes the batch that was in flight) and the spool ends empty."""
    import signal
    import sqlite3

    server_mod = pytest.importorskip("mosaicstack_telemetry.server")
    from tests.sdk.conftest import API_KEY, INSTANCE_ID

    path = tmp_path / "spool.db"
    events = [make_event() for _ in range(60)]
    ids = {str(e.event_id) for e in events}
    Spool(path).add(
        (str(e.event_id), str(e.instance_id), e.model_dump_json().encode()) for e in events
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_TELEMETRY_")}
    # Every events request waits 0.15 s before it is processed: the flush is slow enough
    # to be caught with a batch in flight.
    faults = server_mod.FaultConfig(
        kinds=("delay",), rate=1.0, delay_seconds=0.15, paths=("/v1/events/batch",)
    )
    with server_mod.start_server(keys={API_KEY: INSTANCE_ID}, faults=faults) as srv:
        args = [srv.url, API_KEY, INSTANCE_ID, str(path)]
        child = subprocess.Popen([sys.executable, "-c", _FLUSHER, *args], env=env)
        probe = sqlite3.connect(path, timeout=10)
        leased = 0
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline and child.poll() is None:
                (leased,) = probe.execute(
                    "SELECT COUNT(*) FROM events WHERE lease_pid = ? AND lease_until > ?",
                    (child.pid, time.time()),
                ).fetchone()
                if srv.event_count() >= 10 and leased:
                    break  # some batches delivered, the next one in flight
                time.sleep(0.005)
            os.kill(child.pid, signal.SIGKILL)
        finally:
            child.wait(timeout=30)  # reaped: a zombie would still look alive to kill(0)
        assert child.returncode == -signal.SIGKILL
        # The batch in flight at the kill may still be stored after this count (the server
        # had received it): the next process then gets its events back as duplicates.
        stored_at_kill = srv.event_count()
        assert 10 <= stored_at_kill < len(events)
        assert leased > 0  # the dead process held a lease at its death
        probe.close()
        left = Spool(path).count()
        assert left >= len(events) - stored_at_kill  # what was delivered left the spool

        start = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-c", _FLUSHER, *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert time.monotonic() - start < 30  # the dead lease was reclaimed, not waited out
        sent, duplicate, remaining = map(int, out.stdout.split())
        assert remaining == 0
        assert sent + duplicate == left  # every leftover answered, the dead lease's included
        stored = [e["event_id"] for e in srv.stored_events()]
        assert len(stored) == len(events)  # exactly once: the in-flight batch is not doubled
        assert set(stored) == ids
    assert Spool(path).count() == 0


def test_an_unwritable_spool_never_makes_flush_or_stats_raise(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    config = make_config("http://127.0.0.1:9", spool_path=str(blocker / "spool.db"))
    client = TelemetryClient(config)
    client.track(make_event())
    stats = client.stats()
    assert stats.last_error is not None
    assert stats.spooled == 0
    result = client.flush(timeout=0.5)
    assert result.sent == 0
    client.stop(timeout=0.5)
    assert client.queue_size == 1  # kept in memory: nothing was lost


def test_a_busy_spool_is_tried_again_not_abandoned(
    server: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    path = tmp_path / "spool.db"
    client = TelemetryClient(make_config(server.url, spool_path=str(path)))
    assert client._delivery is not None
    spool = client._delivery.source.spool
    assert spool is not None
    real_add = spool.add
    calls: list[int] = []

    def busy_once(events: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return real_add(events)

    monkeypatch.setattr(spool, "add", busy_once)
    client.track(make_event())
    client.close()  # moves the queue into the spool: busy, so the event stays in memory
    assert client.queue_size == 1
    assert client._delivery.source.spool is spool  # not given up
    assert "database is locked" in (client.stats().last_error or "")
    client.close()  # the next attempt succeeds
    assert client.queue_size == 0
    assert Spool(path).count() == 1


def test_an_event_that_cannot_be_serialized_is_dropped_and_counted(
    server: ScriptedServer,
) -> None:
    client = TelemetryClient(make_config(server.url, max_concurrent_requests=1, batch_size=1))
    broken = make_event()
    object.__setattr__(broken, "model", object())  # mutated into something JSON cannot carry
    client.track(broken)
    client.track(make_event())
    client.stop()
    stats = client.stats()
    assert stats.dropped == {"serialization_error": 1}
    assert stats.sent == 1
    assert stats.in_flight == 0


@pytest.mark.parametrize("spool", [False, True], ids=["memory", "spool"])
def test_one_unserializable_event_is_dropped_alone(
    server: ScriptedServer, tmp_path: Any, spool: bool
) -> None:
    """A `before_send` in the docs' style (`model_copy(update=...)`, which does not validate)
    set a value pydantic cannot write on one event of five. The whole batch was dropped; with a
    spool, the error was blamed on the spool, which the client gave up for good."""

    def scrub(event: Any) -> Any:
        return event.model_copy(update={"language": b"\xff"}) if event.model == "bad" else event

    path = str(tmp_path / "spool.db")
    overrides = {"spool_path": path} if spool else {}
    client = TelemetryClient(make_config(server.url, before_send=scrub, **overrides))
    for model in ("a", "b", "bad", "c", "d"):
        client.track(make_event(model=model))
    client.close()  # with a spool: moved into it
    if spool:
        assert client._delivery is not None
        assert client._delivery.source.spool is not None  # not given up
        assert Spool(path).count() == 4
    client.stop()
    stats = client.stats()
    assert stats.dropped == {"serialization_error": 1}
    assert (stats.sent, stats.in_flight, stats.queued, stats.spooled) == (4, 0, 0, 0)
    models = [e["model"] for s in server.events_posts() for e in s.json()["events"]]
    assert sorted(models) == ["a", "b", "c", "d"]


def test_a_forked_child_keeps_its_parents_connection_unused_and_open(tmp_path: Path) -> None:
    # Dropped, the parent's connection was freed in the child, which closes it (it could
    # disturb the parent's file) and warns "unclosed database" on Python 3.13; a module-level
    # list was freed at the child's interpreter exit too. One reference is never released.
    import sys

    from mosaicstack_telemetry import _spool

    for close_first in (False, True):
        spool = Spool(tmp_path / f"spool-{close_first}.db")
        spool.add_events([make_event()])
        parents = spool._conn
        assert parents is not None
        spool._pid = -1  # as in a forked child: the connection is another process's
        held = sys.getrefcount(parents)  # this frame's, the spool's, the call's
        if close_first:
            spool.close()  # a child closing the spool before using it
        else:
            assert spool.count() == 1  # through a connection of its own
            assert spool._conn is not parents
            spool.close()
        assert spool._conn is None
        assert sys.getrefcount(parents) == held  # the spool's reference became the kept one
        assert _spool._INHERITED == []  # kept by that reference, not by a list freed at exit
        parents.execute("SELECT 1")  # never closed
        parents.close()  # the test's own cleanup (the object itself stays, by design)


def test_a_spool_shared_by_two_instances_leases_each_its_own(tmp_path: Path) -> None:
    # The server refuses another instance's events for good (instance_mismatch): a client
    # that leased them from a shared spool had them deleted, never stored anywhere.
    other = "00000000-0000-4000-8000-0000000000ff"
    spool = Spool(tmp_path / "s.db")
    spool.add([("a", INST, b"{}"), ("b", other.upper(), b"{}"), ("c", INST, b"{}")])
    assert spool.count() == 3  # the file holds all three
    assert spool.count(INST) == 2
    assert [e.event_id for e in spool.lease(10, 60, INST)] == ["a", "c"]
    assert [e.event_id for e in spool.lease(10, 60, other)] == ["b"]  # any case of its id
    spool.close()


def test_a_spool_from_before_the_instance_column_is_migrated(tmp_path: Path) -> None:
    import json
    import sqlite3

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE,
            body BLOB NOT NULL, created REAL NOT NULL, lease_until REAL NOT NULL DEFAULT 0,
            lease_pid INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
        """
    )
    other = "00000000-0000-4000-8000-0000000000ff"
    for event_id, instance in (("a", INST), ("b", other)):
        body = json.dumps({"event_id": event_id, "instance_id": instance}).encode()
        conn.execute(
            "INSERT INTO events (event_id, body, created) VALUES (?, ?, 0)", (event_id, body)
        )
    for event_id, body in (("x", b'{"event_id": "x"}'), ("y", b"not json")):  # odd rows
        conn.execute(
            "INSERT INTO events (event_id, body, created) VALUES (?, ?, 0)", (event_id, body)
        )
    conn.commit()
    conn.close()
    spool = Spool(path)
    # Read from each body; rows whose instance cannot be read stay open to any instance.
    assert [e.event_id for e in spool.lease(10, 60, INST)] == ["a", "x", "y"]
    spool.add(_rows(1, prefix="new"))
    assert spool.count(INST) == 4  # a, x, y (leased here) and the new one
    assert [e.event_id for e in spool.lease(10, 60, other)] == ["b"]
    spool.close()


def test_a_client_sends_what_it_tracked_whatever_instance_the_event_names(
    server: ScriptedServer, tmp_path: Path
) -> None:
    # Spooled under the event's own instance, it waited for a client of that instance for
    # ever; without a spool it is sent, and a real server refuses it (counted, logged).
    from uuid import UUID

    path = tmp_path / "s.db"
    client = TelemetryClient(make_config(server.url, spool_path=str(path)))
    event = make_event(instance_id=UUID("00000000-0000-4000-8000-0000000000ff"))
    client.track(event)
    client.stop()
    assert server.event_ids() == [str(event.event_id)]
    assert Spool(path).count() == 0


class _SignalInTransaction:
    """The spool's connection, raising `signum` in this process right after it begins a
    transaction: the handler then runs inside it, as a real signal can (deterministically)."""

    def __init__(self, conn: Any, signum: int) -> None:
        self._conn, self._signum = conn, signum

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def execute(self, sql: str, *args: Any) -> Any:
        result = self._conn.execute(sql, *args)
        if sql == "BEGIN IMMEDIATE" and self._signum:
            signum, self._signum = self._signum, 0
            os.kill(os.getpid(), signum)
        return result


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("ending", ["exit", "interrupt"])
def test_a_signal_handler_ending_a_flush_inside_the_spool_keeps_every_event(
    tmp_path: Path, ending: str
) -> None:
    """A SIGTERM handler that tracks, flushes and exits, run while its thread's flush was in
    a spool transaction: the handler's writes shared that transaction and were rolled back
    with it, and the batch the interrupted flush had drained from the queue was lost too (as
    with Ctrl-C there). Every event stays held now, for the exit flush."""
    import signal

    client = TelemetryClient(make_config("http://127.0.0.1:9", spool_path=str(tmp_path / "s.db")))
    source = client._delivery.source  # type: ignore[union-attr]
    spool = source.spool
    connect = spool._connect

    def handler(signum: int, frame: object) -> None:
        for _ in range(2):
            client.track(make_event())
        client.flush(timeout=0.2)
        raise SystemExit(0) if ending == "exit" else KeyboardInterrupt

    previous = signal.signal(signal.SIGUSR1, handler)
    try:
        for _ in range(3):
            client.track(make_event())
        spool._connect = lambda: _SignalInTransaction(connect(), signal.SIGUSR1)
        with pytest.raises((SystemExit, KeyboardInterrupt)):
            client.flush(timeout=1)
    finally:
        signal.signal(signal.SIGUSR1, previous)
        spool._connect = connect
    assert source.queue.size + Spool(tmp_path / "s.db").count() == 5
    assert client.stats().dropped == {}
    client._stopped = True  # nothing to deliver to at exit: the URL refuses


_TRACKER = """
import asyncio, sys, threading
from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
url, key, instance, path, runner = sys.argv[1:6]
config = TelemetryConfig(server_url=url, api_key=key, instance_id=instance, spool_path=path,
                         batch_size=5, max_retries=0, submit_interval_seconds=3600,
                         request_timeout_seconds=120, max_concurrent_requests=1)
client = TelemetryClient(config)

def serve():
    for line in sys.stdin:
        word, _, n = line.partition(" ")
        if word == "track":
            for _ in range(int(n)):
                client.track(EventBuilder(instance).model("spooled").build())
        print(client.stats().last_error, flush=True)

if runner == "thread":
    client.start()
    serve()
else:
    async def main():
        await client.start_async()
        await asyncio.to_thread(serve)
    asyncio.run(main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("runner", ["thread", "asyncio"])
@pytest.mark.parametrize("server_is", ["down", "slow"])
def test_events_reach_the_spool_promptly_while_a_send_fails_or_lasts(
    tmp_path: Path, runner: str, server_is: str
) -> None:
    """What a spooling client tracks is in the file within moments, whatever the server does:
    after a failed send (the server down) and while a request lasts (a slow server). Before,
    both held new events in memory (until the next interval, 300 s by default, or until the
    answer), and a SIGKILL then lost them."""
    import signal
    import socket
    import sqlite3

    server_mod = pytest.importorskip("mosaicstack_telemetry.server")
    from tests.sdk.conftest import API_KEY, INSTANCE_ID

    path = tmp_path / "spool.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOSAIC_TELEMETRY_")}
    slow = server_mod.FaultConfig(
        kinds=("delay",), rate=1.0, delay_seconds=60.0, paths=("/v1/events/batch",)
    )
    with server_mod.start_server(keys={API_KEY: INSTANCE_ID}, faults=slow) as srv:
        url = srv.url
        if server_is == "down":
            with socket.socket() as closed:  # a port nothing listens on
                closed.bind(("127.0.0.1", 0))
                url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        child = subprocess.Popen(
            [sys.executable, "-c", _TRACKER, url, API_KEY, INSTANCE_ID, str(path), runner],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None
        assert child.stdout is not None

        def ask(line: str) -> str:
            child.stdin.write(line + "\n")  # type: ignore[union-attr]
            child.stdin.flush()  # type: ignore[union-attr]
            return child.stdout.readline().strip()  # type: ignore[union-attr]

        def wait_for(done: Any) -> None:
            deadline = time.monotonic() + 20
            while not done():
                assert time.monotonic() < deadline, "timed out"
                time.sleep(0.02)

        probe = sqlite3.connect(path, timeout=10)
        rows = lambda: probe.execute("SELECT COUNT(*) FROM events").fetchone()[0]  # noqa: E731
        try:
            ask("track 5")  # a whole batch: the sender sends it
            if server_is == "down":
                wait_for(lambda: ask("stats") != "None")  # the send failed
            else:
                leased = "SELECT COUNT(*) FROM events WHERE lease_pid = ?"  # in flight
                wait_for(lambda: probe.execute(leased, (child.pid,)).fetchone()[0] == 5)
            ask("track 7")
            wait_for(lambda: rows() == 12)
        finally:
            probe.close()
            os.kill(child.pid, signal.SIGKILL)
            child.wait(timeout=30)
    assert Spool(path).count() == 12  # all of them survived the kill


_LEASER = """
import sys, time
from mosaicstack_telemetry._spool import Spool
spool = Spool(sys.argv[1])
print(len(spool.lease(100, 3600, sys.argv[2])), flush=True)
time.sleep(60)
"""


def _leased_by(path: Path) -> list[tuple[int, str]]:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT lease_pid, lease_mark FROM events WHERE lease_until > 0")
        return rows.fetchall()
    finally:
        conn.close()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="Linux /proc")
def test_a_lease_of_a_killed_process_not_yet_reaped_is_reclaimed_at_once(tmp_path: Path) -> None:
    """A zombie (killed, its parent busy) still answers kill(pid, 0): its lease of an hour
    held the events until it expired, and a short-lived process sent nothing, saying nothing."""
    import signal

    path = tmp_path / "s.db"
    Spool(path).add(_rows(5))
    child = subprocess.Popen(
        [sys.executable, "-c", _LEASER, str(path), INST], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "5"
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while Path(f"/proc/{child.pid}/stat").read_text().split(")")[-1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not become a zombie"
            time.sleep(0.01)
        assert {pid for pid, _ in _leased_by(path)} == {child.pid}
        spool = Spool(path)
        assert spool.count(INST) == 5
        assert len(spool.lease(10, 60, INST)) == 5
        spool.close()
    finally:
        child.kill()
        child.wait(10)


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="Linux /proc")
def test_a_lease_names_its_process_not_only_its_pid(tmp_path: Path) -> None:
    """A container restarted on the same volume runs as the same pid (1) as the process that
    died holding a lease: the lease looked like this process's own, and nothing sent it.
    Here, rows leased under this pid and under a live process's pid by processes that
    started at other times (another boot): both are free; this process's own lease is not."""
    import sqlite3

    path = tmp_path / "s.db"
    spool = Spool(path)
    spool.add(_rows(6))
    (mine,) = {e.row for e in spool.lease(1, 3600, INST)}  # e0, this process's own
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        conn = sqlite3.connect(path)
        with conn:
            conn.execute(
                "UPDATE events SET lease_until = ?, lease_pid = ?, lease_mark = ? "
                "WHERE event_id IN ('e1', 'e2')",
                (time.time() + 3600, os.getpid(), "another-boot:1"),  # this pid, a predecessor
            )
            conn.execute(
                "UPDATE events SET lease_until = ?, lease_pid = ?, lease_mark = ? "
                "WHERE event_id = 'e3'",
                (time.time() + 3600, sleeper.pid, "another-boot:1"),  # a pid reused since
            )
            conn.execute(
                "UPDATE events SET lease_until = ?, lease_pid = ?, lease_mark = '' "
                "WHERE event_id = 'e4'",
                (time.time() + 3600, sleeper.pid),  # an old lease, by pid only: alive
            )
        conn.close()
        assert spool.count(INST) == 5  # all but e4: e0 is this process's own
        assert sorted(e.event_id for e in spool.lease(10, 60, INST)) == ["e1", "e2", "e3", "e5"]
        assert all(row != mine for row in [e.row for e in spool.lease(10, 60, INST)])
    finally:
        sleeper.kill()
        sleeper.wait(10)
        spool.close()
