"""The delivery core: what to send, when, and what each answer means. No I/O, no clock.

A `Planner` runs one flush. A driver (`_drivers.py`, one blocking and one async) asks it for
the next action, carries the action out and reports back: `Take` work from the source, `Send`
a job, `Settle` a job with the source, `Wait` (for an answer or a time), `Done`. The planner
reads no clock of its own (every call takes `now`) and touches no socket, file or lock, so the
thread and the asyncio path cannot drift apart and every decision is testable without a
network, as httpx's auth flows and h11 are.

Several requests may be in flight: `Flow` keeps a window that starts at one request, grows by
one with each success up to `max_concurrent_requests` and halves on timeouts, network errors,
408 and 5xx, as TCP's congestion window does. A failed batch waits out its own backoff while
the others go on; a `Retry-After`, a 429, or any failure once the window is down to one pauses
every new request, so a server that is down or overloaded sees one request at a time, spaced
as the retry policy says.
"""

from __future__ import annotations

import bisect
import random
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from mosaicstack_telemetry._flow import Flow
from mosaicstack_telemetry._retry import (
    Action,
    Step,
    backoff,
    decide,
    parse_retry_after,
    scaled,
)
from mosaicstack_telemetry._wire import Answer, WireError

AUTH_FAILURES = frozenset({"http_401", "http_403"})
#: A request needs at least this long to be worth starting before a deadline: a shorter one
#: could only time out, and its timeout would hide the real reason the events are left.
MIN_REQUEST_SECONDS = 0.05


@dataclass(eq=False)
class Job:
    """Items that go out in one request. `key` orders jobs: taking order, then halves."""

    items: list[Any]
    key: tuple[int, ...]
    attempt: int = 0  # failed attempts so far
    not_before: float = 0.0  # its own backoff: not sent again before then
    sent_at: float = 0.0  # when its current request started


@dataclass(frozen=True)
class Take:
    """Take up to `count` items from the source; with `whole`, only a full batch or nothing."""

    count: int
    whole: bool


@dataclass(frozen=True)
class Send:
    job: Job
    end: float  # when the request must be over


@dataclass(frozen=True)
class Settle:
    """Tell the source what became of a job.

    `how` is `delivered` (2xx: `answer` says what the server did), `dropped` (retrying cannot
    succeed), `kept` (a 401/403 batch the source keeps for a later, fixed config), `back`
    (not sent: keep it for later), or `failed` (an attempt failed; `retry` says whether the
    job is tried again; the source counts it and notes the error).
    """

    job: Job
    how: str
    reason: str = ""
    answer: Answer | None = None
    error: str | None = None
    retry: bool = False


@dataclass(frozen=True)
class Wait:
    """Nothing to do until an answer arrives or `until` (None: only an answer). With
    `for_work`, new work in the source (a wake from track()) is worth waking for too."""

    until: float | None
    for_work: bool = False


@dataclass(frozen=True)
class Done:
    """The flush is over. `reason`: `empty` (all sent), `deadline`, `gave_up` (retries ran
    out), `kept` (the source keeps an unauthorized batch), `hopeless` (fail-fast)."""

    reason: str

    @property
    def complete(self) -> bool:
        return self.reason == "empty"


@dataclass
class Policy:
    """What a flush may do. `retries` None: retry until the deadline (stop, flush, exit)."""

    batch_size: int
    request_timeout: float
    retries: int | None
    deadline: float | None = None
    #: Each job stands alone (a refresh's chunks of queries): one the server keeps answering
    #: 500 (an error its content may cause) gives up alone, and the flush goes on with the
    #: others, each with its own retry cycle. Any other failure (no answer, 408, 429, 502-504,
    #: a Retry-After) says the server is unavailable or rate limiting: it ends the flush, as
    #: the others would fail the same way.
    independent: bool = False
    keep_unauthorized: bool = False  # 401/403 batches stay in the source (a spool)
    fail_fast: bool = False  # end at the first failure that retrying cannot fix now
    rng: random.Random = field(default_factory=random.Random)


class Planner:
    """One flush, as a state machine. Not thread-safe: one driver owns it."""

    def __init__(self, policy: Policy, flow: Flow, now: float) -> None:
        self.policy = policy
        self.flow = flow
        self._pending: list[Job] = []  # taken, waiting to be sent, ordered by key
        self._inflight: set[Job] = set()
        self._out: deque[Settle] = deque()
        self._starved = False  # the last take found nothing: take again after an answer
        self._ending: str | None = None  # why nothing more is sent
        self._taken = 0
        #: failures in a row in this flush, whichever jobs: how long a pause of every request
        #: lasts (each flush starts afresh, as each cycle of a single request's retries did)
        self.failures = 0
        if policy.deadline is not None:
            self.finish_by(policy.deadline, now)

    # -- inputs ----------------------------------------------------------------------------

    def finish_by(self, deadline: float, now: float) -> None:
        """From now on this is a final flush: retry until `deadline`, then stop.

        A pause that would outlast the deadline (a long `Retry-After`, a long backoff) is cut
        to now: waiting it out would only lose the events, so the final flush tries once more.
        """
        policy = self.policy
        policy.deadline = deadline if policy.deadline is None else min(policy.deadline, deadline)
        policy.retries = None
        if self.flow.resume_at > policy.deadline:
            self.flow.resume_at = now
        for job in self._pending:
            if job.not_before > policy.deadline:
                job.not_before = now

    def taken(self, items: list[Any]) -> None:
        if not items:
            self._starved = True
            return
        self._taken += 1
        bisect.insort(self._pending, Job(items, (self._taken,)), key=_key)

    def refill(self) -> None:
        """The source has more now (a wake from track()): take again when there is room."""
        self._starved = False

    def discard(self, job: Job) -> None:
        """A job the driver could not turn into a request (the source counted it)."""
        self._inflight.discard(job)

    def answered(self, job: Job, answer: Answer, now: float) -> None:
        self._inflight.discard(job)
        self._starved = False
        policy, flow = self.policy, self.flow
        step = decide(
            answer.status,
            answer.retry_after,
            job.attempt,
            self._retries(),
            len(job.items),
            policy.rng,
        )
        if step.action is Action.DONE:
            flow.grow()
            self.failures = 0
            flow.observe(now - job.sent_at)
            self._out.append(Settle(job, "delivered", step.reason, answer))
        elif step.action is Action.SPLIT and self._ending is not None:
            self._out.append(Settle(job, "back", self._ending))
        elif step.action is Action.SPLIT:
            mid = len(job.items) // 2
            for index, half in enumerate((job.items[:mid], job.items[mid:])):
                bisect.insort(self._pending, Job(half, (*job.key, index)), key=_key)
        elif step.action is Action.DROP:
            keep = policy.keep_unauthorized and step.reason in AUTH_FAILURES
            self._out.append(Settle(job, "kept" if keep else "dropped", step.reason, answer))
            if keep:
                self._end("kept")
            elif policy.fail_fast and step.reason in AUTH_FAILURES:
                self._end("hopeless")
        else:
            if answer.status >= 500 or answer.status == 408:
                flow.shrink()  # overload: fewer requests at once (a 429 pauses instead)
            # The server said when to come back, or that it is rate limiting: every request
            # waits. Otherwise only this job does, unless the window is down to one request.
            told = parse_retry_after(answer.retry_after)
            everyone = told is not None or answer.status == 429 or int(flow.window) <= 1
            error = f"HTTP {answer.status}"
            alone = answer.status == 500 and told is None
            self._failed(job, step, error, now, everyone, told, alone=alone)

    def failed(self, job: Job, error: WireError, now: float) -> None:
        self._inflight.discard(job)
        self._starved = False
        self.flow.shrink()
        step = decide(None, None, job.attempt, self._retries(), 1, self.policy.rng)
        if self.policy.fail_fast and error.hopeless:
            self._out.append(Settle(job, "failed", step.reason, error=str(error)))
            self._out.append(Settle(job, "back", "hopeless"))
            self._end("hopeless")
            return
        everyone = int(self.flow.window) <= 1
        self._failed(job, step, str(error), now, everyone)

    def _failed(
        self,
        job: Job,
        step: Step,
        error: str,
        now: float,
        everyone: bool,
        told: float | None = None,
        *,
        alone: bool = False,
    ) -> None:
        """A failed attempt: retry the job after its own backoff (`wait`), or give up on this
        flush. When the server is struggling (it said when to come back, it rate limits, or
        the window is down to one request) every request waits instead: `Retry-After`, else
        a backoff grown by the failures in a row, whichever jobs had them, so a server that is
        down sees what one request at a time with its backoff would send."""
        flow = self.flow
        self.failures += 1
        retry = step.action is Action.RETRY and self._ending is None
        self._out.append(Settle(job, "failed", step.reason, error=error, retry=retry))
        if retry:
            job.attempt += 1
            if everyone:
                pause = told if told is not None else backoff(self.failures - 1, self.policy.rng)
                flow.pause(now + scaled(pause))
            else:
                job.not_before = now + scaled(step.wait)
            bisect.insort(self._pending, job, key=_key)
            return
        self._out.append(Settle(job, "back", step.reason))
        if self._ending is not None:
            return
        if self.policy.independent and alone:
            self.failures = 0  # the next job starts its own retry cycle
        else:
            self._end("gave_up")

    def _retries(self) -> int:
        retries = self.policy.retries
        return sys.maxsize if retries is None else retries

    def _end(self, reason: str) -> None:
        """Send nothing more; what waits to be sent goes back to the source, in order."""
        self._ending = reason
        self._out.extend(Settle(job, "back", reason) for job in self._pending)
        self._pending.clear()

    def abandon(self) -> list[Settle]:
        """Everything not settled yet, to give back: the driver is ending abnormally."""
        if self._ending is None:
            self._end("abandoned")
        jobs = sorted(self._inflight, key=_key)
        self._inflight.clear()
        settles = list(self._out) + [Settle(job, "back", "abandoned") for job in jobs]
        self._out.clear()
        return settles

    @property
    def in_flight(self) -> set[Job]:
        return self._inflight

    # -- output ----------------------------------------------------------------------------

    def next(self, now: float) -> Take | Send | Settle | Wait | Done:
        """The next thing to do."""
        if self._out:
            return self._out.popleft()
        policy, flow = self.policy, self.flow
        deadline = policy.deadline
        # A wait that would cross the deadline ends the flush as surely as the deadline.
        crossed = deadline is not None and (
            now + MIN_REQUEST_SECONDS >= deadline or flow.resume_at + MIN_REQUEST_SECONDS > deadline
        )
        if self._ending is None and crossed:
            self._end("deadline")
            if self._out:
                return self._out.popleft()
        stall = flow.stall_after
        busy = [job.sent_at + stall for job in self._inflight if job.sent_at + stall > now]
        room = (
            self._ending is None
            and len(busy) < int(flow.window)
            and len(self._inflight) < flow.limit
        )
        if room:
            paused = now < flow.resume_at
            if paused and self._pending:
                return Wait(flow.resume_at)
            # Paused with nothing taken yet, the take comes first: a pause (a prediction
            # refresh's 429, an earlier flush's backoff) is waited out only for something to
            # send, never by a flush or a stop() with nothing queued.
            for index, job in enumerate(() if paused else self._pending):
                if job.not_before <= now:
                    del self._pending[index]
                    self._inflight.add(job)
                    job.sent_at = now
                    end = now + policy.request_timeout
                    return Send(job, end if deadline is None else min(end, deadline))
            if not self._starved:
                return Take(policy.batch_size, whole=bool(self._inflight or self._pending))
        if room and self._pending:
            # Every job waiting is backing off, and there is nothing new to send.
            soonest = min(job.not_before for job in self._pending)
            if deadline is not None and soonest + MIN_REQUEST_SECONDS > deadline:
                self._end("deadline")
                return self.next(now)
            return Wait(soonest, for_work=self._starved)
        if self._inflight:
            # Wait for an answer, or for a request to stall and free its place in the window.
            can_stall = self._ending is None and busy and len(self._inflight) < flow.limit
            return Wait(min(busy) if can_stall else None, for_work=room and self._starved)
        return Done(self._ending or "empty")


def _key(job: Job) -> tuple[int, ...]:
    return job.key
