"""The delivery planner on its own: no network, no threads, no clock but the one we pass.

Every decision of the delivery core is made here, so these tests pin the policy exactly:
the window grows and shrinks, a pause holds every request, order is kept, a deadline ends the
flush only once the requests in flight have ended, and nothing taken is ever lost.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from mosaicstack_telemetry._flow import MIN_STALL_SECONDS, Flow
from mosaicstack_telemetry._planner import (
    Done,
    Job,
    Planner,
    Policy,
    Send,
    Settle,
    Take,
    Wait,
)
from mosaicstack_telemetry._wire import Answer, WireError

OK = Answer(202)


class Harness:
    """Drives a planner by hand: a source of numbered items, a clock, what was settled."""

    def __init__(self, items: int, *, batch: int = 10, limit: int = 4, **policy: Any) -> None:
        self.source = list(range(items))
        self.now = 0.0
        self.flow = Flow(limit)
        options: dict[str, Any] = {"retries": 3, "rng": random.Random(1)}
        options.update(policy)
        self.planner = Planner(
            Policy(batch_size=batch, request_timeout=10.0, **options), self.flow, self.now
        )
        self.settled: list[Settle] = []
        self.sent: list[Job] = []
        self.returns = True  # what goes back is taken again (the event queue); else it is not

    def step(self) -> Send | Wait | Done:
        """Run the planner until it sends, waits or is done; takes and settles on the way."""
        while True:
            action = self.planner.next(self.now)
            if isinstance(action, Take):
                if action.whole and len(self.source) < action.count:
                    self.planner.taken([])
                else:
                    taken, self.source = self.source[: action.count], self.source[action.count :]
                    self.planner.taken(taken)
            elif isinstance(action, Settle):
                self.settled.append(action)
                if action.how in ("back", "kept") and self.returns:
                    self.source = action.job.items + self.source
            else:
                if isinstance(action, Send):
                    self.sent.append(action.job)
                return action

    def sends(self) -> list[Job]:
        """Every Send the planner makes now, until it waits."""
        jobs = []
        while isinstance(action := self.step(), Send):
            jobs.append(action.job)
        self.last = action
        return jobs

    def how(self, how: str) -> list[list[int]]:
        return [s.job.items for s in self.settled if s.how == how]


def test_the_window_starts_at_one_and_grows_by_one_per_success_up_to_the_limit() -> None:
    h = Harness(100, limit=3)
    widths = []
    while h.source or h.planner.in_flight:
        jobs = h.sends()
        widths.append(len(jobs))
        for job in jobs:
            h.planner.answered(job, OK, h.now)
    assert widths[:4] == [1, 2, 3, 3]
    assert isinstance(h.step(), Done)
    assert sum(len(items) for items in h.how("delivered")) == 100


@pytest.mark.parametrize(
    "failure",
    [Answer(500), Answer(503), Answer(408), WireError("timeout", "Timeout")],
    ids=["500", "503", "408", "timeout"],
)
def test_the_window_halves_on_overload(failure: Any) -> None:
    h = Harness(100, limit=4)
    h.flow.window = 4.0
    jobs = h.sends()
    assert len(jobs) == 4
    if isinstance(failure, WireError):
        h.planner.failed(jobs[0], failure, h.now)
    else:
        h.planner.answered(jobs[0], failure, h.now)
    assert h.flow.window == 2.0
    # Three in flight fill the halved window: wait for an answer, or for one to stall.
    assert h.step() == Wait(h.now + MIN_STALL_SECONDS)
    assert [s.retry for s in h.settled if s.how == "failed"] == [True]


@pytest.mark.parametrize(
    "failure", [Answer(500), Answer(503), WireError("network", "reset")], ids=str
)
def test_an_isolated_failure_holds_back_only_its_own_batch(failure: Any) -> None:
    h = Harness(100, limit=4)
    h.flow.window = 4.0
    first, *others = h.sends()
    if isinstance(failure, WireError):
        h.planner.failed(first, failure, h.now)
    else:
        h.planner.answered(first, failure, h.now)
    assert h.flow.resume_at == 0.0  # nobody else is paused
    for job in others:
        h.planner.answered(job, OK, h.now)
    assert first.not_before >= h.now
    # The window has room: later batches go on while the failed one waits out its backoff.
    going = h.sends()
    assert going
    assert first not in going
    h.now = first.not_before
    for job in going:
        h.planner.answered(job, OK, h.now)
    assert first in h.sends()  # and it is retried once its wait has passed


def test_a_rate_limit_pauses_every_request_and_keeps_the_window() -> None:
    h = Harness(100, limit=4)
    h.flow.window = 4.0
    first, *others = h.sends()
    h.planner.answered(first, Answer(429), h.now)
    assert h.flow.window == 4.0  # the pause is the answer to a 429, not fewer requests
    for job in others:
        h.planner.answered(job, OK, h.now)
    # The window has room again, but nothing new may start before the pause ends.
    assert h.step() == Wait(h.flow.resume_at)
    assert h.flow.resume_at > h.now


def test_a_pause_is_waited_out_only_for_something_to_send() -> None:
    """A pause the client was told elsewhere (a prediction refresh's 429) holds back what there
    is to send; with nothing to send, a flush (a `stop()`) ends at once instead of waiting."""
    empty = Harness(0)
    empty.flow.pause(30.0)
    assert empty.step() == Done("empty")
    h = Harness(5)
    h.flow.pause(30.0)
    assert h.step() == Wait(30.0)
    assert not h.sent  # taken, not sent
    h.now = 30.0
    (job,) = h.sends()
    assert job.items == [0, 1, 2, 3, 4]


def test_once_the_window_is_down_to_one_every_failure_pauses_everything() -> None:
    # A server that goes down: the first failures shrink the window, and from one request at
    # a time on, a failure holds every request, as a single sender's backoff would.
    h = Harness(100, limit=4, retries=10)
    h.flow.window = 4.0
    jobs = h.sends()
    for job in jobs:
        h.planner.failed(job, WireError("connect", "refused"), h.now)
    assert h.flow.window == 1.0
    assert h.flow.resume_at > h.now
    action = h.step()
    assert isinstance(action, Wait)
    assert action.until == h.flow.resume_at


def test_retry_after_pauses_for_exactly_that_long() -> None:
    h = Harness(30)
    (job,) = h.sends()
    h.planner.answered(job, Answer(429, {"retry-after": "7"}), h.now)
    assert h.flow.resume_at == 7.0
    h.now = 6.99
    assert h.step() == Wait(7.0)
    h.now = 7.0
    assert h.sends() == [job]


def test_failures_in_a_row_grow_the_pause_and_a_success_resets_it() -> None:
    h = Harness(100, retries=10, limit=1)
    (job,) = h.sends()
    for failures in range(1, 4):
        h.planner.failed(job, WireError("network", "reset"), h.now)
        assert h.planner.failures == failures
        assert 0 <= h.flow.resume_at - h.now <= 2 ** (failures - 1)
        h.now = h.flow.resume_at
        assert h.sends() == [job]
    h.planner.answered(job, OK, h.now)
    assert h.planner.failures == 0


def test_a_failure_with_nothing_else_in_flight_spaces_requests_by_the_backoff() -> None:
    h = Harness(10, retries=5)
    times = []
    (job,) = h.sends()
    for _ in range(4):
        times.append(h.now)
        h.planner.failed(job, WireError("connect", "refused"), h.now)
        action = h.step()
        assert isinstance(action, Wait)
        assert action.until is not None
        h.now = action.until
        assert h.sends() == [job]
        assert len(h.planner.in_flight) == 1  # one request at a time while failing
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(0 <= gap <= 2 ** (n + 1) for n, gap in enumerate(gaps))  # full-jitter ceilings


def test_jobs_are_sent_in_the_order_they_were_taken_and_halves_in_order() -> None:
    h = Harness(40, limit=1)
    (first,) = h.sends()
    h.planner.answered(first, Answer(413), h.now)  # split: both halves before the next job
    order = []
    while (jobs := h.sends()) or h.planner.in_flight:
        for job in jobs:
            order.append(job.items)
            h.planner.answered(job, OK, h.now)
    assert order[0] == list(range(5))
    assert order[1] == list(range(5, 10))
    assert order[2:] == [list(range(10, 20)), list(range(20, 30)), list(range(30, 40))]


def test_a_stalled_request_frees_its_place_in_the_window() -> None:
    h = Harness(100, limit=4)
    (slow,) = h.sends()  # the window is one request
    assert h.step() == Wait(MIN_STALL_SECONDS)
    h.now = MIN_STALL_SECONDS  # no answer for a second: the next batch goes meanwhile
    (second,) = h.sends()
    h.planner.answered(second, OK, h.now + 0.01)
    h.now += 0.01
    assert h.flow.round_trip == pytest.approx(0.01)
    assert len(h.sends()) == 2  # the window grew to two; the slow one no longer counts
    h.planner.answered(slow, OK, h.now)  # it answers in the end: delivered once
    h.step()
    assert h.how("delivered") == [second.items, slow.items]


def test_when_every_request_is_slow_nothing_more_is_sent() -> None:
    # An overloaded server answers everything slowly: its round trip is long, so a request
    # in flight is not stalled until several of them have passed.
    h = Harness(100, limit=4)
    h.flow.round_trip = 3.0
    (job,) = h.sends()
    assert h.step() == Wait(12.0)
    h.now = 3.0
    assert h.step() == Wait(12.0)
    h.planner.answered(job, OK, h.now)
    assert len(h.sends()) == 2


def test_in_flight_never_exceeds_max_concurrent_requests_even_when_stalled() -> None:
    h = Harness(100, limit=2)
    h.flow.window = 2.0
    assert len(h.sends()) == 2
    h.now = 100.0  # both stalled long ago
    assert h.step() == Wait(None)  # still two in flight: the bound holds


def test_a_second_request_waits_for_a_whole_batch() -> None:
    h = Harness(15, batch=10)
    h.flow.window = 4.0
    jobs = h.sends()
    assert [len(j.items) for j in jobs] == [10]  # 5 left: not a whole batch, so not yet
    h.planner.answered(jobs[0], OK, h.now)
    assert [len(j.items) for j in h.sends()] == [5]  # nothing in flight: the rest goes


def test_retries_exhausted_end_the_flush_and_everything_goes_back_in_order() -> None:
    h = Harness(30, retries=1, limit=1)
    (job,) = h.sends()
    h.planner.answered(job, Answer(503), h.now)
    h.now = h.flow.resume_at
    assert h.sends() == [job]
    h.planner.answered(job, Answer(503), h.now)
    assert h.step() == Done("gave_up")
    assert h.source == list(range(30))  # nothing lost, nothing reordered


def test_independent_jobs_give_up_alone_unless_the_server_cannot_be_reached() -> None:
    # A refresh's chunks of queries: one the server keeps failing costs only itself.
    h = Harness(30, retries=1, limit=1, independent=True)
    h.returns = False
    (first,) = h.sends()
    h.planner.answered(first, Answer(500), h.now)
    h.now = h.flow.resume_at
    assert h.sends() == [first]
    h.planner.answered(first, Answer(500), h.now)
    (second,) = h.sends()  # the next chunk, at once: its own retry cycle
    assert (second.items, h.how("back"), h.planner.failures) == (
        list(range(10, 20)),
        [first.items],
        0,
    )
    h.planner.failed(second, WireError("connect", "ConnectError"), h.now)
    h.now = h.flow.resume_at
    assert h.sends() == [second]
    h.planner.failed(second, WireError("connect", "ConnectError"), h.now)
    assert h.step() == Done("gave_up")  # the server cannot be reached: the rest is not tried
    assert h.source == list(range(20, 30))


def test_a_deadline_ends_the_flush_only_after_the_requests_in_flight() -> None:
    h = Harness(100, limit=4)
    h.flow.window = 4.0
    jobs = h.sends()
    h.planner.finish_by(5.0, h.now)
    h.now = 5.0
    # Past the deadline: no new request, the pending work goes back, the four still count.
    assert h.step() == Wait(None)
    for job in jobs[:3]:
        h.planner.answered(job, OK, h.now)
    h.planner.failed(jobs[3], WireError("timeout", "Timeout"), h.now)  # cut at the deadline
    assert h.step() == Done("deadline")
    assert sum(len(i) for i in h.how("delivered")) == 30
    assert sorted(h.source) == list(range(30, 100))
    assert h.source[:10] == list(range(30, 40))  # the cut job is first again


def test_a_pause_that_would_cross_the_deadline_ends_the_flush() -> None:
    h = Harness(20, deadline=10.0, retries=None)
    (job,) = h.sends()
    h.planner.answered(job, Answer(503, {"retry-after": "30"}), h.now)
    assert h.step() == Done("deadline")
    assert h.source == list(range(20))


def test_a_final_flush_tries_once_more_through_a_pause_longer_than_its_deadline() -> None:
    h = Harness(10)
    (job,) = h.sends()
    h.planner.answered(job, Answer(429, {"retry-after": "60"}), h.now)
    h.now = 1.0
    h.planner.finish_by(21.0, h.now)  # stop(): waiting 60 s could only lose the events
    assert h.sends() == [job]


def test_requests_are_budgeted_by_the_timeout_or_the_deadline_whichever_is_sooner() -> None:
    h = Harness(30, deadline=4.0, retries=None)
    action = h.step()
    assert isinstance(action, Send)
    assert action.end == 4.0
    free = Harness(30)
    action = free.step()
    assert isinstance(action, Send)
    assert action.end == 10.0


@pytest.mark.parametrize("status", [401, 403])
def test_an_unauthorized_batch_is_kept_when_the_source_keeps_it(status: int) -> None:
    h = Harness(30, keep_unauthorized=True, limit=1)
    (job,) = h.sends()
    h.planner.answered(job, Answer(status), h.now)
    assert h.step() == Done("kept")
    assert h.how("kept") == [list(range(10))]
    assert h.source == list(range(10)) + list(range(10, 30))


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_a_permanent_failure_drops_the_batch_and_the_flush_goes_on(status: int) -> None:
    h = Harness(20, limit=1)
    (job,) = h.sends()
    h.planner.answered(job, Answer(status), h.now)
    (second,) = h.sends()
    h.planner.answered(second, OK, h.now)
    assert h.step() == Done("empty")
    assert h.how("dropped") == [list(range(10))]


def test_fail_fast_ends_at_a_failure_retrying_cannot_fix_now() -> None:
    h = Harness(30, fail_fast=True, deadline=20.0, retries=None)
    (job,) = h.sends()
    h.planner.failed(job, WireError("connect", "refused", hopeless=True), h.now)
    assert h.step() == Done("hopeless")
    assert h.source == list(range(30))
    transient = Harness(30, fail_fast=True, deadline=20.0, retries=None)
    (job,) = transient.sends()
    transient.planner.failed(job, WireError("network", "reset"), transient.now)
    assert isinstance(transient.step(), Wait)  # a reset may heal: retried


def test_abandon_gives_back_everything_taken() -> None:
    h = Harness(100, limit=4)
    h.flow.window = 4.0
    h.sends()
    back = h.planner.abandon()
    assert sorted(i for s in back for i in s.job.items) == list(range(40))
    assert all(s.how == "back" for s in back)
