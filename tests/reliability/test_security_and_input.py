"""Bad input never crashes the host; the API key never leaks."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.sdk.conftest import (
    API_KEY,
    DROP,
    Reply,
    ScriptedServer,
    accounted,
    background_flush,
    make_config,
    make_event,
)

from mosaicstack_telemetry import (
    Complexity,
    PredictionQuery,
    Provider,
    TaskType,
    TelemetryClient,
    TelemetryConfig,
)
from mosaicstack_telemetry._retry import _scaled_time

QUERY = PredictionQuery(
    task_type=TaskType.TESTING, model="m", provider=Provider.OPENAI, complexity=Complexity.LOW
)


@pytest.mark.parametrize(
    "bad", [None, {"task_type": "testing"}, "event", 42, object(), [make_event()]]
)
def test_track_with_bad_input_is_counted_not_raised(bad: Any, server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.track(bad)
    assert client.queue_size == 0
    assert client.stats().dropped == {"invalid_event": 1}
    client.stop()
    assert server.seen == []


def test_track_after_stop_queues_for_the_next_start(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.start()
    client.stop()
    client.track(make_event())
    assert client.queue_size == 1
    client.stop()
    assert len(server.event_ids()) == 1


def test_every_field_invalid_config_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    config = TelemetryConfig(
        server_url="nope",
        api_key="x" * 10,
        instance_id="not-a-uuid",
        submit_interval_seconds=-1,
        max_queue_size=0,
        batch_size=1000,
        request_timeout_seconds=float("nan"),
        prediction_cache_ttl_seconds=-5,
        max_retries=-1,
        user_agent="",
        shutdown_timeout_seconds=0,
    )
    messages = config.validate()
    assert len(messages) == 10
    with caplog.at_level(logging.WARNING, logger="mosaicstack_telemetry"):
        client = TelemetryClient(config)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 10
    client.start()
    client.track(make_event())
    client.refresh_predictions_sync([QUERY])
    assert client.flush().sent == 0
    client.stop()
    assert not client.is_running


def test_config_with_wrong_types_validates_without_raising() -> None:
    config = TelemetryConfig(
        server_url=None,  # type: ignore[arg-type]
        api_key=123,  # type: ignore[arg-type]
        instance_id=[],  # type: ignore[arg-type]
        submit_interval_seconds="5",  # type: ignore[arg-type]
        max_queue_size=1.5,  # type: ignore[arg-type]
        batch_size=True,
        request_timeout_seconds=None,  # type: ignore[arg-type]
    )
    assert len(config.validate()) == 7
    TelemetryClient(config).track(make_event())


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")
def test_track_from_a_signal_handler_interrupting_track(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, max_queue_size=100_000, batch_size=100))
    client.start()
    from_handler: list[int] = []
    event = make_event()

    def handler(signum: int, frame: object) -> None:
        client.track(event)
        from_handler.append(1)

    previous = signal.signal(signal.SIGALRM, handler)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)
        for _ in range(5_000):
            client.track(event)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, previous)
    client.stop()
    assert from_handler  # the handler really ran, interrupting track() calls
    assert client.stats().sent == 5_000 + len(from_handler)


# -- servers that answer nonsense ------------------------------------------------------------

GARBAGE = st.one_of(
    st.binary(max_size=200),
    st.just(b"<html><body>502 Bad Gateway</body></html>"),
    st.just(b'{"accepted": "many"}'),
    st.just(b'{"results": [1, 2, 3]}'),
    st.just(b"null"),
    st.just(b"[]"),
    st.just(b"x" * 5_000_000),  # larger than the SDK reads
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=st.sampled_from([200, 202, 204, 400, 404, 418, 429, 500, 503, 520, 599]), body=GARBAGE
)
def test_any_answer_is_settled_per_policy(server: ScriptedServer, status: int, body: bytes) -> None:
    client = TelemetryClient(make_config(server.url, max_retries=1))
    client.track(make_event())
    server.script(Reply(status, body), Reply(status, body))
    with _scaled_time(0.0):
        finished = background_flush(client)
        client.refresh_predictions_sync([QUERY])  # never raises either
    stats = client.stats()
    if 200 <= status < 300:
        assert finished
        assert stats.sent == 1
    elif status >= 500 or status == 429:
        assert not finished
        assert stats.retried == 1
        assert client.queue_size == 1  # back in the queue for the next cycle
    else:
        assert finished
        assert stats.dropped == {f"http_{status}": 1}
    server.replies.clear()
    client.stop()


# -- the key never leaks ---------------------------------------------------------------------


def test_api_key_never_appears_anywhere(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, every level: httpx and httpcore too
    config = make_config(server.url)
    dry = make_config(server.url, dry_run=True)
    seen: list[str] = [repr(config), str(config), repr(dry)]
    for cfg in (config, dry):
        client = TelemetryClient(cfg)
        client.start()
        client.track(make_event())
        client.track(None)  # type: ignore[arg-type]
        server.script(Reply(403, {"detail": "unknown key"}), Reply(DROP))
        client.flush()
        client.track(make_event())
        client.refresh_predictions_sync([QUERY])
        client.stop()
        seen += [repr(client), str(client), repr(client.stats())]
        wire = client._delivery._wire if client._delivery is not None else None
        if wire is not None:
            seen += [repr(wire), repr(wire._sync_client())]
    asyncio.run(_async_round(config))
    bad = TelemetryConfig(server_url="x", api_key=API_KEY[:-1] + "z", instance_id="y")
    seen += [*bad.validate(), repr(bad)]
    out = capsys.readouterr()
    everything = "\n".join([*seen, caplog.text, out.out, out.err])
    for record in caplog.records:
        everything += "\n" + str(record.args) + str(record.exc_info)
    assert API_KEY not in everything
    assert API_KEY[:-1] not in everything
    assert "DRY RUN" in caplog.text  # the dry-run output was captured too


async def _async_round(config: TelemetryConfig) -> None:
    async with TelemetryClient(config) as client:
        client.track(make_event())
        await client.refresh_predictions([QUERY])


def test_plain_http_to_a_remote_host_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mosaicstack_telemetry"):
        TelemetryClient(make_config("http://telemetry.example.com"))
        TelemetryClient(make_config("http://127.0.0.1:8000"))
        TelemetryClient(make_config("http://localhost:8000"))
        TelemetryClient(make_config("https://telemetry.example.com"))
    warnings = [r.getMessage() for r in caplog.records if "plain http" in r.getMessage()]
    assert len(warnings) == 1


def test_tls_verification_is_on() -> None:
    from mosaicstack_telemetry._transport import HttpWire

    transport = HttpWire(make_config("https://127.0.0.1:9"))
    pool = transport._sync_client().get_httpx_client()._transport._pool
    assert pool._ssl_context.verify_mode.name == "CERT_REQUIRED"
    assert pool._ssl_context.check_hostname
    transport.close()


def test_many_threads_with_bad_and_good_input(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, max_queue_size=10_000))
    client.start()
    inputs: list[Any] = [make_event(), None, {"a": 1}, make_event(), 3]

    def worker() -> None:
        for _ in range(200):
            for item in inputs:
                client.track(item)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    client.stop()
    stats = client.stats()
    assert stats.sent == 8 * 200 * 2
    assert stats.dropped == {"invalid_event": 8 * 200 * 3}


def test_counters_account_for_every_tracked_event(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url, max_queue_size=5, batch_size=2, max_retries=1))
    good = [make_event() for _ in range(9)]
    for event in good:
        client.track(event)  # 4 evicted: the queue holds 5
    client.track(None)  # type: ignore[arg-type]
    server.script(Reply(422), Reply(503), Reply(503))
    assert background_flush(client) is False  # 2 dropped, 2 requeued
    stats = client.stats()
    assert accounted(stats) == len(good) + 1
    assert stats.dropped == {"http_422": 2, "invalid_event": 1}
    assert (stats.evicted, stats.queued) == (4, 3)
    client.stop()
    stats = client.stats()
    assert stats.sent == 3
    assert stats.queued == 0


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (QUERY, "takes a list of PredictionQuery, not a PredictionQuery"),
        ([QUERY.model_dump()], "takes PredictionQuery items, not dict (PredictionQuery(**d)"),
        ([QUERY, 3], "takes PredictionQuery items, not int"),
        (42, "takes a list of PredictionQuery, not a int"),
    ],
)
def test_refresh_with_the_wrong_argument_says_what_it_was_given(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture, given: Any, said: str
) -> None:
    """One query instead of a list, or dicts: a traceback about `len()` or `model_dump_json`
    said neither what was wrong nor what to pass. Nothing is fetched, nothing raises."""
    client = TelemetryClient(make_config(server.url))
    with caplog.at_level(logging.ERROR, logger="mosaicstack_telemetry"):
        client.refresh_predictions_sync(given)
        asyncio.run(client.refresh_predictions(given))
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2, messages
    assert messages[0].startswith(f"refresh_predictions_sync() {said}")
    assert messages[1].startswith(f"refresh_predictions() {said}")
    assert all(m.endswith("; nothing was fetched") for m in messages)
    assert not any(r.exc_info for r in caplog.records)
    assert server.seen == []


def test_refresh_takes_any_iterable_of_queries(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.refresh_predictions_sync(q for q in [QUERY])
    assert client.get_prediction(QUERY) is not None


def test_get_prediction_of_a_dict_says_what_to_pass() -> None:
    client = TelemetryClient(TelemetryConfig(enabled=False))
    with pytest.raises(TypeError, match=r"PredictionQuery, not dict \(PredictionQuery\(\*\*d\)"):
        client.get_prediction(QUERY.model_dump())  # type: ignore[arg-type]
