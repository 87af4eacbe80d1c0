"""Worker threads for blocking work: a flush's requests, and what an event loop must not wait
on (`on_worker`)."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any

#: How long a worker thread with nothing to do lingers before it ends.
WORKER_IDLE_SECONDS = 5.0


class Workers:
    """Daemon threads that send requests; idle ones end after `WORKER_IDLE_SECONDS`.

    An idle client keeps none, and a burst reuses them instead of starting a thread per
    request. They hold no reference to the client.
    """

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        # Reentrant: a signal handler's flush may submit inside its thread's own submit. Both
        # may then claim the one free worker: the second task waits for it, and the count
        # (one below zero) comes right as the worker finishes each.
        self._lock = threading.RLock()
        self._free = 0  # workers waiting for a task that no submit has claimed

    def submit(self, task: Callable[[], None]) -> None:
        with self._lock:
            claimed = self._free > 0
            if claimed:
                self._free -= 1
        self._tasks.put(task)
        if claimed:
            return
        name = "mosaicstack-telemetry-request"
        try:
            threading.Thread(target=self._work, name=name, daemon=True).start()
        except RuntimeError:
            # No thread can be started: Python 3.12.0-3.12.1 refuse once the interpreter shuts
            # down (the exit flush), or a thread limit was reached. A request runs here,
            # within its budget: one at a time, but sent. (Ctrl-C meanwhile ends the flush as
            # it would while waiting for a worker's answer.)
            with contextlib.suppress(queue.Empty):
                self._tasks.get_nowait()()

    def _work(self) -> None:
        while (task := self._next()) is not None:
            _run(task)
            task = None  # an idle worker holds nothing of its last task (a loop, a job)
            with self._lock:
                self._free += 1

    def _next(self) -> Callable[[], None] | None:
        """The next task, or None once idle for `WORKER_IDLE_SECONDS`."""
        while True:
            try:
                return self._tasks.get(timeout=WORKER_IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._free > 0 and self._tasks.empty():
                        self._free -= 1
                        return None
                # else a submit claimed this worker and is about to hand it a task


async def on_worker(workers: Workers, work: Callable[[], Any]) -> Any:
    """`work()` on a worker thread, awaited: the event loop goes on meanwhile. Cancelling the
    wait leaves work already running to finish on its own. (`asyncio.wrap_future` carries
    the outcome to the loop, and drops it if the loop has closed meanwhile.)"""
    import asyncio
    from concurrent.futures import Future

    future: Future[Any] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():  # the wait was cancelled first
            return
        try:
            future.set_result(work())
        except BaseException as exc:  # handed to the waiter, whatever it is
            future.set_exception(exc)

    workers.submit(run)
    return await asyncio.wrap_future(future)


def _run(task: Callable[[], None]) -> None:
    with contextlib.suppress(BaseException):  # a task posts its own outcome
        task()
