"""The cold paths of `track()`: every way an event can be refused on its way into the queue.

Each is counted in `stats().dropped` under its reason and logged (rate-limited), so nothing is
lost silently; none of them raises. `track()` itself keeps only the hot path.
"""

from __future__ import annotations

from typing import Any

from mosaicstack_telemetry._config import BeforeSend
from mosaicstack_telemetry._counters import Stats
from mosaicstack_telemetry._log import ERROR, WARNING, RateLimitedLog
from mosaicstack_telemetry._models import TaskCompletionEvent


class Intake:
    """Counts and logs what `track()` refuses."""

    def __init__(self, stats: Stats, log: RateLimitedLog) -> None:
        self._stats, self._log = stats, log

    def invalid_config(self) -> None:
        self._stats.drop("invalid_config")
        self._log.log(
            WARNING,
            "track-invalid-config",
            "Event dropped: the telemetry config is invalid (see the earlier warnings)",
        )

    def invalid_event(self, event: object) -> None:
        self._stats.drop("invalid_event")
        self._log.log(
            ERROR,
            "track-invalid-event",
            "Event dropped: track() takes a TaskCompletionEvent, not %s",
            type(event).__name__,
        )

    def before_send(self, hook: BeforeSend, event: TaskCompletionEvent) -> Any:
        """The user's hook: its result, or None when it dropped the event or failed."""
        try:
            result = hook(event)
        except Exception:
            self._stats.drop("before_send_error")
            self._log.log(
                ERROR,
                "before-send",
                "Event dropped: before_send raised an exception",
                exc_info=True,
            )
            return None
        if result is None:
            self._stats.drop("before_send")
            return None
        if not isinstance(result, TaskCompletionEvent):
            self._stats.drop("before_send_error")
            self._log.log(
                ERROR,
                "before-send-result",
                "Event dropped: before_send returned a %s; it must return the event (changed or "
                "not, e.g. event.model_copy(update=...)) or None to drop it",
                type(result).__name__,
            )
            return None
        return result

    def evicted(self, max_size: int) -> None:
        self._log.log(
            WARNING,
            "queue-full",
            "Telemetry queue full (%d events): evicted the oldest event",
            max_size,
        )

    def failed(self) -> None:
        """An unexpected error inside track(): the event is dropped, counted, logged."""
        try:
            self._stats.drop("internal_error")
            self._log.log(
                ERROR,
                "track-error",
                "Event dropped by an unexpected error in track()",
                exc_info=True,
            )
        except Exception:  # noqa: S110  # track() must never raise, even here
            pass
