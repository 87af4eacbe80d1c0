"""The SDK's logger, made on first use, and a rate limit for warnings that could otherwise
flood a host's logs.

`logging` (with `traceback` and `string`) is 2-4 ms of the import line and of making a
client, and a client that works logs nothing until it sends, when httpx loads `logging` anyway.
So `logger` stands in for `logging.getLogger("mosaicstack_telemetry")` and makes it on its
first use, and the levels callers pass to `RateLimitedLog` are plain numbers.
"""

from __future__ import annotations

import threading
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: type checkers take it
if TYPE_CHECKING:
    import logging

#: The levels of `logging` (part of its API since Python 2.3), for `RateLimitedLog.log`.
DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
NAME = "mosaicstack_telemetry"

_logger: logging.Logger | None = None
#: Who adds the NullHandler: the first to set its token here. `setdefault` is atomic, so
#: threads that log at once add one handler, and no lock is held that a fork could copy.
_made: dict[str, object] = {}
_debug_handler: logging.Handler | None = None


def get_logger() -> logging.Logger:
    """The SDK's logger, made on the first call with the `NullHandler` a library adds: the
    host application decides what is shown, and records do not reach Python's last resort."""
    global _logger  # noqa: PLW0603  # one logger per process, made once
    made = _logger
    if made is None:
        import logging

        made = logging.getLogger(NAME)
        token = object()
        if _made.setdefault(NAME, token) is token:
            made.addHandler(logging.NullHandler())
        _logger = made
    return made


class _Logger:
    """What `logger` is: each attribute read is the real logger's (`get_logger()`)."""

    __slots__ = ()

    def __getattr__(self, name: str) -> object:
        return getattr(get_logger(), name)

    def __repr__(self) -> str:
        return f"<the {NAME} logger, made on first use>"


if TYPE_CHECKING:
    logger: logging.Logger
else:
    logger = _Logger()


def enable_debug() -> None:
    """`debug=True`: the SDK's own lines at DEBUG on stderr, whatever the host configured.

    One handler for the process however many clients ask; it does not propagate twice, so a
    host that also logs the SDK's records sees each line once.
    """
    global _debug_handler  # noqa: PLW0603  # one handler per process, by design
    if _debug_handler is not None:
        return
    import logging

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    _debug_handler = handler
    real = get_logger()
    real.addHandler(handler)
    real.setLevel(logging.DEBUG)


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
