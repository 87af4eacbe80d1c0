"""The SDK's logger and a rate limit for warnings that could otherwise flood a host's logs."""

from __future__ import annotations

import logging
import threading
import time

logger = logging.getLogger("mosaicstack_telemetry")
# A library adds no handler and sets no level: the host application decides what is shown.
logger.addHandler(logging.NullHandler())
_debug_handler: logging.Handler | None = None


def enable_debug() -> None:
    """`debug=True`: the SDK's own lines at DEBUG on stderr, whatever the host configured.

    One handler for the process however many clients ask; it does not propagate twice, so a
    host that also logs the SDK's records sees each line once.
    """
    global _debug_handler  # noqa: PLW0603  # one handler per process, by design
    if _debug_handler is not None:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    _debug_handler = handler
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


class RateLimitedLog:
    """Logs a message at most once per `interval` seconds per key, with how many were held back.

    Queue overflow or a dead server can repeat the same problem thousands of times a second;
    one line a minute, with a count, says the same without drowning the host's logs.
    """

    def __init__(self, interval: float = 60.0) -> None:
        self._interval = interval
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def log(self, level: int, key: str, msg: str, *args: object, exc_info: bool = False) -> None:
        now = time.monotonic()
        # Non-blocking: a caller interrupted by a signal handler that logs again must not
        # deadlock; the worst case is one message held back.
        if not self._lock.acquire(blocking=False):
            return
        try:
            if now < self._next.get(key, 0.0):
                self._held[key] = self._held.get(key, 0) + 1
                return
            self._next[key] = now + self._interval
            held = self._held.pop(key, 0)
        finally:
            self._lock.release()
        if held:
            logger.log(
                level, msg + " (%d similar messages suppressed)", *args, held, exc_info=exc_info
            )
        else:
            logger.log(level, msg, *args, exc_info=exc_info)
