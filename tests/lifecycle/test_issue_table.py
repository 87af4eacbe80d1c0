"""The table at the top of issue 11, one test per row, each named after its row.

Each reproduces the row as filed, against the real local server, and asserts what should have
happened instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
from tests.lifecycle._scenarios import (
    ASYNC,
    EXIT,
    REFUSING,
    STOP,
    check_delivered,
    check_processes,
    check_stopped_in_time,
    run_multiprocessing,
    sigint_during_stop,
    unreachable,
)
from tests.lifecycle._servers import (
    LocalServer,
    SilentServer,
    local_server,
)

from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
from mosaicstack_telemetry.server import FaultConfig

fork_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork() is POSIX-only")


@fork_only
def test_a_multiprocessing_fork_child_tracks_10_events_on_the_parents_started_client_and_returns(
    server: LocalServer, tmp_path: Path
) -> None:
    child = run_multiprocessing(tmp_path, server, "fork", "process", tasks=1, events=10)
    check_processes(child, server, 10)


@fork_only
def test_a_fork_pool_of_2_runs_4_tasks_of_5_events_then_close_and_join(
    server: LocalServer, tmp_path: Path
) -> None:
    child = run_multiprocessing(tmp_path, server, "fork", "pool", tasks=4, events=5)
    check_processes(child, server, 20)


def test_asyncio_run_of_a_main_that_starts_an_async_client_tracks_5_and_returns_without_stop_async(
    server: LocalServer, tmp_path: Path
) -> None:
    child = run_child(
        tmp_path, ASYNC, config_for(server), params={"ending": "asyncio_run_returns", "events": 5}
    )
    check_delivered(child, server, 5)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigint_1_5_s_into_stop_while_every_request_faults(tmp_path: Path) -> None:
    with local_server(REFUSING) as srv:
        sigint_during_stop(tmp_path, srv, "sync")


def test_a_server_taking_1_s_per_request_1000_events_stop_with_timeout_2_5(tmp_path: Path) -> None:
    slow = FaultConfig(rate=1.0, kinds=("delay",), delay_seconds=1.0)
    with local_server(slow) as srv:
        child = run_child(
            tmp_path,
            STOP,
            config_for(srv, shutdown_timeout_seconds=1.0),
            params={"mode": "sync", "events": 1000, "stop_timeout": 2.5},
        )
        assert child.returncode == 0, child.describe()
        assert_clean(child, srv.key)
        check_stopped_in_time(child, srv, 1000, 2.5)
        stats = stats_of(child.report("stopped"))
        assert stats.sent == srv.event_count(), "what the client counts is not what was stored"
        left = stats.queued + stats.spooled
        assert left > 0
        errors = [r for r in child.records if r["kind"] == "log" and r["level"] >= logging.ERROR]
        assert not errors, [e["message"] for e in errors]  # no pool closed under the sender
        the_report(
            child,
            after=child.mark("stopping")["t"],
            until=child.mark("stopped")["t"],
            count=left,
            url=srv.url,
            lost=False,
        )


REASONS = (
    "not writable",
    "not a regular file",
    "cannot be opened",
    "no directory",
    "permission",
    "read-only",
    "readonly",
    "unable to open",
    "disk i/o error",
    "is a directory",
    "not a directory",
)


def _unusable_spool(kind: str, tmp_path: Path) -> str:
    if kind == "directory":
        path = tmp_path / "a-directory"
        path.mkdir()
        return str(path)
    if kind == "dev-null":
        return os.devnull
    if os.name == "posix" and os.geteuid() == 0:
        # Permission bits do not stop root; a directory of /proc does.
        return "/proc/mosaic-lifecycle-spool.db"
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return str(locked / "spool.db")


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("kind", ["directory", "dev-null", "not-writable"])
def test_spool_path_is_a_directory_or_dev_null_or_not_writable_and_the_server_is_healthy(
    server: LocalServer, tmp_path: Path, kind: str, mode: str
) -> None:
    if kind == "dev-null" and os.name != "posix":
        pytest.skip("/dev/null is POSIX")
    if mode == "async" and kind != "directory":
        pytest.skip("one unusable spool is enough for the asyncio sender")
    path = _unusable_spool(kind, tmp_path)
    child = run_child(
        tmp_path,
        STOP,
        config_for(server, spool_path=path),
        params={"mode": mode, "events": 10, "stop_timeout": 5.0},
    )
    assert child.returncode == 0, child.describe()
    assert_clean(child, server.key)  # no traceback: a reason, not a stack
    (final,) = child.finals().values()
    assert sorted(server.stored_ids()) == sorted(final["tracked"]), child.describe()
    stats = stats_of(child.report("stopped"))
    assert stats.sent == 10
    assert stats.spooled == 0
    assert_accounts(stats, 10)
    reported = [w["message"] for w in child.warnings()]
    assert len(reported) == 1, f"reported {len(reported)} times: {reported}"
    assert path in reported[0]
    assert any(reason in reported[0].lower() for reason in REASONS), reported[0]


class _RaiseOnce(logging.Handler):
    """The injection seam: a handler on the SDK's logger that raises from inside the sender.

    decisions.md: "The sender logs each batch at DEBUG (count, status, duration)". The first
    such record raises, so the exception surfaces inside one flush, wherever the core logs it.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.fired = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.DEBUG and not self.fired.is_set():
            self.fired.set()
            raise RuntimeError("injected flush failure")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _injected() -> Iterator[tuple[_RaiseOnce, _Collect]]:
    sdk = logging.getLogger("mosaicstack_telemetry")
    raiser, errors = _RaiseOnce(), _Collect()
    level = sdk.level
    sdk.setLevel(logging.DEBUG)
    sdk.addHandler(errors)
    sdk.addHandler(raiser)
    try:
        yield raiser, errors
    finally:
        sdk.removeHandler(raiser)
        sdk.removeHandler(errors)
        sdk.setLevel(level)


def _config(url: str, key: str, instance: str, **overrides: Any) -> TelemetryConfig:
    settings: dict[str, Any] = {
        "server_url": url,
        "api_key": key,
        "instance_id": instance,
        "submit_interval_seconds": 0.1,
        "request_timeout_seconds": 5.0,
        "shutdown_timeout_seconds": 5.0,
    }
    settings.update(overrides)
    return TelemetryConfig(**settings)


def _track(client: TelemetryClient, instance: str, n: int) -> list[str]:
    ids = []
    for _ in range(n):
        event = EventBuilder(instance).model("issue-11").build()
        client.track(event)
        ids.append(str(event.event_id))
    return ids


def _wait(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _check_carried_on(
    server: LocalServer, client: TelemetryClient, errors: _Collect, ids: list[str]
) -> None:
    """After the failed flush the sender went on by itself (no stop() yet): everything
    arrived; the failure was logged with its cause and counted (`internal_errors`)."""
    delivered = _wait(lambda: server.event_count() == len(ids), 5.0)
    assert delivered, f"the sender stopped: {server.event_count()} of {len(ids)} stored"
    # The server stores before it answers: give the client the moment to read the answer.
    _wait(lambda: client.stats().sent + client.stats().duplicate >= len(ids), 3.0)
    assert any(
        "injected flush failure" in (r.getMessage() + str(r.exc_info and r.exc_info[1]))
        for r in errors.records
    ), "the failure was not logged"
    stats = client.stats()
    assert stats.internal_errors == 1, stats
    assert sorted(server.stored_ids()) == sorted(ids)
    assert stats.sent + stats.duplicate == len(ids)
    assert_accounts(stats, len(ids))


def test_one_unexpected_exception_inside_a_flush_of_the_thread_sender(server: LocalServer) -> None:
    client = TelemetryClient(_config(server.url, server.key, server.instance))
    with _injected() as (raiser, errors):
        client.start()
        ids = _track(client, server.instance, 3)
        assert raiser.fired.wait(5), "the injection never fired: the sender logged no batch"
        ids += _track(client, server.instance, 4)
        _check_carried_on(server, client, errors, ids)
        client.stop(timeout=2)


async def test_one_unexpected_exception_inside_a_flush_of_the_asyncio_sender(
    server: LocalServer,
) -> None:
    client = TelemetryClient(_config(server.url, server.key, server.instance))
    with _injected() as (raiser, errors):
        await client.start_async()
        ids = _track(client, server.instance, 3)
        for _ in range(500):
            if raiser.fired.is_set():
                break
            await asyncio.sleep(0.01)
        assert raiser.fired.is_set(), "the injection never fired: the sender logged no batch"
        ids += _track(client, server.instance, 4)
        await asyncio.to_thread(_check_carried_on, server, client, errors, ids)
        await client.stop_async(timeout=2)


def _open_fds(path: Path) -> list[str]:
    fds = Path("/proc/self/fd")
    found = []
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


@pytest.mark.parametrize("how", ["stop", "stop_async"])
async def test_stop_async_closes_the_spool(server: LocalServer, tmp_path: Path, how: str) -> None:
    """Like stop(), stop_async() closes the spool: SQLite removes the WAL files when the last
    connection closes, and the process holds no descriptor of the file any more."""
    path = tmp_path / "spool.db"
    client = TelemetryClient(_config(server.url, server.key, server.instance, spool_path=str(path)))
    await client.start_async()
    ids = _track(client, server.instance, 3)
    if how == "stop":
        await asyncio.to_thread(client.stop)
    else:
        await client.stop_async()
    assert sorted(server.stored_ids()) == sorted(ids)
    _check_closed(path)


def _check_closed(path: Path) -> None:
    assert path.exists()
    assert not Path(f"{path}-wal").exists(), "the spool's connection is still open"
    if Path("/proc/self/fd").is_dir():
        assert _open_fds(path) == []


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    srv = SilentServer()
    yield srv
    srv.close()


def _budget_error(client: TelemetryClient) -> str:
    assert _wait(lambda: client.stats().last_error is not None, 10.0)
    error = client.stats().last_error
    assert error is not None
    return re.sub(r"\d+(\.\d+)?", "N", error)


async def test_a_request_that_outlives_its_budget_reads_the_same_in_the_thread_and_the_task(
    silent: SilentServer,
) -> None:
    config = _config(
        silent.url, silent.key, silent.instance, request_timeout_seconds=0.3, max_retries=0
    )
    threaded = TelemetryClient(config)
    threaded.start()
    _track(threaded, silent.instance, 1)
    in_thread = await asyncio.to_thread(_budget_error, threaded)
    await asyncio.to_thread(threaded.stop, 0.5)

    tasked = TelemetryClient(config)
    await tasked.start_async()
    _track(tasked, silent.instance, 1)
    for _ in range(1000):
        if tasked.stats().last_error is not None:
            break
        await asyncio.sleep(0.01)
    in_task = re.sub(r"\d+(\.\d+)?", "N", tasked.stats().last_error or "")
    await tasked.stop_async(timeout=0.5)
    assert "timeout" in in_thread.lower(), in_thread
    assert in_thread == in_task


def test_exit_with_events_left_says_they_are_lost(tmp_path: Path) -> None:
    with unreachable("down") as srv:
        child = run_child(
            tmp_path,
            EXIT,
            config_for(srv, shutdown_timeout_seconds=1.0),
            params={"mode": "sync", "events": 4},
        )
        assert child.returncode == 0, child.describe()
        assert_clean(child, srv.key)
        (final,) = child.finals().values()
        stats = stats_of(final)
        assert_accounts(stats, 4)
        message = the_report(
            child,
            after=child.mark("exiting")["t"],
            count=4,
            url=srv.url,
            last_error=stats.last_error,
            lost=True,
        )
        assert "stay queued" not in message
