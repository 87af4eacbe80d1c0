"""The retry policy of decisions.md, status by status, against a real loopback server."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from mosaicstack_telemetry import TelemetryClient
from mosaicstack_telemetry._retry import Action, backoff, decide, parse_retry_after

from .conftest import DROP, Reply, ScriptedServer, background_flush, make_config, make_event

pytestmark = pytest.mark.usefixtures("fast_retries")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 520])
def test_transient_status_is_retried_then_delivered(server: ScriptedServer, status: int) -> None:
    server.script(Reply(status), Reply(status))
    client = TelemetryClient(make_config(server.url))
    event = make_event()
    client.track(event)
    client.stop()
    posts = server.events_posts()
    assert len(posts) == 3
    assert server.event_ids() == [str(event.event_id)] * 3
    stats = client.stats()
    assert stats.sent == 1
    assert stats.retried == 2
    assert stats.dropped == {}
    assert client.queue_size == 0


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_permanent_status_drops_without_retry(
    server: ScriptedServer, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(status, {"detail": f"nope {status}"}))
    client = TelemetryClient(make_config(server.url))
    client.track(make_event())
    client.track(make_event())
    with caplog.at_level(logging.WARNING, logger="mosaicstack_telemetry"):
        assert client.flush(timeout=2).dropped == 2
        client.stop()
    assert len(server.events_posts()) == 1
    assert client.stats().dropped == {f"http_{status}": 2}
    assert client.queue_size == 0
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert f"nope {status}" in errors[0].getMessage()
    # Nothing is kept: no warning may say "Could not deliver 0 events ... they are kept".
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING] == []


def test_network_error_is_retried(server: ScriptedServer) -> None:
    # A server that hangs up without answering, twice, then recovers.
    server.script(Reply(DROP), Reply(DROP))
    client = TelemetryClient(make_config(server.url))
    client.track(make_event())
    client.stop()
    assert len(server.events_posts()) == 3
    stats = client.stats()
    assert (stats.sent, stats.retried) == (1, 2)


def test_connection_refused_is_retried_and_requeued(unused_tcp_port: int) -> None:
    client = TelemetryClient(make_config(f"http://127.0.0.1:{unused_tcp_port}", max_retries=2))
    client.track(make_event())
    client.start()
    assert background_flush(client) is False
    stats = client.stats()
    assert stats.retried == 2
    assert stats.requeued == 1
    assert client.queue_size == 1
    assert stats.last_error is not None
    assert "Connect" in stats.last_error
    client.stop(timeout=0.2)  # nothing listens: the final flush ends at its deadline
    assert not client.is_running


def test_exhausted_retries_requeue_at_the_front(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, max_retries=1, batch_size=2))
    first, second, third = make_event(), make_event(), make_event()
    for event in (first, second, third):
        client.track(event)
    server.script(Reply(503), Reply(503))
    assert background_flush(client) is False  # the cycle ends with the batch re-queued
    assert client.queue_size == 3
    assert [e.event_id for e in client._queue.drain(3)] == [
        first.event_id,
        second.event_id,
        third.event_id,
    ]
    assert client.stats().requeued == 2


def test_max_retries_zero_means_one_attempt(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, max_retries=0))
    client.track(make_event())
    server.script(Reply(500))
    assert background_flush(client) is False
    assert len(server.events_posts()) == 1


def test_requeue_into_a_full_queue_keeps_the_newest(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, max_retries=0, max_queue_size=3))
    old = [make_event() for _ in range(2)]
    for event in old:
        client.track(event)
    batch = client._queue.drain(2)
    newer = [make_event() for _ in range(2)]
    for event in newer:
        client.track(event)
    client._queue._put_back(batch)
    assert [e.event_id for e in client._queue.drain(3)] == [old[1].event_id] + [
        e.event_id for e in newer
    ]
    assert client._queue.evicted == 1


def test_413_splits_the_batch_in_half(server: ScriptedServer) -> None:
    # One request at a time, so the order of arrival is the order of sending.
    client = TelemetryClient(make_config(server.url, batch_size=4, max_concurrent_requests=1))
    events = [make_event() for _ in range(4)]
    for event in events:
        client.track(event)
    server.script(Reply(413), Reply(413))  # the whole batch, then its first half
    client.stop()
    sizes = [len(s.json()["events"]) for s in server.events_posts()]
    assert sizes == [4, 2, 1, 1, 2]
    assert client.stats().sent == 4
    delivered = server.event_ids()[-4:]
    assert delivered == [str(e.event_id) for e in events]


def test_413_for_a_single_event_drops_it(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.track(make_event())
    server.script(Reply(413))
    client.stop()
    assert client.stats().dropped == {"http_413": 1}
    assert len(server.events_posts()) == 1


@pytest.mark.parametrize("header", ["5", "HTTP-DATE"])
def test_retry_after_is_honoured(server: ScriptedServer, header: str) -> None:
    if header == "HTTP-DATE":
        header = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=6), usegmt=True)
    server.script(Reply(429, headers={"Retry-After": header}))
    client = TelemetryClient(make_config(server.url))
    client.track(make_event())
    client.stop()
    first, second = server.events_posts()
    # Waits are scaled by 1/1000 in these tests: Retry-After 5 s (or a date 5+ s ahead,
    # whole seconds) must have held the retry back at least 4 ms.
    assert second.at - first.at >= 0.004
    assert client.stats().sent == 1


def test_per_event_rejections_are_counted_not_retried(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    good, bad = make_event(), make_event()
    server.script(
        Reply(
            202,
            {
                "accepted": 1,
                "rejected": 1,
                "results": [
                    {"event_id": str(good.event_id), "status": "accepted"},
                    {"event_id": str(bad.event_id), "status": "rejected", "error": "bad model"},
                ],
            },
        )
    )
    client = TelemetryClient(make_config(server.url))
    client.track(good)
    client.track(bad)
    with caplog.at_level(logging.WARNING, logger="mosaicstack_telemetry"):
        client.stop()
    assert len(server.events_posts()) == 1
    stats = client.stats()
    assert (stats.sent, stats.rejected) == (1, 1)
    assert str(bad.event_id) in caplog.text
    assert "bad model" in caplog.text


@pytest.mark.parametrize(
    "body",
    [b"<html>oops</html>", b"", b'{"accepted": 1', b'{"unexpected": true}'],
    ids=["html", "empty", "truncated", "wrong-shape"],
)
def test_unreadable_2xx_counts_as_sent(server: ScriptedServer, body: bytes) -> None:
    server.script(Reply(202, body))
    client = TelemetryClient(make_config(server.url))
    client.track(make_event())
    client.stop()
    assert client.stats().sent == 1
    assert len(server.events_posts()) == 1


def test_unreadable_5xx_is_retried(server: ScriptedServer) -> None:
    server.script(Reply(500, b"<html>Internal Server Error</html>"))
    client = TelemetryClient(make_config(server.url))
    client.track(make_event())
    client.stop()
    assert len(server.events_posts()) == 2
    assert client.stats().sent == 1


def test_predictions_follow_the_retry_policy(server: ScriptedServer) -> None:
    from mosaicstack_telemetry import Complexity, PredictionQuery, Provider, TaskType

    query = PredictionQuery(
        task_type=TaskType.TESTING, model="m", provider=Provider.OPENAI, complexity=Complexity.LOW
    )
    server.script(Reply(503), Reply(429, headers={"Retry-After": "1"}))
    client = TelemetryClient(make_config(server.url))
    client.refresh_predictions_sync([query])
    assert len(server.seen) == 3
    cached = client.get_prediction(query)
    assert cached is not None
    assert cached.metadata.confidence == "none"


# -- the pure decisions ----------------------------------------------------------------------


def test_decide_table() -> None:
    assert decide(202, None, 0, 3, 10).action is Action.DONE
    assert decide(413, None, 0, 3, 10).action is Action.SPLIT
    assert decide(413, None, 0, 3, 1).action is Action.DROP
    for status in (400, 401, 403, 404, 422):
        assert decide(status, None, 0, 3, 10).action is Action.DROP
    for status in (None, 408, 429, 500, 502, 503, 504, 599):
        assert decide(status, None, 0, 3, 10).action is Action.RETRY
        assert decide(status, None, 3, 3, 10).action is Action.GIVE_UP


def test_backoff_is_full_jitter_capped() -> None:
    import random

    rng = random.Random(7)
    for attempt in range(12):
        ceiling = min(30.0, 2.0**attempt)
        waits = [backoff(attempt, rng) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 2  # spread over the whole range, not a fixed delay


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("86400") == 60.0  # capped
    assert parse_retry_after("9" * 400) == 60.0  # oversized
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("Wed, 31 Dec 2025 23:00:00 GMT", now) == 0.0  # past
    assert parse_retry_after("Fri, 02 Jan 2026 00:00:00 GMT", now) == 60.0  # far future
    for bad in ("soon", "-5", "1.5", "", "Thu, 99 Foo 2026"):
        assert parse_retry_after(bad, now) is None
    assert parse_retry_after(None) is None
