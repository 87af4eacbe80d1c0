"""Soak: 10,000 events through 30% injected faults and a down window, stored exactly once.

Runs in the default suite in well under a minute with retry waits scaled down 100x
(`_scaled_time`); `scripts/soak` runs it longer and in real time. Environment:
MOSAIC_SOAK_EVENTS (10000), MOSAIC_SOAK_TIME_SCALE (0.01), MOSAIC_SOAK_DOWN_SECONDS (1.0),
MOSAIC_SOAK_SHUTDOWN_SECONDS (120).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from mosaicstack_telemetry import EventBuilder, TaskType, TelemetryClient, TelemetryConfig
from mosaicstack_telemetry._retry import _scaled_time

server_mod = pytest.importorskip("mosaicstack_telemetry.server")

EVENTS = int(os.environ.get("MOSAIC_SOAK_EVENTS", "10000"))
TIME_SCALE = float(os.environ.get("MOSAIC_SOAK_TIME_SCALE", "0.01"))
DOWN_SECONDS = float(os.environ.get("MOSAIC_SOAK_DOWN_SECONDS", "1.0"))
# stop()'s deadline: what is still queued then must get through 30% faults with real backoff
# when waits are not scaled down (scripts/soak), so the long run gives it more time.
SHUTDOWN_SECONDS = float(os.environ.get("MOSAIC_SOAK_SHUTDOWN_SECONDS", "120"))
FAULTS = ("429", "500", "503", "drop", "delay")


@pytest.fixture
def faulty_server() -> Iterator[tuple[Any, str, str]]:
    key, instance = secrets.token_hex(32), str(uuid.uuid4())
    faults = server_mod.FaultConfig(
        rate=0.3, kinds=FAULTS, seed=20261124, retry_after="1", delay_seconds=0.05
    )
    with server_mod.start_server(keys={key: instance}, faults=faults) as srv:
        yield srv, key, instance


def _config(url: str, key: str, instance: str) -> TelemetryConfig:
    return TelemetryConfig(
        server_url=url,
        api_key=key,
        instance_id=instance,
        max_queue_size=EVENTS + 1,  # every event fits: the guarantee is about those that fit
        batch_size=100,
        submit_interval_seconds=0.2,
        request_timeout_seconds=2.0,
        shutdown_timeout_seconds=SHUTDOWN_SECONDS,
    )


def _down_window(srv: Any, after: float) -> threading.Thread:
    def run() -> None:
        time.sleep(after)
        srv.set_down(True)
        time.sleep(DOWN_SECONDS)
        srv.set_down(False)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _check(srv: Any, client: TelemetryClient, sent_ids: set[str], started: float) -> None:
    stored = srv.stored_events()
    stored_ids = [e["event_id"] for e in stored]
    stats = client.stats()
    faults: dict[str, int] = {}
    for record in srv.requests:
        if record.fault:
            faults[record.fault] = faults.get(record.fault, 0) + 1
    print(
        f"\nsoak: {len(sent_ids)} events in {time.monotonic() - started:.1f} s, "
        f"{len(srv.requests)} requests, faults {faults}, retried {stats.retried}, "
        f"requeued {stats.requeued}, stored {len(stored_ids)} ({len(set(stored_ids))} unique)"
    )
    assert len(stored_ids) == len(set(stored_ids)), "an event was stored twice"
    assert set(stored_ids) == sent_ids, "an event that fit in the queue was lost"
    assert stats.dropped == {}
    assert client.queue_size == 0
    assert sum(faults.values()) > len(srv.requests) * 0.15  # the faults really happened
    assert set(faults) >= {"429", "500", "503", "drop", "delay"}


def test_soak_threads(faulty_server: tuple[Any, str, str]) -> None:
    srv, key, instance = faulty_server
    client = TelemetryClient(_config(srv.url, key, instance))
    per_thread = EVENTS // 8
    ids: list[list[str]] = [[] for _ in range(8)]
    builder_ids = [
        EventBuilder(instance).task_type(TaskType.TESTING).model(f"m{n}") for n in range(8)
    ]
    started = time.monotonic()
    with _scaled_time(TIME_SCALE):
        client.start()
        down = _down_window(srv, after=0.5)

        def worker(n: int) -> None:
            for i in range(per_thread):
                event = builder_ids[n].duration_ms(i).build()
                client.track(event)
                ids[n].append(str(event.event_id))
                if i % 250 == 0:
                    time.sleep(0.01)  # a realistic pace, not one tight burst

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        down.join(30)
        client.stop()
    _check(srv, client, {i for chunk in ids for i in chunk}, started)


def test_soak_asyncio(faulty_server: tuple[Any, str, str]) -> None:
    srv, key, instance = faulty_server
    ids: set[str] = set()

    async def app() -> TelemetryClient:
        client = TelemetryClient(_config(srv.url, key, instance))
        await client.start_async()
        builder = EventBuilder(instance).task_type(TaskType.DEBUGGING).model("async")

        async def handler(n: int) -> None:
            for i in range(EVENTS // 10):
                event = builder.duration_ms(n * 100_000 + i).build()
                client.track(event)
                ids.add(str(event.event_id))
                if i % 50 == 0:
                    await asyncio.sleep(0.001)

        await asyncio.gather(*(handler(n) for n in range(10)))
        await client.stop_async()
        return client

    started = time.monotonic()
    with _scaled_time(TIME_SCALE):
        down = _down_window(srv, after=0.3)
        client = asyncio.run(app())
        down.join(30)
    _check(srv, client, ids, started)
