"""The background sender: a daemon thread or an asyncio task, behind one small protocol.

A runner sleeps until `track()` wakes it (a full batch) or the interval passes, flushes, and
sleeps again; after a failed flush only the interval (or stop) wakes it. `stop(deadline)`
turns whatever flush is running into the final one and waits for the runner to end; both
runners end the same way, `Delivery.finish`. An unexpected exception in one flush is logged
and counted, and the runner carries on.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Protocol, TypeVar

from mosaicstack_telemetry._delivery import Delivery
from mosaicstack_telemetry._drivers import AsyncMailbox, Mailbox, waitable
from mosaicstack_telemetry._wire import hook_forks

_M = TypeVar("_M", bound=Mailbox)

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

THREAD_NAME = "mosaicstack-telemetry-sender"
#: How long `stop()` waits past its deadline for a runner to end: requests are cut at the
#: deadline and end within a read slice; this only bounds the unforeseen.
GRACE_SECONDS = 1.0
#: The budget of a flush the runner makes on its own: when the event loop it runs in is
#: shutting down (asyncio.run returning), or after its client was garbage-collected.
LAST_WORDS_SECONDS = 2.0


class Runner(Protocol):
    """What the client knows of its sender, thread or task; `finish` and `finish_async`
    stop it."""

    @property
    def mode(self) -> str: ...
    @property
    def mailbox(self) -> Mailbox: ...
    def start(self) -> None: ...
    def wake(self) -> None: ...
    @property
    def alive(self) -> bool: ...
    def settles(self, loop: object | None) -> bool: ...


def _no_flush_for(delivery: Delivery, healthy: bool) -> bool:
    """A wake from track() between flushes. With a spool, what is queued moves into it first,
    whatever the server's state: a kill must find it in the file. True when no flush follows:
    after a failed flush only the interval ends the wait, and with a spool a flush waits for a
    whole batch."""
    source = delivery.source
    if source.spool is None:
        return not healthy
    source.persist()
    return not healthy or source.spooled() < delivery.batch_size


def _persisting(mailbox: _M, delivery: Delivery) -> _M:
    """A sender's mailbox: with a spool, a wake persists at once, even during a flush."""
    if delivery.source.spool is not None:
        mailbox.on_wake = delivery.source.persist
    return mailbox


#: An unexpected exception in one of the sender's flushes: the sender carries on.
_CARRIES_ON = "The telemetry sender failed a flush; it carries on"


class ThreadRunner:
    """The sender as a daemon thread. It holds the `Delivery`, never the client."""

    mode = "thread"

    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery
        self.mailbox = _persisting(Mailbox(), delivery)
        # Its own end flag, not Thread.is_alive(): a join() interrupted by Ctrl-C marks a
        # thread that still runs as stopped (CPython before 3.13), and the exit hook must
        # still wait for what it holds.
        self.ended = threading.Event()
        self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
        #: Set by `orphan()`: told when the last flush left nothing for the exit flush.
        self._emptied: Callable[[Delivery], None] | None = None

    def start(self) -> None:
        hook_forks()
        self._thread.start()

    def wake(self) -> None:
        self.mailbox.wake()

    @property
    def alive(self) -> bool:
        return self._thread.ident is not None and not self.ended.is_set()

    def settles(self, loop: object | None) -> bool:
        """Whether its requests in flight can be answered while the caller waits: not when
        the caller is this thread (an `on_error` calling `flush()`)."""
        return self.alive and self._thread is not threading.current_thread()

    def stop(self, deadline: float, *, exiting: bool = False) -> None:
        """Make the running flush the final one, and wait for the thread to end."""
        self.mailbox.finish_by(deadline, exiting=exiting)
        if self._thread is not threading.current_thread():
            self.ended.wait(waitable(max(deadline - time.monotonic(), 0.0) + GRACE_SECONDS))

    def orphan(
        self, adopt: Callable[[Delivery, Runner], None], emptied: Callable[[Delivery], None]
    ) -> None:
        """The client was garbage-collected without stop(): flush what is left and end.

        Nothing else holds the delivery any more, so the exit flush adopts it at once: a
        process ending during this last flush waits for it, and what it cannot send (the
        server down for a moment) is tried again at exit. A last flush that sends everything
        gives the delivery up (`emptied`): a process dropping many clients keeps none."""
        self._emptied = emptied
        adopt(self.delivery, self)
        self.mailbox.finish_by(time.monotonic() + LAST_WORDS_SECONDS)

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self.ended.set()

    def _loop(self) -> None:
        delivery, mailbox = self.delivery, self.mailbox
        healthy = True
        due = time.monotonic() + delivery.interval
        while mailbox.deadline is None:
            mailbox.idle(max(due - time.monotonic(), 0.0), lambda: False)
            if mailbox.deadline is not None:
                break
            woken = mailbox.take_wake()
            if woken and _no_flush_for(delivery, healthy):
                continue
            due = time.monotonic() + delivery.interval
            try:
                healthy = delivery.flush(mailbox, None).complete
            except Exception as exc:
                delivery.failed(exc, _CARRIES_ON)
                healthy = False
        assert mailbox.deadline is not None
        delivery.finish(mailbox, mailbox.deadline)
        emptied = self._emptied
        if emptied is not None and not delivery.source.holds_events():
            emptied(delivery)


class TaskRunner:
    """The sender as an asyncio task of the loop that started it."""

    mode = "asyncio task"

    def __init__(self, delivery: Delivery, loop: asyncio.AbstractEventLoop) -> None:
        self.delivery = delivery
        self.loop = loop
        self.mailbox = _persisting(AsyncMailbox(loop), delivery)
        self.ended = threading.Event()  # for stop() called from another thread
        self._task: asyncio.Task[None] | None = None
        self._taken_over = False

    def start(self) -> None:
        hook_forks()
        self._task = self.loop.create_task(self._run(), name=THREAD_NAME)
        # A loop closed without stop_async() must not print "Task was destroyed but it is
        # pending" into the host's output: the exit hook still delivers what is queued.
        self._task._log_destroy_pending = False  # type: ignore[attr-defined]

    def wake(self) -> None:
        self.mailbox.wake()

    @property
    def alive(self) -> bool:
        # Taken over: ended for the client at once, though its loop may run the cancellation
        # only later (a new sender may start meanwhile; this one will not touch the delivery).
        task = self._task
        return (
            task is not None
            and not self._taken_over
            and not task.done()
            and not self.loop.is_closed()
        )

    def in_its_loop(self) -> bool:
        """Whether the caller runs in this runner's event loop (so it may await the task)."""
        import asyncio

        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def can_finish_itself(self) -> bool:
        """Whether the task can still run its final flush: its loop runs in another thread."""
        return self.alive and self.loop.is_running() and not self.in_its_loop()

    def settles(self, loop: object | None) -> bool:
        """Whether its requests in flight can be answered while the caller waits: its loop
        runs in another thread, or the caller awaits in that loop (`loop`). Not when the loop
        is stopped or closed, or the caller blocks it."""
        return self.can_finish_itself() or (self.alive and loop is self.loop)

    async def stop_async(self, deadline: float, *, exiting: bool = False) -> None:
        """From inside the loop: make the running flush the final one and await the task."""
        import asyncio

        self.mailbox.finish_by(deadline, exiting=exiting)
        task = self._task
        if task is None or task.done():
            return
        try:
            await asyncio.wait_for(
                asyncio.shield(task), max(deadline - time.monotonic(), 0.0) + GRACE_SECONDS
            )
        except asyncio.TimeoutError:
            pass
        except asyncio.CancelledError:
            if not task.cancelled():  # the caller was cancelled, not the task (shielded)
                raise

    def stop_from_thread(self, deadline: float, *, exiting: bool = False) -> None:
        """From another thread while the loop runs: the task finishes; wait for it. At exit
        not past the deadline: the exit budget is one for all clients, and a loop whose thread
        is blocked would take each one's grace for nothing."""
        self.mailbox.finish_by(deadline, exiting=exiting)
        grace = 0.0 if exiting else GRACE_SECONDS
        self.ended.wait(waitable(max(deadline - time.monotonic(), 0.0) + grace))

    def take_over(self) -> None:
        """The task cannot finish (its loop is stopped, closed, or blocked by the caller):
        cancel it; what its flush held goes back to the source for the caller's flush."""
        self._taken_over = True
        flow, self.mailbox.active = self.mailbox.active, None
        if flow is not None:
            # Suspended at a wait: its jobs go back to the source now. Running at this very
            # moment (its loop resumed in another thread): the cancellation below closes it.
            with contextlib.suppress(ValueError):  # "generator already executing"
                flow.close()
        task = self._task
        if task is not None and not task.done():
            with contextlib.suppress(RuntimeError):  # the loop is closed
                if self.in_its_loop():
                    task.cancel()
                else:
                    self.loop.call_soon_threadsafe(task.cancel)

    async def _run(self) -> None:
        import asyncio

        delivery, mailbox = self.delivery, self.mailbox
        try:
            healthy = True
            due = time.monotonic() + delivery.interval
            while mailbox.deadline is None:
                await mailbox.idle_async(max(due - time.monotonic(), 0.0), lambda: False)
                if mailbox.deadline is not None:
                    break
                woken = mailbox.take_wake()
                if woken and _no_flush_for(delivery, healthy):
                    continue
                due = time.monotonic() + delivery.interval
                try:
                    healthy = (await delivery.flush_async(mailbox, None)).complete
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    delivery.failed(exc, _CARRIES_ON)
                    healthy = False
                    healthy = False
            assert mailbox.deadline is not None
            await delivery.finish_async(mailbox, mailbox.deadline)
        except asyncio.CancelledError:
            if not self._taken_over:
                # The loop is shutting down (asyncio.run returning without stop_async()):
                # deliver what can be delivered before it closes, then end as asked. What is
                # left stays queued for the exit hook, which delivers it or says it is lost.
                deadline = time.monotonic() + LAST_WORDS_SECONDS
                mailbox.defer_report = True
                await delivery.finish_async(mailbox, deadline)
            raise
        finally:
            self.ended.set()


def replaceable(runner: Runner | None, loop: asyncio.AbstractEventLoop | None) -> bool:
    """Whether a new sender may take over from `runner`: none, one that ended, or a task whose
    loop no longer runs (stopped, or closed without `stop_async()`) and is not `loop`. Such a
    task is retired first: what its request in flight carried goes back to the queue for the
    new sender (it was sent by no one and counted in flight for ever)."""
    if runner is None:
        return True
    if isinstance(runner, TaskRunner):
        if runner.alive and (runner.loop is loop or runner.loop.is_running()):
            return False
        runner.take_over()
        return True
    return not runner.alive


def finish(delivery: Delivery, runner: Runner | None, deadline: float, *, exiting: bool) -> None:
    """`stop()` and the exit hook: the runner makes the final flush if it can; else (never
    started, or its event loop cannot run it) it happens here, on the caller's thread."""
    if isinstance(runner, ThreadRunner) and runner.alive:
        runner.stop(deadline, exiting=exiting)
        return  # it made the final flush, closed the wire and the spool, reported
    if isinstance(runner, TaskRunner):
        if runner.can_finish_itself():
            runner.stop_from_thread(deadline, exiting=exiting)
            if runner.ended.is_set():
                return
        # Its loop cannot run it (stopped, closed, or blocked by this very call): what its
        # flush held goes back to the source, and the final flush happens here.
        runner.take_over()
    mailbox = Mailbox()
    mailbox.exiting = exiting
    delivery.finish(mailbox, deadline)


def give_up_at_exit(delivery: Delivery, runner: Runner | None) -> None:
    """Ctrl-C during the exit flush: send nothing more, and say now what is lost (the log
    line and `on_error`), not never. A thread sender still in its final flush is cut and
    reports itself within its grace; else what the source holds is reported here."""
    if isinstance(runner, ThreadRunner) and runner.alive:
        runner.mailbox.why = _INTERRUPTED
        runner.mailbox.finish_by(time.monotonic(), exiting=True)
        if runner.ended.wait(GRACE_SECONDS):
            return
    elif isinstance(runner, TaskRunner):
        runner.take_over()  # what its flush held goes back to the source
    delivery.report_left(None, exiting=True, why=_INTERRUPTED)


_INTERRUPTED = "the exit flush was interrupted (Ctrl-C)"


async def finish_async(delivery: Delivery, runner: Runner | None, deadline: float) -> None:
    """`stop_async()`: `finish` from inside an event loop, awaiting instead of blocking it."""
    import asyncio

    if isinstance(runner, TaskRunner):
        if runner.alive and runner.in_its_loop():
            await runner.stop_async(deadline)
            if runner.ended.is_set():
                return
        elif runner.can_finish_itself():
            await asyncio.to_thread(runner.stop_from_thread, deadline)
            if runner.ended.is_set():
                return
        runner.take_over()
    elif isinstance(runner, ThreadRunner) and runner.alive:
        await asyncio.to_thread(runner.stop, deadline)
        return
    await delivery.finish_async(AsyncMailbox(asyncio.get_running_loop()), deadline)
