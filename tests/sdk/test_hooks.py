"""What posthog and sentry users reach for: before_send, on_error, debug, a readable repr,
close()/aclose(), and flush() returning early when nothing can succeed."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import time
from collections.abc import Sequence
from typing import Any

import pytest

from mosaicstack_telemetry import (
    Complexity,
    PredictionQuery,
    Provider,
    TaskCompletionEvent,
    TaskType,
    TelemetryClient,
)
from mosaicstack_telemetry._errors import DeliveryError

from .conftest import API_KEY, Reply, ScriptedServer, make_config, make_event

QUERY = PredictionQuery(
    task_type=TaskType.TESTING, model="m", provider=Provider.OPENAI, complexity=Complexity.LOW
)


def test_before_send_may_change_or_drop_an_event(server: ScriptedServer) -> None:
    def scrub(event: TaskCompletionEvent) -> TaskCompletionEvent | None:
        if event.model == "secret-model":
            return None
        return event.model_copy(update={"language": "redacted"})

    client = TelemetryClient(make_config(server.url, before_send=scrub))
    client.track(make_event(model="secret-model"))
    client.track(make_event(language="python"))
    client.stop()
    (sent,) = [e for p in server.events_posts() for e in p.json()["events"]]
    assert sent["language"] == "redacted"
    stats = client.stats()
    assert (stats.sent, stats.dropped) == (1, {"before_send": 1})


def test_a_failing_or_wrong_before_send_drops_counts_and_logs_never_raises(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: TaskCompletionEvent) -> Any:
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, logger="mosaicstack_telemetry"):
        client = TelemetryClient(make_config(server.url, before_send=broken))
        client.track(make_event())  # must not raise
        wrong = TelemetryClient(make_config(server.url, before_send=lambda e: {"a": 1}))
        wrong.track(make_event())
    assert client.stats().dropped == {"before_send_error": 1}
    # The hook's mistake, said as such: it was "track() takes a TaskCompletionEvent, not dict".
    assert wrong.stats().dropped == {"before_send_error": 1}
    assert "Event dropped: before_send returned a dict; it must return the event" in caplog.text
    assert "before_send raised" in caplog.text
    assert "ValueError: boom" in caplog.text  # the traceback is there
    client.stop()
    wrong.stop()
    assert server.events_posts() == []


def test_before_send_that_is_not_callable_is_an_invalid_config() -> None:
    config = make_config("http://127.0.0.1:1", before_send="scrub")
    assert any("before_send must be a function" in p for p in config.validate())


def test_on_error_gets_the_dropped_events_and_the_reason(server: ScriptedServer) -> None:
    calls: list[tuple[DeliveryError, Sequence[TaskCompletionEvent]]] = []
    client = TelemetryClient(
        make_config(server.url, on_error=lambda e, events: calls.append((e, events)))
    )
    events = [make_event() for _ in range(3)]
    for event in events:
        client.track(event)
    server.script(Reply(422, {"detail": "the envelope is wrong"}))
    client.stop()
    ((error, dropped),) = calls
    assert isinstance(error, DeliveryError)
    assert (error.reason, error.status) == ("http_422", 422)
    # The server's text and the URL: detail was ' ({...})', a log's fragment, and url ''.
    assert error.detail == '{"detail": "the envelope is wrong"}'
    assert error.url == server.url
    assert str(error) == f'http_422: {{"detail": "the envelope is wrong"}} ({server.url})'
    assert [e.event_id for e in dropped] == [e.event_id for e in events]


@pytest.mark.parametrize("path", ["/v1", "/telemetry"])
def test_a_server_url_with_a_wrong_path_says_so(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    # Every batch was dropped as http_404 with no URL in the message and no hint.
    client = TelemetryClient(make_config(server.url + path))
    client.track(make_event())
    server.script(Reply(404, {"detail": "Not Found"}))
    with caplog.at_level(logging.ERROR, logger="mosaicstack_telemetry"):
        client.stop()
    assert (
        f"Dropped a batch of 1 events: {server.url}{path} answered http_404 "
        '({"detail": "Not Found"}); retrying cannot succeed; check server_url: it must be the '
        "server's base URL, to which the SDK appends /v1/events/batch"
    ) in caplog.text


def test_on_error_that_raises_is_logged_and_counted(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(error: DeliveryError, events: Sequence[TaskCompletionEvent]) -> None:
        raise RuntimeError("callback bug")

    client = TelemetryClient(make_config(server.url, on_error=broken))
    client.track(make_event())
    server.script(Reply(400))
    with caplog.at_level(logging.ERROR, logger="mosaicstack_telemetry"):
        client.stop()  # must not raise
    assert "on_error callback raised" in caplog.text
    assert client.stats().dropped == {"http_400": 1}
    # The delivery's error, not the callback's: it was "on_error raised", which hid the cause.
    assert (client.stats().last_error or "").startswith("HTTP 400")


def test_on_error_hears_of_events_lost_at_exit(tmp_path: Any) -> None:
    script = tmp_path / "lost.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import logging
            from mosaicstack_telemetry import TelemetryClient, TelemetryConfig, EventBuilder
            logging.basicConfig()
            def on_error(error, events):
                print("on_error", error.reason, len(events), flush=True)
            config = TelemetryConfig(
                server_url="http://127.0.0.1:9", api_key="{API_KEY}",
                instance_id="12345678-1234-4234-8234-123456789abc", on_error=on_error,
            )
            client = TelemetryClient(config)
            client.start()
            for _ in range(3):
                client.track(EventBuilder(config.instance_id).build())
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    assert "on_error deadline 3" in done.stdout
    assert "3 events were not delivered to http://127.0.0.1:9" in done.stderr
    assert "they are lost: the process is exiting" in done.stderr
    assert API_KEY not in done.stdout + done.stderr


def test_debug_logs_the_sdk_to_stderr_without_configuring_logging(server: ScriptedServer) -> None:
    code = textwrap.dedent(
        f"""
        from mosaicstack_telemetry import TelemetryClient, TelemetryConfig, EventBuilder
        config = TelemetryConfig(
            server_url="{server.url}", api_key="{API_KEY}",
            instance_id="12345678-1234-4234-8234-123456789abc", debug=True,
        )
        with TelemetryClient(config) as client:
            client.track(EventBuilder(config.instance_id).build())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert f"POST {server.url}/v1/events/batch: 1 items, HTTP 202" in done.stderr
    assert API_KEY not in done.stderr
    quiet = subprocess.run(
        [sys.executable, "-c", code.replace("debug=True", "debug=False")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert quiet.stderr == ""


def test_debug_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_DEBUG", "1")
    assert make_config("http://127.0.0.1:1").debug is True
    monkeypatch.setenv("MOSAIC_TELEMETRY_DEBUG", "0")
    assert make_config("http://127.0.0.1:1").debug is False


def test_repr_shows_url_state_and_queue_never_the_key(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    client.track(make_event())
    assert repr(client) == (f"<TelemetryClient {server.url!r} enabled, sender: stopped, queued: 1>")
    client.start()
    assert "sender: thread" in repr(client)
    client.stop()
    assert API_KEY not in repr(client)
    disabled = TelemetryClient(make_config(server.url, enabled=False))
    assert "disabled" in repr(disabled)
    invalid = TelemetryClient(make_config("ftp://x"))
    assert "invalid config" in repr(invalid)


def test_close_releases_the_pool_of_a_client_that_only_fetched_predictions(
    server: ScriptedServer,
) -> None:
    client = TelemetryClient(make_config(server.url))
    client.refresh_predictions_sync([QUERY])
    wire: Any = client._delivery._wire  # type: ignore[union-attr]
    pool = wire._sync.get_httpx_client()
    client.close()
    assert pool.is_closed
    assert wire._sync is None
    client.refresh_predictions_sync([QUERY])  # a later request reopens what it needs
    assert len(server.seen) == 2
    client.close()


async def test_aclose_releases_the_loops_pool_too(server: ScriptedServer) -> None:
    client = TelemetryClient(make_config(server.url))
    await client.refresh_predictions([QUERY])
    wire: Any = client._delivery._wire  # type: ignore[union-attr]
    (pool,) = [p.get_async_httpx_client() for p in wire._async.values()]
    await client.aclose()
    assert pool.is_closed
    assert not wire._async


def test_each_loop_keeps_its_own_pool_and_aclose_closes_it(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two threads, each with its own event loop, refreshing in turn, then each aclose()s as
    # the docs say: every pool opened is closed (a pool replaced by the other loop's leaked).
    import asyncio
    import threading

    from mosaicstack_telemetry._transport import HttpWire

    made: list[Any] = []
    new_client = HttpWire._new_client

    def recording(self: HttpWire, sync: bool = True) -> Any:
        client = new_client(self, sync)
        if not sync:
            made.append(client.get_async_httpx_client())
        return client

    monkeypatch.setattr(HttpWire, "_new_client", recording)
    client = TelemetryClient(make_config(server.url))
    turns = [threading.Semaphore(1), threading.Semaphore(0)]
    failures: list[BaseException] = []

    def worker(me: int) -> None:
        async def main() -> None:
            for _ in range(3):
                turns[me].acquire(timeout=30)  # the other loop waits its turn
                await client.refresh_predictions([QUERY])
                turns[1 - me].release()
            await client.aclose()

        try:
            asyncio.run(main())
        except BaseException as exc:  # pragma: no cover  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert len(server.seen) == 6
    assert len(made) == 2  # one pool per loop, kept across its turns
    assert all(pool.is_closed for pool in made)


def test_a_loop_dropped_without_closing_is_not_kept_alive_by_its_pool(
    server: ScriptedServer,
) -> None:
    # A sync view that runs one coroutine on a loop of its own, then drops it: each loop was
    # kept, with its selector, self-pipe and connection, for as long as the client lived.
    import asyncio
    import gc
    import weakref

    client = TelemetryClient(make_config(server.url))
    loops = []
    for _ in range(20):
        loop = asyncio.new_event_loop()
        loop.run_until_complete(client.refresh_predictions([QUERY]))
        loops.append(weakref.ref(loop))
        del loop
    gc.collect()
    assert sum(ref() is not None for ref in loops) <= 1  # the last one, until the next
    assert len(server.seen) == 20
    client.close()
    gc.collect()
    assert all(ref() is None for ref in loops)


def test_close_moves_queued_events_into_the_spool(server: ScriptedServer, tmp_path: Any) -> None:
    from mosaicstack_telemetry._spool import Spool

    path = tmp_path / "spool.db"
    client = TelemetryClient(make_config(server.url, spool_path=str(path)))
    client.track(make_event())
    client.close()
    assert Spool(path).count() == 1
    assert server.events_posts() == []


@pytest.mark.parametrize("kind", ["refused", "403"])
def test_flush_returns_early_when_nothing_can_succeed(
    server: ScriptedServer, unused_tcp_port: int, kind: str
) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}" if kind == "refused" else server.url
    if kind == "403":
        server.script(Reply(403))
    client = TelemetryClient(make_config(url))
    for _ in range(3):
        client.track(make_event())
    start = time.monotonic()
    result = client.flush(timeout=30)
    assert time.monotonic() - start < 5  # not the 30 s it was allowed
    assert result.sent == 0
    if kind == "refused":
        assert result.remaining == 3
        assert "nothing listens there" in (client.stats().last_error or "")
    else:
        assert result.dropped == 3  # dropped by policy; the flush then stops
    client.close()
