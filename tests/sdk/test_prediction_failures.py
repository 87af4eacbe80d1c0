"""What a `refresh_predictions*` call does when the server fails it: each chunk of queries
follows the retry policy on its own, every chunk that succeeds is cached, and one line says
how many queries were not fetched, from where and why."""

from __future__ import annotations

import asyncio
import logging

import pytest
from tests.sdk.conftest import Reply, ScriptedServer, make_config

from mosaicstack_telemetry import (
    Complexity,
    PredictionQuery,
    Provider,
    TaskType,
    TelemetryClient,
    TelemetryConfig,
)

LOGGER = "mosaicstack_telemetry"
pytestmark = pytest.mark.usefixtures("fast_retries")


def queries(count: int) -> list[PredictionQuery]:
    return [
        PredictionQuery(
            task_type=TaskType.TESTING,
            model=f"m{i}",
            provider=Provider.OPENAI,
            complexity=Complexity.LOW,
        )
        for i in range(count)
    ]


def one_at_a_time(url: str, **overrides: object) -> TelemetryConfig:
    """Chunks go out in order, so a scripted reply meets a known chunk."""
    return make_config(url, max_concurrent_requests=1, max_retries=1, **overrides)


def cached(client: TelemetryClient, asked: list[PredictionQuery]) -> list[bool]:
    return [client.get_prediction(q) is not None for q in asked]


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_chunk_the_server_keeps_failing_costs_only_its_own_queries(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(500), Reply(500))  # the first chunk, and its one retry
    asked = queries(120)
    client = TelemetryClient(one_at_a_time(server.url))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client.refresh_predictions_sync(asked)
    assert [len(s.json()["queries"]) for s in server.seen] == [50, 50, 50, 20]
    assert cached(client, asked) == [False] * 50 + [True] * 70
    assert errors(caplog) == [
        f"Could not fetch predictions for 50 of 120 queries from {server.url} (HTTP 500); "
        "the cache keeps its old entries for them"
    ]


async def test_async_refresh_too(server: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    server.script(Reply(500), Reply(500))
    asked = queries(60)
    client = TelemetryClient(one_at_a_time(server.url))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        await client.refresh_predictions(asked)
    assert cached(client, asked) == [False] * 50 + [True] * 10
    assert len(errors(caplog)) == 1
    assert "for 50 of 60 queries" in errors(caplog)[0]
    await client.aclose()


def test_an_unreachable_server_is_tried_for_the_first_chunk_only(
    unused_tcp_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{unused_tcp_port}"
    client = TelemetryClient(one_at_a_time(url))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client.refresh_predictions_sync(queries(120))
    (line,) = errors(caplog)
    assert line.startswith(f"Could not fetch predictions for 120 of 120 queries from {url} (")
    assert "(nothing listens there)" in line  # why, and so what to do
    assert "; 70 were not tried after that failure)" in line


@pytest.mark.parametrize(
    "reply",
    [
        Reply(429, headers={"Retry-After": "1"}),
        Reply(503),
        Reply(500, headers={"Retry-After": "1"}),
    ],
    ids=["429", "503", "500-retry-after"],
)
def test_a_server_unavailable_or_rate_limiting_is_not_asked_for_the_other_chunks(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture, reply: Reply
) -> None:
    # Each chunk in turn would wait out its whole retry cycle (a Retry-After up to 60 s each):
    # a sync refresh of 200 queries blocked for minutes, and ignored the server's Retry-After
    # between chunks.
    server.script(reply, reply)
    client = TelemetryClient(one_at_a_time(server.url))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client.refresh_predictions_sync(queries(120))
    assert len(server.seen) == 2  # the first chunk and its one retry
    (line,) = errors(caplog)
    assert line.startswith("Could not fetch predictions for 120 of 120 queries from")
    assert f"(HTTP {reply.status}; 70 were not tried after that failure)" in line


def test_the_reason_given_is_the_one_that_cost_the_queries(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The second chunk's 500 was retried and then answered: it is not why 50 are missing.
    server.script(Reply(400, {"detail": "query 7 is invalid"}), Reply(500))
    client = TelemetryClient(one_at_a_time(server.url))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client.refresh_predictions_sync(queries(100))
    assert errors(caplog) == [
        f"Could not fetch predictions for 50 of 100 queries from {server.url} (HTTP 400: "
        '{"detail": "query 7 is invalid"}); the cache keeps its old entries for them'
    ]


def test_a_413_splits_the_chunk_and_a_single_query_too_large_is_said(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(413))  # the 50-query chunk: too large for a proxy in front
    asked = queries(50)
    client = TelemetryClient(one_at_a_time(server.url))
    client.refresh_predictions_sync(asked)
    assert [len(s.json()["queries"]) for s in server.seen] == [50, 25, 25]
    assert all(cached(client, asked))

    server.script(Reply(413, {"detail": "body too large"}))
    one = [PredictionQuery(task_type="testing", model="x" * 100, provider="openai",
                           complexity="low")]  # fmt: skip
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client.refresh_predictions_sync(one)
    assert errors(caplog) == [
        f"Could not fetch predictions for 1 of 1 queries from {server.url} (HTTP 413: "
        '{"detail": "body too large"}: one query is larger than the server accepts); the '
        "cache keeps its old entries for them"
    ]


def test_an_answer_that_cannot_be_read_says_why(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(Reply(200, {"results": []}))
    asked = queries(3)
    client = TelemetryClient(make_config(server.url))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        client.refresh_predictions_sync(asked)
    assert cached(client, asked) == [False] * 3
    assert errors(caplog) == [
        f"Could not fetch predictions for 3 of 3 queries from {server.url} (the answer could "
        "not be read: the body has 0 answers for 3 queries); the cache keeps its old entries "
        "for them"
    ]


async def test_a_refresh_the_caller_cancels_logs_no_error(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.delay = 1.0
    client = TelemetryClient(make_config(server.url))
    # asyncio.TimeoutError: not the builtin TimeoutError on Python 3.10.
    with caplog.at_level(logging.WARNING, logger=LOGGER), pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(client.refresh_predictions(queries(1)), 0.1)
    assert errors(caplog) == []  # the caller chose to stop waiting: not a failure to report
    await client.aclose()


@pytest.mark.parametrize("given", ["a query", "an invalid config"])
def test_a_refresh_that_cannot_run_says_so_rate_limited(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture, given: str
) -> None:
    if given == "a query":
        client = TelemetryClient(make_config(server.url))
        arg: object = queries(1)[0]
    else:
        client = TelemetryClient(make_config(server.url, api_key="not-a-key"))
        arg = queries(1)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for _ in range(50):
            client.refresh_predictions_sync(arg)  # type: ignore[arg-type]
    assert len(errors(caplog)) == 1, errors(caplog)
    assert server.seen == []
