"""In-process benchmarks: track(), building, validation, serialization, threads, memory."""

from __future__ import annotations

import collections
import os
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable

from pydantic import TypeAdapter

from benchmarks import _peers
from benchmarks._common import Result, Scale, build_event, compare, config, event_dict
from benchmarks._sink import running_sink
from mosaicstack_telemetry import TaskCompletionEvent, TelemetryClient
from mosaicstack_telemetry._models import dump_events_body as serialize_events

NS = 1e9


def _unstarted_client(max_queue_size: int) -> TelemetryClient:
    """No sender: what is timed is track() alone, not a thread competing for the cores."""
    return TelemetryClient(config(max_queue_size=max_queue_size))


def bench_track(scale: Scale) -> Result:
    """1. track() of a prebuilt event vs the least a thread-safe queue can do."""
    number = scale.n(50_000, 10)
    event = build_event()
    client = _unstarted_client(number)
    items: collections.deque[TaskCompletionEvent] = collections.deque()
    lock = threading.Lock()

    def baseline() -> None:
        with lock:
            items.append(event)

    def reset() -> None:
        client._queue.drain(client.queue_size)
        items.clear()

    ours, base = compare(lambda: client.track(event), baseline, number, scale.repeat, reset)
    ratio = ours / base
    return Result(
        "track",
        "track() of a prebuilt event",
        ours * NS,
        base * NS,
        "ns/op",
        "deque.append under a threading.Lock",
        "<= 2x",
        ratio <= 2.0,
    )


def bench_build_and_track(scale: Scale) -> Result:
    """2. The guide's builder chain + build() + track() vs posthog's capture()."""
    number = scale.n(20_000, 10)
    client = _unstarted_client(number)

    def ours() -> None:
        client.track(build_event())

    if not _peers.HAVE_POSTHOG:
        from benchmarks._common import time_loop

        t = time_loop(ours, number)
        return Result(
            "build_track",
            "build + track() one event",
            t * NS,
            None,
            "ns/op",
            "posthog capture() (not installed)",
            ">= 5x faster",
            None,
        )
    peer = _peers.enqueue_only_client(number + 10)

    def baseline() -> None:
        peer.capture("task_completed", distinct_id="a1b2c3d4", properties=_peers.properties())

    def reset() -> None:
        client._queue.drain(client.queue_size)
        _peers.clear(peer)

    mine, theirs = compare(ours, baseline, number, scale.repeat, reset)
    reset()
    return Result(
        "build_track",
        "build + track() one event",
        mine * NS,
        theirs * NS,
        "ns/op",
        "posthog capture(), same fields (enqueued, not sent)",
        ">= 5x faster (ratio <= 0.2)",
        mine * 5 <= theirs,
    )


def bench_build(scale: Scale) -> Result:
    """3. The builder chain + build() vs pydantic validating the same fields from a dict."""
    number = scale.n(20_000, 10)
    data = event_dict()
    ours, base = compare(
        build_event, lambda: TaskCompletionEvent.model_validate(data), number, scale.repeat
    )
    return Result(
        "build",
        "EventBuilder chain + build()",
        ours * NS,
        base * NS,
        "ns/op",
        "TaskCompletionEvent.model_validate(dict)",
        "<= 1.0x",
        ours <= base,
    )


def bench_serialize(scale: Scale) -> Result:
    """4. A 100-event request body by the SDK's code path vs pydantic's dump_json alone."""
    number = scale.n(2_000, 2)
    events = [build_event() for _ in range(100)]
    adapter = TypeAdapter(list[TaskCompletionEvent])
    if b'{"events":' + adapter.dump_json(events) + b"}" != serialize_events(events):
        raise RuntimeError("serialize_events() does not produce the dump_json bytes")
    ours, base = compare(
        lambda: serialize_events(events), lambda: adapter.dump_json(events), number, scale.repeat
    )
    return Result(
        "serialize",
        "serialize 100 events to request bytes",
        ours * 1e6,
        base * 1e6,
        "us/batch",
        "TypeAdapter(list[Event]).dump_json",
        "<= 1.2x",
        ours <= 1.2 * base,
    )


def _threaded(op: Callable[[], object], threads: int, per_thread: int) -> float:
    """Operations per second of `op` called `per_thread` times by each of `threads` at once."""
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            op()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for w in workers:
        w.join()
    return threads * per_thread / (time.perf_counter() - start)


def bench_threads(scale: Scale) -> Result:
    """6. track() from 8 threads at once vs posthog capture() from 8 threads."""
    threads = 8
    ours_n = scale.n(20_000, 5)
    event = build_event()
    client = _unstarted_client(threads * ours_n)
    rates = []
    for _ in range(max(scale.repeat // 3, 1)):
        client._queue.drain(client.queue_size)
        rates.append(_threaded(lambda: client.track(event), threads, ours_n))
    ours = sorted(rates)[len(rates) // 2]
    client._queue.drain(client.queue_size)
    if not _peers.HAVE_POSTHOG:
        return Result(
            "threads",
            "track() from 8 threads",
            ours,
            None,
            "events/s",
            "posthog capture() (not installed)",
            ">= 1x",
            None,
        )
    # capture() is ~100x slower: fewer calls give the same measuring time.
    peer_n = scale.n(500, 2)
    peer = _peers.enqueue_only_client(threads * peer_n + 10)
    props = _peers.properties()
    peer_rates = []
    for _ in range(max(scale.repeat // 3, 1)):
        _peers.clear(peer)
        peer_rates.append(
            _threaded(
                lambda: peer.capture("task_completed", distinct_id="a1b2", properties=props),
                threads,
                peer_n,
            )
        )
    _peers.clear(peer)
    theirs = sorted(peer_rates)[len(peer_rates) // 2]
    return Result(
        "threads",
        "track() from 8 threads at once",
        ours,
        theirs,
        "events/s",
        "posthog capture() from 8 threads",
        ">= 1x",
        ours >= theirs,
    )


def _allocated(fn: Callable[[], object]) -> tuple[int, object]:
    """Bytes still allocated after `fn()` (its result kept alive), by tracemalloc."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        kept = fn()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, kept


def bench_memory(scale: Scale) -> list[Result]:
    """7. Bytes per queued event at 1,000 and 100,000 events, beside the event alone."""
    results = []
    for count in (1_000, 100_000):
        n = scale.n(count, 50)

        def make(n: int = n) -> list[TaskCompletionEvent]:
            return [build_event() for _ in range(n)]

        event_bytes, events = _allocated(make)
        assert isinstance(events, list)
        list_bytes = 8 * n + 56  # the list holding them is the harness's, not the events'
        per_event = (event_bytes - list_bytes) / n
        client = _unstarted_client(n)

        def queue_them(
            events: list[TaskCompletionEvent] = events, client: TelemetryClient = client
        ) -> None:
            for event in events:
                client.track(event)

        queue_bytes, _ = _allocated(queue_them)
        per_queued = queue_bytes / n
        json_bytes = len(TypeAdapter(TaskCompletionEvent).dump_json(events[0]))
        results.append(
            Result(
                f"memory_{count}",
                f"queue overhead per event at {n:,} queued",
                per_queued,
                per_event,
                "bytes",
                f"the event object alone (its JSON: {json_bytes} B)",
                "<= 10% of the event",
                per_queued <= 0.1 * per_event,
                note=f"queued event in total: {per_event + per_queued:,.0f} B",
            )
        )
        client._queue.drain(n)
        del events
    return results


def bench_spool_track(scale: Scale) -> Result:
    """Issue 8: track() with a durable spool beside the in-memory path (started clients)."""
    number = scale.n(20_000, 10)
    event = build_event()
    with tempfile.TemporaryDirectory() as tmp, running_sink() as sink:
        url = sink.url
        spool = TelemetryClient(
            config(server_url=url, max_queue_size=number, spool_path=os.path.join(tmp, "db"))
        )
        memory = TelemetryClient(config(server_url=url, max_queue_size=number))
        spool.start()
        memory.start()
        try:

            def reset() -> None:
                memory._queue.drain(memory.queue_size)
                time.sleep(0.05)  # let the spool's sender persist what the last rep queued

            ours, base = compare(
                lambda: spool.track(event),
                lambda: memory.track(event),
                number,
                scale.repeat,
                reset,
            )
        finally:
            spool.stop(timeout=0.5)
            memory._queue.drain(memory.queue_size)
            memory.stop(timeout=0.5)
    return Result(
        "spool_track",
        "track() with spool_path set",
        ours * NS,
        base * NS,
        "ns/op",
        "track() in memory only",
        "(no target)",
        None,
        note="both clients started; the spool's sender persists in the background",
    )
