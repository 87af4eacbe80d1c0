"""track() from many threads and from an event loop: nothing lost, nothing raised, nothing
doubled. Each test checks conservation: every tracked event is accounted for by exactly one
counter, and what the server received, it received once."""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections import Counter

import pytest

from mosaicstack_telemetry import EventQueue, TelemetryClient

from .conftest import ScriptedServer, accounted, make_config, make_event


def assert_received_once(server: ScriptedServer, tracked: list[str]) -> None:
    received = server.event_ids()
    twice = [i for i, n in Counter(received).items() if n > 1]
    assert not twice, f"{len(twice)} events were sent twice"
    assert sorted(received) == sorted(tracked)


def test_many_threads_track_concurrently_and_everything_arrives(server: ScriptedServer) -> None:
    threads_n, per_thread = 16, 250
    # One request at a time: the server's order of receipt is then the order of sending.
    config = make_config(
        server.url, max_queue_size=threads_n * per_thread, max_concurrent_requests=1
    )
    client = TelemetryClient(config)
    client.start()
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    sent: list[list[str]] = [[] for _ in range(threads_n)]

    def worker(n: int) -> None:
        try:
            events = [make_event() for _ in range(per_thread)]
            barrier.wait(10)
            for event in events:
                client.track(event)
                sent[n].append(str(event.event_id))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    client.stop()
    assert errors == []
    tracked = [i for ids in sent for i in ids]
    assert len(tracked) == threads_n * per_thread
    assert_received_once(server, tracked)
    stats = client.stats()
    assert stats.sent == len(tracked)
    assert accounted(stats) == len(tracked), stats
    # The queue is FIFO: within each request a thread's events keep their order. (Requests
    # may overlap, so the order across requests is not a guarantee.)
    order = {event_id: i for ids in sent for i, event_id in enumerate(ids)}
    thread_of = {event_id: n for n, ids in enumerate(sent) for event_id in ids}
    for post in server.events_posts():
        batch = [e["event_id"] for e in post.json()["events"]]
        for n in range(threads_n):
            mine = [order[i] for i in batch if thread_of[i] == n]
            assert mine == sorted(mine)


def test_threads_overflowing_a_small_queue_each_event_is_sent_or_evicted(
    server: ScriptedServer,
) -> None:
    """A queue of 50 and 8 threads tracking 200 each as fast as they can: some events are
    evicted; each one is either received once or counted as evicted, never both, never lost."""
    threads_n, per_thread = 8, 200
    client = TelemetryClient(make_config(server.url, max_queue_size=50, batch_size=20))
    client.start()
    events = [[make_event() for _ in range(per_thread)] for _ in range(threads_n)]
    barrier = threading.Barrier(threads_n)

    def worker(n: int) -> None:
        barrier.wait(10)
        for event in events[n]:
            client.track(event)

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    client.stop()
    tracked = {str(e.event_id) for chunk in events for e in chunk}
    received = server.event_ids()
    assert len(received) == len(set(received)), "an event was sent twice"
    assert set(received) <= tracked
    stats = client.stats()
    assert stats.sent == len(received)
    assert stats.sent + stats.evicted == len(tracked), stats
    assert stats.evicted > 0  # the producers outran the sender: the case under test happened
    assert accounted(stats) == len(tracked), stats


def test_queue_operations_conserve_every_event_under_contention() -> None:
    """Producers put unique events, consumers drain and put some back: each event ends up
    consumed exactly once, still queued, or counted as evicted."""
    queue = EventQueue(max_size=100)
    produced = [[make_event() for _ in range(500)] for _ in range(4)]
    stop = threading.Event()
    drained: list[list[str]] = [[], []]
    put_back: list[list[str]] = [[], []]

    def producer(n: int) -> None:
        for event in produced[n]:
            queue.put(event)

    def consumer(n: int) -> None:
        rounds = 0
        while not stop.is_set() or not queue.is_empty:
            batch = queue.drain(7)
            rounds += 1
            drained[n].extend(str(e.event_id) for e in batch)
            if batch and rounds % 3 == 0:
                queue.put_back(batch[:2])
                put_back[n].extend(str(e.event_id) for e in batch[:2])

    producers = [threading.Thread(target=producer, args=(n,)) for n in range(4)]
    consumers = [threading.Thread(target=consumer, args=(n,)) for n in range(2)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join(60)
    stop.set()
    for t in consumers:
        t.join(60)
    assert queue.is_empty
    consumed = Counter(i for ids in drained for i in ids)
    consumed.subtract(Counter(i for ids in put_back for i in ids))
    assert all(n in (0, 1) for n in consumed.values()), "an event was consumed twice"
    kept = {i for i, n in consumed.items() if n == 1}
    everything = {str(e.event_id) for chunk in produced for e in chunk}
    assert kept <= everything
    # What was not consumed was evicted, and the eviction counter says exactly how many.
    assert len(everything) - len(kept) == queue.evicted


async def test_track_from_coroutines_while_the_task_sends(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, batch_size=20, max_queue_size=2000))
    await client.start_async()
    ids: list[str] = []

    async def producer() -> None:
        for _ in range(100):
            event = make_event()
            client.track(event)  # synchronous, from inside the loop
            ids.append(str(event.event_id))
            await asyncio.sleep(0)

    await asyncio.gather(*(producer() for _ in range(10)))
    await client.stop_async()
    assert_received_once(server, ids)
    stats = client.stats()
    assert stats.sent == len(ids)
    assert accounted(stats) == len(ids), stats


async def test_track_from_worker_threads_wakes_the_async_task(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, batch_size=10, max_queue_size=1000))
    await client.start_async()
    ids: list[list[str]] = [[] for _ in range(4)]

    def produce(n: int) -> None:
        for _ in range(50):
            event = make_event()
            client.track(event)
            ids[n].append(str(event.event_id))

    await asyncio.gather(*(asyncio.to_thread(produce, n) for n in range(4)))
    for _ in range(500):  # sent by early wakes, long before the hour-long interval
        if len(server.event_ids()) >= 190:
            break
        await asyncio.sleep(0.01)
    assert len(server.event_ids()) >= 190
    await client.stop_async()
    tracked = [i for chunk in ids for i in chunk]
    assert_received_once(server, tracked)
    stats = client.stats()
    assert stats.sent == 200
    assert accounted(stats) == 200, stats


def test_request_workers_are_reused_and_end_when_idle(monkeypatch: pytest.MonkeyPatch) -> None:
    from mosaicstack_telemetry import _workers

    monkeypatch.setattr(_workers, "WORKER_IDLE_SECONDS", 0.2)
    workers = _workers.Workers()
    ran: list[threading.Thread] = []
    done = threading.Event()

    def task() -> None:
        ran.append(threading.current_thread())
        done.set()

    for _ in range(2):
        done.clear()
        workers.submit(task)
        assert done.wait(10)
        deadline = time.monotonic() + 10
        while workers._free != 1:  # until the worker is idle again (bounded)
            assert time.monotonic() < deadline
            time.sleep(0.001)
    assert ran[0] is ran[1]
    assert ran[0] is not threading.current_thread()
    ran[0].join(10)  # idle for longer than WORKER_IDLE_SECONDS: it ends
    assert not ran[0].is_alive()


def test_a_request_runs_on_the_flushing_thread_when_no_worker_can_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As at interpreter shutdown on Python 3.12.0-3.12.1 (see tests/lifecycle/test_endings.py).
    from mosaicstack_telemetry import _workers

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't create new thread at interpreter shutdown")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    ran: list[threading.Thread] = []
    _workers.Workers().submit(lambda: ran.append(threading.current_thread()))
    assert ran == [threading.current_thread()]


@pytest.mark.parametrize("started", [False, True], ids=["never-started", "suspended"])
def test_a_request_task_of_a_closed_loop_is_let_go_without_errors(
    started: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """What a flush's clean-up does with its request tasks once their loop is closed (the
    garbage collector closing the flush after `loop.close()`): cancelling called into the closed
    loop (RuntimeError), and asyncio then reported the dropped task and its never-awaited
    coroutine. The coroutine is closed instead, quietly."""
    from mosaicstack_telemetry._wire import abandon, background

    reached: list[str] = []

    async def request() -> None:
        reached.append("started")
        try:
            await asyncio.sleep(60)
        finally:
            reached.append("closed")

    loop = asyncio.new_event_loop()
    task = background(loop.create_task(request()))
    if started:
        loop.run_until_complete(asyncio.sleep(0.01))  # suspended in its sleep
    loop.close()
    abandon(task)  # no RuntimeError: "Event loop is closed"
    assert reached == (["started", "closed"] if started else [])
    assert task.get_coro().cr_frame is None  # type: ignore[union-attr]  # closed for good
    del task
    gc.collect()
    assert not [r for r in caplog.records if r.name == "asyncio"]  # "Task was destroyed ..."


def test_a_request_task_of_a_running_loop_is_cancelled() -> None:
    from mosaicstack_telemetry._wire import abandon, background

    async def main() -> bool:
        task = background(asyncio.ensure_future(asyncio.sleep(60)))
        await asyncio.sleep(0)
        abandon(task)
        with pytest.raises(asyncio.CancelledError):
            await task
        return task.cancelled()

    assert asyncio.run(main())
