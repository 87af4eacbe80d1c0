"""track() from many threads and from an event loop: nothing lost, nothing raised."""

from __future__ import annotations

import asyncio
import threading

from mosaicstack_telemetry import EventQueue, TelemetryClient

from .conftest import ScriptedServer, make_config, make_event


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
    received = server.event_ids()
    assert len(received) == threads_n * per_thread
    assert set(received) == {i for ids in sent for i in ids}
    # Per thread, order is kept: the queue is FIFO.
    position = {event_id: i for i, event_id in enumerate(received)}
    for ids in sent:
        assert [position[i] for i in ids] == sorted(position[i] for i in ids)


def test_queue_operations_are_consistent_under_contention() -> None:
    queue = EventQueue(max_size=100)
    events = [make_event() for _ in range(50)]
    stop = threading.Event()
    drained: list[int] = []

    def producer() -> None:
        for _ in range(40):
            for event in events:
                queue.put(event)

    def consumer() -> None:
        while not stop.is_set():
            batch = queue.drain(7)
            drained.append(len(batch))
            if batch and len(drained) % 3 == 0:
                queue.put_back(batch[:2])

    producers = [threading.Thread(target=producer) for _ in range(4)]
    consumers = [threading.Thread(target=consumer) for _ in range(2)]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join(60)
    stop.set()
    for t in consumers:
        t.join(60)
    assert 0 <= queue.size <= 100
    assert queue.is_empty == (queue.size == 0)


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
    assert sorted(server.event_ids()) == sorted(ids)


async def test_track_from_worker_threads_wakes_the_async_task(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, batch_size=10, max_queue_size=1000))
    await client.start_async()

    def produce() -> None:
        for _ in range(50):
            client.track(make_event())

    await asyncio.gather(*(asyncio.to_thread(produce) for _ in range(4)))
    for _ in range(500):  # sent by early wakes, long before the hour-long interval
        if len(server.event_ids()) >= 190:
            break
        await asyncio.sleep(0.01)
    assert len(server.event_ids()) >= 190
    await client.stop_async()
    assert len(server.event_ids()) == 200
