"""The benchmarks' fault server does what the issue-12 figures rely on: one seeded fault
sequence for both SDKs' endpoints, each fault as described, each event stored once.
Real sockets on 127.0.0.1, plain `http.client` as the client."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level package of the checkout
    sys.path.insert(0, str(ROOT))

from benchmarks._faultsink import KINDS, Faults, FaultSink, running_fault_sink  # noqa: E402


def _ours(ids: list[str]) -> tuple[str, bytes]:
    return "/v1/events/batch", json.dumps({"events": [{"event_id": i} for i in ids]}).encode()


def _posthog(ids: list[str]) -> tuple[str, bytes]:
    return "/batch/", json.dumps({"api_key": "k", "batch": [{"uuid": i} for i in ids]}).encode()


def _post(
    sink: FaultSink, path: str, body: bytes, timeout: float = 10.0
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", sink.server_address[1], timeout=timeout)
    try:
        conn.request("POST", path, body, {"Content-Type": "application/json"})
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


def _ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


def test_the_sequence_is_seeded_and_mixes_every_kind_at_the_rate() -> None:
    seq = Faults(seed=3).sequence(2000)
    assert seq == Faults(seed=3).sequence(2000)
    assert seq != Faults(seed=4).sequence(2000)
    faulty = [f for f in seq if f is not None]
    assert 0.25 < len(faulty) / len(seq) < 0.35
    assert set(faulty) == set(KINDS)


def test_both_endpoints_draw_from_one_sequence_in_request_order() -> None:
    faults = Faults(seed=1, slow_seconds=0.05)
    expected = faults.sequence(24)
    with running_fault_sink(faults) as sink:
        for i in range(24):
            path, body = (_ours if i % 2 else _posthog)(_ids(2))
            with contextlib.suppress(ConnectionResetError):  # the reset fault
                _post(sink, path, body)
        assert sink.settle()
        arrivals = sink.arrivals()
    assert [a.fault for a in arrivals] == expected
    assert [a.path for a in arrivals] == ["/batch/", "/v1/events/batch"] * 12
    assert {f for f in expected if f} == set(KINDS)  # the seed exercises every fault


def test_a_healthy_answer_is_what_each_sdk_expects_and_stores_each_event_once() -> None:
    with running_fault_sink(Faults(rate=0.0)) as sink:
        ids = _ids(3)
        status, _, body = _post(sink, *_ours(ids))
        assert status == 202
        answer = json.loads(body)
        assert answer["accepted"] == 3
        assert [r["event_id"] for r in answer["results"]] == ids
        assert {r["status"] for r in answer["results"]} == {"accepted"}
        status, _, body = _post(sink, *_ours(ids[:1]))  # a re-send
        assert status == 202
        status, _, body = _post(sink, *_posthog(_ids(2)))
        assert (status, json.loads(body)) == (200, {"status": 1})
        assert (sink.unique, sink.duplicates) == (5, 1)


@pytest.mark.parametrize("kind", ["429", "500", "503"])
def test_an_error_status_stores_nothing(kind: str) -> None:
    with running_fault_sink(Faults(rate=1.0, kinds=(kind,))) as sink:
        status, headers, _ = _post(sink, *_ours(_ids(4)))
        assert status == int(kind)
        assert (headers.get("Retry-After") == "1") is (kind == "429")
        assert sink.unique == 0
        assert sink.faults_met() == {kind: 1}


def test_reset_stores_the_events_then_resets_the_connection() -> None:
    with running_fault_sink(Faults(rate=1.0, kinds=("reset",))) as sink:
        with pytest.raises(ConnectionResetError):  # an RST, not a clean close
            _post(sink, *_posthog(_ids(5)))
        assert sink.settle()
        assert sink.unique == 5


def test_slow_answers_late_and_stores_unless_the_client_hung_up() -> None:
    with running_fault_sink(Faults(rate=1.0, kinds=("slow",), slow_seconds=0.5)) as sink:
        start = time.monotonic()
        status, _, _ = _post(sink, *_ours(_ids(2)))
        assert status == 202
        assert time.monotonic() - start >= 0.5
        assert sink.unique == 2

        with pytest.raises(socket.timeout):  # the client gives up after 0.1 s
            _post(sink, *_ours(_ids(3)), timeout=0.1)
        assert sink.settle()
        assert sink.unique == 2  # not served, so not stored
        assert [a.stored for a in sink.arrivals()] == [True, False]


def test_other_paths_get_404_and_draw_no_fault() -> None:
    with running_fault_sink(Faults(rate=1.0, kinds=("500",))) as sink:
        status, _, _ = _post(sink, "/flags/", b"{}")
        assert status == 404
        assert sink.other_requests == 1
        assert sink.arrivals() == []


def test_requests_are_counted_per_second() -> None:
    with running_fault_sink(Faults(rate=0.0)) as sink:
        start = time.monotonic()
        for _ in range(3):
            _post(sink, *_ours(_ids(1)))
        end = time.monotonic()
        assert sink.requests_between(start, end) == 3
        assert sink.requests_between(end + 1, end + 2) == 0
        assert sink.peak(start, end) == 3
