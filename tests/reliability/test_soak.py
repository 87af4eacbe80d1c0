"""Soak: events through 30% injected faults and a down window, each delivered as often as the
failures the SDK could not see through require, and no more.

Exactly-once is judged by the server's count of deliveries per `event_id` (how many
authenticated event requests carried it), not by its primary key, which would store a
re-sent event once whatever the SDK does. An event may reach the server twice only when a
request carrying it failed in a way the SDK could not see through: the connection dropped after
the server processed it (`drop`), or the client gave up on it (a timeout). Those requests are
the ones the server logs without a status; each carried at most one batch.

Runs in the default suite with retry waits scaled down 100x (`_scaled_time`), three fault
seeds, each once with threads and once with asyncio; `scripts/soak` runs it longer and in real
time. Environment: MOSAIC_SOAK_EVENTS (2000 per run), MOSAIC_SOAK_SEEDS (20,24,32),
MOSAIC_SOAK_TIME_SCALE (0.01), MOSAIC_SOAK_DOWN_SECONDS (0.3), MOSAIC_SOAK_SHUTDOWN_SECONDS (120).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.sdk.conftest import accounted

from mosaicstack_telemetry import (
    EventBuilder,
    TaskType,
    TelemetryClient,
    TelemetryConfig,
    TelemetryStats,
)
from mosaicstack_telemetry._retry import _scaled_time

server_mod = pytest.importorskip("mosaicstack_telemetry.server")

EVENTS = int(os.environ.get("MOSAIC_SOAK_EVENTS", "2000"))
# Each of these draws every fault kind within its first 30 requests (30% of them faulted).
SEEDS = [int(s) for s in os.environ.get("MOSAIC_SOAK_SEEDS", "20,24,32").split(",")]
TIME_SCALE = float(os.environ.get("MOSAIC_SOAK_TIME_SCALE", "0.01"))
DOWN_SECONDS = float(os.environ.get("MOSAIC_SOAK_DOWN_SECONDS", "0.3"))
# stop()'s deadline: what is still queued then must get through 30% faults with real backoff
# when waits are not scaled down (scripts/soak), so the long run gives it more time.
SHUTDOWN_SECONDS = float(os.environ.get("MOSAIC_SOAK_SHUTDOWN_SECONDS", "120"))
FAULTS = ("429", "500", "503", "drop", "delay")
BATCH = 100


@dataclass
class Soak:
    srv: Any
    key: str
    instance: str
    seed: int
    window: dict[str, float] = field(default_factory=dict)


@pytest.fixture(params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def soak(request: pytest.FixtureRequest) -> Iterator[Soak]:
    key, instance = secrets.token_hex(32), str(uuid.uuid4())
    faults = server_mod.FaultConfig(
        rate=0.3, kinds=FAULTS, seed=request.param, retry_after="1", delay_seconds=0.05
    )
    with server_mod.start_server(keys={key: instance}, faults=faults) as srv:
        yield Soak(srv, key, instance, request.param)


def _config(soak: Soak) -> TelemetryConfig:
    return TelemetryConfig(
        server_url=soak.srv.url,
        api_key=soak.key,
        instance_id=soak.instance,
        max_queue_size=EVENTS + 1,  # every event fits: the guarantee is about those that fit
        batch_size=BATCH,
        submit_interval_seconds=0.1,
        request_timeout_seconds=2.0,
        shutdown_timeout_seconds=SHUTDOWN_SECONDS,
    )


def _down_window(soak: Soak) -> threading.Thread:
    """Take the server down once a fifth of the events are stored (so the window falls in the
    middle of the traffic), for DOWN_SECONDS; note when, and how much was stored then."""

    def run() -> None:
        deadline = time.monotonic() + 600  # in real time (scripts/soak) a fifth takes a while
        while soak.srv.event_count() < EVENTS // 5 and time.monotonic() < deadline:
            time.sleep(0.002)
        soak.srv.set_down(True)
        soak.window["start"] = time.monotonic()
        soak.window["stored_at_start"] = soak.srv.event_count()
        time.sleep(DOWN_SECONDS)
        soak.window["stored_at_end"] = soak.srv.event_count()
        soak.window["requests_at_end"] = len(soak.srv.requests)
        soak.srv.set_down(False)
        soak.window["end"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _check(soak: Soak, stats: TelemetryStats, tracked: list[str], started: float) -> None:
    srv = soak.srv
    requests = srv.requests
    faults = Counter(r.fault for r in requests if r.fault)
    unseen = sum(1 for r in requests if r.status is None)  # dropped, or given up on
    deliveries = srv.deliveries()
    counts = [deliveries.get(i, 0) for i in tracked]
    extra = sum(c - 1 for c in counts if c > 1)
    print(
        f"\nsoak seed {soak.seed}: {len(tracked)} events in {time.monotonic() - started:.1f} s, "
        f"{len(requests)} requests, faults {dict(faults)}, {unseen} without an answer, "
        f"{extra} re-deliveries, retried {stats.retried}, requeued {stats.requeued}, "
        f"down window with {soak.window.get('stored_at_start')} of {EVENTS} stored"
    )
    assert len(set(tracked)) == len(tracked) == EVENTS
    # Every event arrived, and only events that were tracked.
    assert min(counts) >= 1, "an event that fit in the queue was never delivered"
    assert sorted(e["event_id"] for e in srv.stored_events()) == sorted(tracked)
    # Re-sent only after a failure the SDK could not see through: at most one batch per
    # request that ended without an answer.
    assert extra <= BATCH * unseen, f"{extra} re-deliveries, {unseen} unanswered requests"
    # The counters: each event counted once, as sent (or as a duplicate the server reported).
    assert stats.sent + stats.duplicate == EVENTS, stats
    assert stats.duplicate <= extra
    assert stats.dropped == {}
    assert (stats.queued, stats.spooled, stats.in_flight) == (0, 0, 0)
    assert accounted(stats) == EVENTS, stats
    # The faults really happened, every kind of them.
    assert sum(faults.values()) > len(requests) * 0.15
    assert set(faults) == set(FAULTS)
    # The down window fell in the traffic: events were still undelivered when it began, and
    # delivery went on after it ended.
    assert soak.window.get("end"), "the down window never happened"
    assert soak.window["stored_at_start"] < EVENTS
    assert len(requests) > soak.window["requests_at_end"]


def test_soak_threads(soak: Soak) -> None:
    client = TelemetryClient(_config(soak))
    per_thread = EVENTS // 8
    ids: list[list[str]] = [[] for _ in range(8)]
    builders = [
        EventBuilder(soak.instance).task_type(TaskType.TESTING).model(f"m{n}") for n in range(8)
    ]
    started = time.monotonic()
    with _scaled_time(TIME_SCALE):
        client.start()
        down = _down_window(soak)

        def worker(n: int) -> None:
            count = per_thread + (EVENTS % 8 if n == 0 else 0)
            for i in range(count):
                event = builders[n].duration_ms(i).build()
                client.track(event)
                ids[n].append(str(event.event_id))
                if i % 250 == 0:
                    time.sleep(0.01)  # a realistic pace, not one tight burst

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        down.join(600 + DOWN_SECONDS)
        client.stop()
    _check(soak, client.stats(), [i for chunk in ids for i in chunk], started)


def test_soak_asyncio(soak: Soak) -> None:
    ids: list[str] = []

    async def app() -> TelemetryClient:
        client = TelemetryClient(_config(soak))
        await client.start_async()
        builder = EventBuilder(soak.instance).task_type(TaskType.DEBUGGING).model("async")

        async def handler(n: int) -> None:
            count = EVENTS // 10 + (EVENTS % 10 if n == 0 else 0)
            for i in range(count):
                event = builder.duration_ms(n * 100_000 + i).build()
                client.track(event)
                ids.append(str(event.event_id))
                if i % 50 == 0:
                    await asyncio.sleep(0.001)

        await asyncio.gather(*(handler(n) for n in range(10)))
        await client.stop_async()
        return client

    started = time.monotonic()
    with _scaled_time(TIME_SCALE):
        down = _down_window(soak)
        client = asyncio.run(app())
        down.join(600 + DOWN_SECONDS)
    _check(soak, client.stats(), ids, started)
