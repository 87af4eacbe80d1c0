"""The "Lifecycle and edge semantics" of decisions.md, rule by rule, over loopback HTTP."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

from mosaicstack_telemetry import TelemetryClient
from mosaicstack_telemetry._runners import TaskRunner

from .conftest import API_KEY, Reply, ScriptedServer, make_config, make_event

FINAL_FLUSH_TIMEOUT = 20.0  # the default shutdown_timeout_seconds


def _sender_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "mosaicstack-telemetry-sender"]


def _wait_until(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_track_before_start_queues_and_stop_flushes_without_start(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    events = [make_event() for _ in range(3)]
    for event in events:
        client.track(event)
    assert client.queue_size == 3
    assert not client.is_running
    client.stop()
    assert server.event_ids() == [str(e.event_id) for e in events]
    assert client.queue_size == 0


def test_start_is_idempotent_one_thread(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.start()
    client.start()
    try:
        assert client.is_running
        assert len(_sender_threads()) == 1
        assert _sender_threads()[0].daemon
    finally:
        client.stop()
    assert not client.is_running
    assert _wait_until(lambda: not _sender_threads())


def test_restart_after_stop(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    for _ in range(2):
        client.start()
        client.track(make_event())
        client.stop()
        assert not client.is_running
    assert len(server.event_ids()) == 2


def test_wakes_early_at_batch_size(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, batch_size=5, submit_interval_seconds=3600))
    client.start()
    try:
        for _ in range(5):
            client.track(make_event())
        # The interval is an hour: only the early wake can send this batch.
        assert _wait_until(lambda: len(server.event_ids()) == 5)
    finally:
        client.stop()


def test_periodic_flush_at_interval(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, submit_interval_seconds=0.05))
    client.start()
    try:
        client.track(make_event())
        assert _wait_until(lambda: len(server.event_ids()) == 1)
    finally:
        client.stop()


def test_burst_does_not_evict_while_server_healthy(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, batch_size=10, max_queue_size=50))
    client.start()
    try:
        for i in range(400):
            client.track(make_event())
            if i % 40 == 39:  # a burst, with pauses a healthy sender can keep up with
                _wait_until(lambda: client.queue_size < 10, timeout=5)
    finally:
        client.stop()
    assert client._queue.evicted == 0
    assert len(server.event_ids()) == 400


def test_stop_closes_the_pool_and_a_later_start_opens_a_new_one(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.start()
    client.track(make_event())
    client.flush()
    wire: Any = client._delivery._wire  # type: ignore[union-attr]
    pool = wire._sync.get_httpx_client()
    client.stop()
    assert pool.is_closed
    assert wire._sync is None  # a later request opens a new one
    client.start()
    client.track(make_event())
    client.stop()
    assert len(server.event_ids()) == 2


def test_disabled_creates_nothing_and_sends_nothing(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, enabled=False))
    client.start()
    client.track(make_event())
    from mosaicstack_telemetry import Complexity, PredictionQuery, Provider, TaskType

    query = PredictionQuery(
        task_type=TaskType.TESTING, model="m", provider=Provider.OPENAI, complexity=Complexity.LOW
    )
    client.refresh_predictions_sync([query])
    client.stop()
    assert not _sender_threads()
    assert client._delivery is None  # no wire, no spool, no sender can exist
    assert client.queue_size == 0
    assert server.seen == []


def test_disabled_by_environment_overrides_constructor(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_ENABLED", "false")
    client = TelemetryClient(make_config(server.url, enabled=True))
    with client:
        client.track(make_event())
    assert server.seen == []


async def test_disabled_async_creates_no_task(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, enabled=False))
    async with client:
        client.track(make_event())
        assert client._runner is None
    assert server.seen == []


def test_invalid_config_warns_then_start_errors_and_track_drops(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bad_key = "not-a-key-" + API_KEY
    with caplog.at_level(logging.DEBUG, logger="mosaicstack_telemetry"):
        client = TelemetryClient(make_config("ftp://x", api_key=bad_key, batch_size=0))
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 3  # server_url, api_key, batch_size
        caplog.clear()
        client.start()
        assert not client.is_running
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1
        client.track(make_event())
        client.stop()
    assert client.queue_size == 0
    assert client.stats().dropped == {"invalid_config": 1}
    assert bad_key not in caplog.text
    assert API_KEY not in caplog.text


def test_dry_run_logs_each_batch_and_sends_nothing(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = TelemetryClient(make_config(server.url + "/", dry_run=True, batch_size=2))
    for _ in range(3):
        client.track(make_event())
    with caplog.at_level(logging.DEBUG, logger="mosaicstack_telemetry"):
        client.stop()
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    url = f"{server.url}/v1/events/batch"
    assert lines == [
        f"[DRY RUN] Would submit batch of 2 events to {url}",
        f"[DRY RUN] Would submit batch of 1 events to {url}",
    ]
    # Its DEBUG request lines too: they said "POST ...: 2 items, HTTP 202".
    requests = [r.getMessage() for r in caplog.records if "POST" in r.getMessage()]
    assert requests == [
        f"[DRY RUN] POST {url}: 2 items, not sent",
        f"[DRY RUN] POST {url}: 1 items, not sent",
    ]
    assert server.seen == []
    assert client.stats().dry_run == 3
    assert client._delivery is not None
    assert client._delivery._wire is None  # no HTTP client was made for events


def test_dry_run_leaves_a_spools_waiting_events_alone(
    server: ScriptedServer, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A dry run with the hook's spool set (`MOSAIC_TELEMETRY_SPOOL_PATH` in the shell) used
    to lease the spool's waiting events, "send" them dry and delete them: never sent."""
    from mosaicstack_telemetry._spool import Spool

    path = str(tmp_path / "spool.db")
    waiting = Spool(path, 1000)
    waiting.add_events([make_event() for _ in range(3)])
    waiting.close()
    with caplog.at_level(logging.INFO, logger="mosaicstack_telemetry"):
        client = TelemetryClient(make_config(server.url, dry_run=True, spool_path=path))
        client.track(make_event())
        client.stop()
    assert (client.stats().dry_run, client.stats().spooled) == (1, 0)
    assert server.seen == []
    assert f"[DRY RUN] The spool {path} is not used" in caplog.text
    again = Spool(path, 1000)
    assert again.count() == 3
    again.close()


def test_dry_run_still_fetches_predictions(server: ScriptedServer) -> None:
    from mosaicstack_telemetry import Complexity, PredictionQuery, Provider, TaskType

    query = PredictionQuery(
        task_type=TaskType.TESTING, model="m", provider=Provider.OPENAI, complexity=Complexity.LOW
    )
    client = TelemetryClient(make_config(server.url, dry_run=True))
    client.refresh_predictions_sync([query])
    assert client.get_prediction(query) is not None
    assert [s.path for s in server.seen] == ["/v1/predictions/batch"]


def test_every_request_carries_user_agent_and_bearer(server: ScriptedServer) -> None:
    from mosaicstack_telemetry import Complexity, PredictionQuery, Provider, TaskType

    client = TelemetryClient(make_config(server.url, user_agent="my-harness/2.0"))
    client.track(make_event())
    client.refresh_predictions_sync(
        [
            PredictionQuery(
                task_type=TaskType.TESTING,
                model="m",
                provider=Provider.OPENAI,
                complexity=Complexity.LOW,
            )
        ]
    )
    client.stop()
    assert len(server.seen) == 2
    for seen in server.seen:
        assert seen.headers["user-agent"] == "my-harness/2.0"
        assert seen.headers["authorization"] == f"Bearer {API_KEY}"
        assert seen.headers["content-type"] == "application/json"


def test_queue_overflow_evicts_oldest_and_warns_rate_limited(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = TelemetryClient(make_config(server.url, max_queue_size=5))
    events = [make_event() for _ in range(12)]
    with caplog.at_level(logging.WARNING, logger="mosaicstack_telemetry"):
        for event in events:
            client.track(event)
    assert client.queue_size == 5
    assert client.stats().evicted == 7
    overflow = [r for r in caplog.records if "queue full" in r.getMessage()]
    assert len(overflow) == 1
    client.stop()
    assert server.event_ids() == [str(e.event_id) for e in events[-5:]]


def test_stop_with_unreachable_server_returns_within_deadline(
    unused_tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    from mosaicstack_telemetry._retry import _scaled_time

    client = TelemetryClient(make_config(f"http://127.0.0.1:{unused_tcp_port}"))
    client.start()
    client.track(make_event())
    start = time.monotonic()
    with _scaled_time(0.01), caplog.at_level(logging.WARNING, logger="mosaicstack_telemetry"):
        client.stop(timeout=1.0)
    assert time.monotonic() - start < 1.0 + 4  # its deadline, plus a generous margin
    assert client.queue_size == 1  # kept, not silently lost
    assert "1 events were not delivered to http://127.0.0.1:" in caplog.text
    assert "nothing listens there" in caplog.text  # why
    assert "they stay queued" in caplog.text


def test_stop_wakes_a_sender_waiting_out_a_backoff(server: ScriptedServer) -> None:
    # Retry-After 60 s, unscaled: only the stop signal can end that wait early.
    server.script(Reply(429, headers={"Retry-After": "60"}))
    client = TelemetryClient(make_config(server.url, batch_size=1))
    client.start()
    client.track(make_event())
    assert _wait_until(lambda: len(server.events_posts()) == 1)
    time.sleep(0.05)  # let the sender enter its wait
    start = time.monotonic()
    client.stop()
    assert time.monotonic() - start < 30  # far below the 60 s wait: it was interrupted
    assert client.stats().sent == 1  # the final flush delivered it


# -- async -----------------------------------------------------------------------------------


async def test_async_start_is_one_task_and_stop_flushes(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    await client.start_async()
    runner = client._runner
    await client.start_async()
    assert client._runner is runner
    task = runner._task  # type: ignore[union-attr]
    assert task is not None
    assert client.is_running
    events = [make_event() for _ in range(3)]
    for event in events:
        client.track(event)
    await client.stop_async()
    assert task.done()
    assert not client.is_running
    assert server.event_ids() == [str(e.event_id) for e in events]


async def test_async_wakes_early_at_batch_size(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, batch_size=3))
    await client.start_async()
    for _ in range(3):
        client.track(make_event())
    for _ in range(500):
        if len(server.event_ids()) == 3:
            break
        await asyncio.sleep(0.01)
    assert len(server.event_ids()) == 3
    # The task now sleeps on its wake event: stop_async() must end that sleep, not wait out
    # its deadline.
    start = time.monotonic()
    await client.stop_async()
    assert time.monotonic() - start < FINAL_FLUSH_TIMEOUT / 2


async def test_stop_async_stops_a_thread_sender(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.start()
    client.track(make_event())
    await client.stop_async()
    assert not client.is_running
    assert len(server.event_ids()) == 1


async def test_second_start_in_other_mode_is_a_noop_with_warning(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = TelemetryClient(make_config(server.url))
    client.start()
    with caplog.at_level(logging.WARNING, logger="mosaicstack_telemetry"):
        await client.start_async()
    assert not isinstance(client._runner, TaskRunner)
    assert "already running" in caplog.text
    await client.stop_async()
    assert not client.is_running


def test_sync_stop_stops_an_async_sender(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run_loop() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(client.start_async())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run_loop, daemon=True)
    thread.start()
    try:
        assert ready.wait(5)
        assert client.is_running
        client.track(make_event())
        client.stop()
        assert not client.is_running or _wait_until(lambda: not client.is_running)
        assert len(server.event_ids()) == 1
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def test_async_client_pool_is_per_loop(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.track(make_event())
    await client.stop_async()

    def in_another_loop() -> None:
        async def go() -> None:
            client.track(make_event())
            await client.stop_async()

        asyncio.run(go())

    await asyncio.to_thread(in_another_loop)
    assert len(server.event_ids()) == 2


async def test_refresh_predictions_async_chunks_by_server_maximum(server: ScriptedServer) -> None:
    from mosaicstack_telemetry import Complexity, PredictionQuery, Provider, TaskType

    queries = [
        PredictionQuery(
            task_type=TaskType.TESTING,
            model=f"m{i}",
            provider=Provider.OPENAI,
            complexity=Complexity.LOW,
        )
        for i in range(120)
    ]
    client = TelemetryClient(make_config(server.url))
    await client.refresh_predictions([])
    assert server.seen == []
    await client.refresh_predictions(queries)
    # Chunks go out on up to max_concurrent_requests connections, so they may arrive in any order.
    assert sorted(len(s.json()["queries"]) for s in server.seen) == [20, 50, 50]
    asked = [q["model"] for s in server.seen for q in s.json()["queries"]]
    assert sorted(asked) == sorted(q.model for q in queries)
    assert all(client.get_prediction(q) is not None for q in queries)
    assert client._cache.size == 120


async def test_sync_stop_inside_the_senders_own_loop_takes_over_and_delivers(
    server: ScriptedServer,
) -> None:
    # Blocking the loop with stop() is the caller's choice; the task cannot run meanwhile, so
    # stop() takes its work back and delivers it itself.
    client = TelemetryClient(make_config(server.url))
    await client.start_async()
    events = [make_event() for _ in range(3)]
    for event in events:
        client.track(event)
    client.stop()
    assert sorted(server.event_ids()) == sorted(str(e.event_id) for e in events)
    await asyncio.sleep(0.05)  # the cancelled task ends quietly
    assert not client.is_running
    assert client.stats().sent == 3


async def test_start_async_after_a_sync_stop_inside_the_loop_starts_a_sender(
    server: ScriptedServer,
) -> None:
    """The task stop() took over stays pending until the loop runs its cancellation: it used
    to count as a live sender, so the next start_async() started nothing (events piled up
    until evicted), and stop_async() then raised that task's CancelledError."""
    client = TelemetryClient(make_config(server.url))
    await client.start_async()
    client.track(make_event())
    client.stop()
    assert not client.is_running  # at once, not when the loop gets round to the cancel
    await client.start_async()
    assert client.is_running
    client.track(make_event())
    await client.stop_async()
    assert not client.is_running
    assert len(server.event_ids()) == 2


def test_start_async_again_after_a_sync_stop_between_loop_runs(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, submit_interval_seconds=0.2))
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(client.start_async())
        client.track(make_event())
        client.stop()  # the loop is not running: the final flush happens here
        assert not client.is_running
        assert len(server.event_ids()) == 1
        loop.run_until_complete(client.start_async())
        assert client.is_running
        for _ in range(5):
            client.track(make_event())
        loop.run_until_complete(asyncio.sleep(1.0))  # the new sender's interval passes
        assert len(server.event_ids()) == 6
        loop.run_until_complete(client.stop_async())
        assert not client.is_running
    finally:
        loop.close()


def test_a_loop_closed_under_a_running_task_loses_nothing(server: ScriptedServer) -> None:
    server.delay = 0.3
    client = TelemetryClient(make_config(server.url, batch_size=2))
    loop = asyncio.new_event_loop()

    async def main() -> None:
        await client.start_async()
        for _ in range(4):
            client.track(make_event())
        await asyncio.sleep(0.1)  # the task has a batch in flight now

    loop.run_until_complete(main())
    loop.close()  # no stop_async(), no cancel: the task is frozen mid-request
    stats = client.stats()
    assert stats.in_flight + stats.queued == 4
    client.stop()  # takes the frozen task's work back and delivers it
    assert client.stats().sent == 4
    assert len(set(server.event_ids())) == 4


def test_stop_async_from_another_loop_lets_the_task_finish_in_its_own(
    server: ScriptedServer,
) -> None:
    # The task's loop runs in a thread of its own; stop_async() awaits from a second loop.
    client = TelemetryClient(make_config(server.url))
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run_loop() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(client.start_async())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run_loop, daemon=True)
    thread.start()
    assert ready.wait(10)
    client.track(make_event())
    asyncio.run(client.stop_async())
    assert client.stats().sent == 1
    assert not client.is_running
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.mark.parametrize("mode", ["thread", "asyncio"])
async def test_a_final_flush_that_fails_is_counted_and_says_why(
    server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    mode: str,
) -> None:
    # It was logged only: internal_errors stayed 0, last_error None, and the warning blamed
    # "the deadline" for a flush that had failed at once.
    client = TelemetryClient(make_config(server.url))
    assert client._delivery is not None
    source = client._delivery.source

    def broken(count: int, whole: bool) -> list[Any]:
        raise RuntimeError("injected")

    monkeypatch.setattr(source, "take", broken)
    client.track(make_event())
    with caplog.at_level(logging.WARNING, logger="mosaicstack_telemetry"):
        if mode == "thread":
            client.stop()
        else:
            await client.start_async()
            await client.stop_async()
    stats = client.stats()
    assert (stats.internal_errors, stats.last_error, stats.queued) == (
        1,
        "RuntimeError: injected",
        1,
    )
    assert "The telemetry final flush failed" in caplog.text
    assert "(last error: RuntimeError: injected); they stay queued" in caplog.text


async def test_an_unexpected_error_in_a_flush_is_counted_and_the_task_carries_on(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = TelemetryClient(make_config(server.url, batch_size=2))
    assert client._delivery is not None
    source = client._delivery.source
    real_take = source.take
    calls = []

    def take_once_broken(count: int, whole: bool) -> list[Any]:
        calls.append(count)
        if len(calls) == 1:
            raise RuntimeError("injected")
        return real_take(count, whole)

    monkeypatch.setattr(source, "take", take_once_broken)
    await client.start_async()
    with caplog.at_level(logging.ERROR, logger="mosaicstack_telemetry"):
        for _ in range(2):
            client.track(make_event())  # a whole batch: the task wakes and its flush fails
        for _ in range(200):
            if client.stats().internal_errors:
                break
            await asyncio.sleep(0.01)
    assert client.stats().internal_errors == 1
    assert "RuntimeError: injected" in caplog.text
    await client.stop_async()  # the task carried on: its final flush delivers both
    assert client.stats().sent == 2


def test_waits_longer_than_a_lock_can_wait_are_capped(server: ScriptedServer) -> None:
    # submit_interval_seconds=1e10 (valid: finite and positive) is past threading.TIMEOUT_MAX:
    # the sender thread died of an OverflowError at its first wait, with a traceback.
    client = TelemetryClient(make_config(server.url, submit_interval_seconds=1e10))
    client.start()
    client.track(make_event())
    time.sleep(0.1)  # the sender is in its first wait
    assert client.is_running
    client.stop(timeout=float("inf"))
    assert client.stats().sent == 1
    assert client.stats().internal_errors == 0


@pytest.mark.parametrize("mode", ["thread", "asyncio"])
async def test_flush_waits_for_what_the_sender_has_in_flight(
    server: ScriptedServer, mode: str
) -> None:
    # flush() flushed the (empty) queue and returned at once, remaining=0, while the sender's
    # request still carried every event: an os._exit() after it lost them all.
    server.delay = 0.5
    client = TelemetryClient(make_config(server.url, batch_size=10))
    if mode == "thread":
        client.start()
    else:
        await client.start_async()
    for _ in range(10):
        client.track(make_event())  # a whole batch: the sender wakes and sends it
    for _ in range(500):
        if client.stats().in_flight == 10:
            break
        await asyncio.sleep(0.01)
    assert client.stats().in_flight == 10
    if mode == "thread":
        result = await asyncio.to_thread(client.flush, 10)
    else:
        result = await client.flush_async(10)
    assert (result.sent, result.remaining) == (10, 0)
    assert len(server.event_ids()) == 10
    if mode == "thread":
        client.stop()
    else:
        await client.stop_async()


def test_flush_does_not_wait_for_a_sender_whose_loop_no_longer_runs(
    server: ScriptedServer,
) -> None:
    # Only that loop could answer its request: flush() waited out its whole timeout (for ever
    # with timeout=inf once the loop was closed, which takes the same path: a loop closed with
    # a connection open is left to a subprocess test, tests/lifecycle/test_endings.py, as its
    # transport complains when collected). It says what is left instead.
    server.delay = 1.0
    client = TelemetryClient(make_config(server.url, batch_size=1))
    loop = asyncio.new_event_loop()

    async def send_one() -> None:
        await client.start_async()
        client.track(make_event())
        for _ in range(200):  # bounded: until the sender's request is out
            if client.stats().in_flight:
                return
            await asyncio.sleep(0.01)

    loop.run_until_complete(send_one())
    start = time.monotonic()
    result = client.flush(timeout=60)
    assert time.monotonic() - start < 30  # generous: it returns, it does not wait 60 s
    assert result.remaining == 1
    loop.run_until_complete(client.stop_async())
    loop.close()
    assert len(set(server.event_ids())) == 1
