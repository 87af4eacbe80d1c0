"""Two thin drivers of the planner: one blocking (worker threads), one async (tasks).

Everything both need (taking work, settling jobs, answers, a deadline that `stop()` sets while
a flush runs, cutting requests in flight) is `_drive`, a generator that yields only the two
things that differ: start a request, and wait. `flush_blocking` and `flush_async` carry those
out, each in a few lines, the way httpx drives one auth flow from both of its clients.
"""

from __future__ import annotations

import contextlib
import functools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from mosaicstack_telemetry._planner import Done, Job, Planner, Send, Settle, Take, Wait
from mosaicstack_telemetry._wire import (
    Answer,
    Budget,
    Request,
    Wire,
    WireError,
    abandon,
    background,
    log_request,
)
from mosaicstack_telemetry._workers import Workers

if TYPE_CHECKING:
    import asyncio


def monotonic() -> float:
    return time.monotonic()


class Source(Protocol):
    def take(self, count: int, whole: bool) -> list[Any]: ...
    def request(self, items: list[Any]) -> Request | None: ...
    def settle(self, settle: Settle) -> None: ...


@dataclass(frozen=True)
class Start:
    """Start `request` for `job`, bounded by `budget`; report to the mailbox."""

    job: Job
    request: Request
    budget: Budget


class Mailbox:
    """What reaches a running flush from outside: answers, a deadline, wakes.

    Safe from any thread; the blocking driver sleeps on its condition. The async driver
    uses `AsyncMailbox`, which also wakes its event loop.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.RLock())
        self._answers: deque[tuple[Job, Answer | WireError]] = deque()
        self.deadline: float | None = None  # set by stop(): finish by then
        self.exiting = False  # the process is exiting: what is left is lost
        #: stop() was interrupted (Ctrl-C): the exit hook, not the runner, says what is left
        self.defer_report = False
        #: Why the flush ended early, said instead of its last error (a Ctrl-C at exit).
        self.why: str | None = None
        self.woken = False  # track() asked for a flush (read without the lock by track())
        #: What a wake from track() does at once, even in the middle of a flush's wait: a
        #: sender with a spool moves what was tracked into the file (`EventSource.persist`),
        #: so a kill while a request or a backoff lasts finds it there.
        self.on_wake: Callable[[], None] | None = None

    def post(self, job: Job, outcome: Answer | WireError) -> None:
        with self._cond:
            self._answers.append((job, outcome))
            self._notify()

    def finish_by(self, deadline: float, *, exiting: bool = False) -> None:
        with self._cond:
            self.deadline = deadline if self.deadline is None else min(self.deadline, deadline)
            if exiting:
                self.exiting, self.defer_report = True, False
            self._notify()

    def wake(self) -> None:
        with self._cond:
            self.woken = True
            self._notify()

    def _notify(self) -> None:
        self._cond.notify_all()

    def take_answers(self) -> list[tuple[Job, Answer | WireError]]:
        with self._cond:
            answers = list(self._answers)
            self._answers.clear()
            return answers

    def take_wake(self) -> bool:
        with self._cond:
            woken, self.woken = self.woken, False
            return woken

    def _ready(self, deadline_seen: float | None, for_work: bool) -> bool:
        woken = (for_work or self.on_wake is not None) and self.woken
        return bool(self._answers) or woken or self.deadline != deadline_seen

    def wait(self, step: Wait, deadline_seen: float | None) -> None:
        """Sleep until an answer, a new deadline, `step.until`, or (when the flush has room
        for it) a wake from track()."""
        until = step.until
        with self._cond:
            while not self._ready(deadline_seen, step.for_work):
                left = None if until is None else until - monotonic()
                if left is not None and left <= 0:
                    return
                self._cond.wait(None if left is None else waitable(left))

    def idle(self, timeout: float, stopping: Callable[[], bool]) -> bool:
        """Sleep until a wake, a deadline, or `timeout`; True if woken or stopping."""
        end = monotonic() + timeout
        with self._cond:
            while not self.woken and self.deadline is None and not stopping():
                left = end - monotonic()
                if left <= 0:
                    return False
                self._cond.wait(waitable(left))
            return True


def _drive(
    planner: Planner, source: Source, mailbox: Mailbox, url: str
) -> Generator[Start | Wait, None, Done]:
    """The driver loop without its I/O: yields `Start` and `Wait` for a shell to carry out.

    Everything else happens here, on the driver's own thread or task, for both shells: an
    exception anywhere (a source, a log handler) ends this flush, and whatever it held goes
    back to the source; the runner logs it, counts it and carries on.
    """
    budgets: dict[Job, Budget] = {}
    requests: dict[Job, Request] = {}
    deadline_seen: float | None = None
    try:
        while True:
            if mailbox.deadline != deadline_seen:
                deadline_seen = mailbox.deadline
                assert deadline_seen is not None
                planner.finish_by(deadline_seen, monotonic())
                for budget in budgets.values():  # stop() cuts the requests in flight
                    budget.end = min(budget.end, deadline_seen)
            if mailbox.woken and mailbox.take_wake():
                planner.refill()  # track() queued a whole batch: there is work again
                if mailbox.on_wake is not None:
                    mailbox.on_wake()
            for job, outcome in mailbox.take_answers():
                if budgets.pop(job, None) is None:
                    continue  # abandoned earlier
                sent = requests.pop(job)
                if isinstance(outcome, Answer):
                    log_request(sent, url, outcome, None)
                else:
                    log_request(sent, url, None, str(outcome))
                if isinstance(outcome, WireError):
                    planner.failed(job, outcome, monotonic())
                else:
                    planner.answered(job, outcome, monotonic())
            action = planner.next(monotonic())
            if isinstance(action, Take):
                planner.taken(source.take(action.count, action.whole))
            elif isinstance(action, Send):
                request = source.request(action.job.items)
                if request is None:
                    planner.discard(action.job)
                    continue
                budget = budgets[action.job] = Budget(action.end)
                requests[action.job] = request
                yield Start(action.job, request, budget)
            elif isinstance(action, Settle):
                source.settle(action)
            elif isinstance(action, Wait):
                yield action
            else:
                return action
    finally:
        for budget in budgets.values():
            budget.end = -math.inf  # requests still running end at their next read
        for settle in planner.abandon():
            source.settle(settle)


def _deliver(wire: Wire, start: Start, mailbox: Mailbox) -> None:
    try:
        outcome: Answer | WireError = wire.send(start.request, start.budget)
    except WireError as exc:
        outcome = exc
    except Exception as exc:  # a wire must not raise anything else; never lose the job
        outcome = WireError("network", f"{type(exc).__name__}: {exc}")
    mailbox.post(start.job, outcome)


def flush_blocking(
    planner: Planner, source: Source, wire: Wire, mailbox: Mailbox, workers: Workers
) -> Done:
    """Run one flush on this thread, its requests on worker threads."""
    flow = _drive(planner, source, mailbox, wire.url)
    seen: float | None = None
    with contextlib.closing(flow):
        try:
            step = next(flow)
            while True:
                if isinstance(step, Start):
                    workers.submit(functools.partial(_deliver, wire, step, mailbox))
                else:
                    mailbox.wait(step, seen)
                seen = mailbox.deadline
                step = next(flow)
        except StopIteration as end:
            done: Done = end.value
            return done


class AsyncMailbox(Mailbox):
    """A `Mailbox` whose owner sleeps in an event loop: every notice also wakes the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        #: What `_sleep` awaits; a notice resolves it with True, its timer with False.
        self._waiter: asyncio.Future[bool] | None = None
        #: The flush running in the loop, so a takeover from outside can close it.
        self.active: Generator[Start | Wait, None, Done] | None = None

    def _notify(self) -> None:
        super()._notify()
        if _running_loop() is self.loop:
            self._wake()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed
                self.loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        _resolve(self._waiter, True)

    async def _sleep(self, until: float | None, ready: Callable[[], bool]) -> bool:
        """Sleep until `ready()` or `until`; True if ready.

        It awaits a bare future, not `wait_for(event.wait())`: that wraps the wait in a task of
        its own, which a loop closed without `stop_async()` reports on the host's stderr as
        "Task was destroyed but it is pending!" (the sender's own task is kept quiet).
        """
        while not ready():
            left = None if until is None else until - monotonic()
            if left is not None and left <= 0:
                return False
            waiter = self._waiter = self.loop.create_future()
            if ready():  # a notice came before the waiter: nothing would resolve it
                break
            timer = None if left is None else self.loop.call_later(left, _resolve, waiter, False)
            try:
                woken = await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()
            if not woken:
                return ready()
        return True

    async def wait_async(self, step: Wait, deadline_seen: float | None) -> None:
        await self._sleep(step.until, lambda: self._ready(deadline_seen, step.for_work))

    async def idle_async(self, timeout: float, stopping: Callable[[], bool]) -> bool:
        ready = lambda: self.woken or self.deadline is not None or stopping()  # noqa: E731
        return await self._sleep(monotonic() + timeout, ready)


def _resolve(waiter: asyncio.Future[bool] | None, value: bool) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(value)


def waitable(seconds: float) -> float:
    """`seconds`, at most what a lock can wait at once (`threading.TIMEOUT_MAX`, about 49
    days): a longer wait (`submit_interval_seconds=1e10`, `stop(timeout=inf)`) raised
    OverflowError and killed the sender thread. Callers loop, so a capped wait only wakes."""
    return min(seconds, threading.TIMEOUT_MAX)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


async def _deliver_async(wire: Wire, start: Start, mailbox: Mailbox) -> None:
    try:
        outcome: Answer | WireError = await wire.send_async(start.request, start.budget)
    except WireError as exc:
        outcome = exc
    except Exception as exc:  # a wire must not raise anything else; never lose the job
        outcome = WireError("network", f"{type(exc).__name__}: {exc}")
    mailbox.post(start.job, outcome)


async def flush_async(planner: Planner, source: Source, wire: Wire, mailbox: AsyncMailbox) -> Done:
    """Run one flush in this event loop, its requests as tasks."""
    import asyncio

    flow = mailbox.active = _drive(planner, source, mailbox, wire.url)
    seen: float | None = None
    tasks: set[asyncio.Task[None]] = set()
    with contextlib.closing(flow):
        try:
            step = next(flow)
            while True:
                if isinstance(step, Start):
                    task = background(asyncio.ensure_future(_deliver_async(wire, step, mailbox)))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                else:
                    await mailbox.wait_async(step, seen)
                seen = mailbox.deadline
                step = next(flow)
        except StopIteration as end:
            # None: taken over from outside (see TaskRunner.take_over); the task is cancelled.
            done: Done | None = end.value
            return done or Done("abandoned")
        finally:
            mailbox.active = None
            for task in list(tasks):
                abandon(task)
