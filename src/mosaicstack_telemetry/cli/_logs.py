"""The CLI's logging: the SDK's messages on stderr, one line each, scrubbed of the key."""

from __future__ import annotations

import logging
import sys

from mosaicstack_telemetry.cli._output import SDK_LOGGER, scrub

_handlers: list[logging.Handler] = []


class _Scrub(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = ()
        return True


class _Formatter(logging.Formatter):
    """One line per SDK message; tracebacks only with -vv; scrubbed as a whole, tracebacks too."""

    def __init__(self, tracebacks: bool) -> None:
        super().__init__("mosaic-telemetry: %(levelname)s: %(message)s")
        self._tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not self._tracebacks:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None})
        return scrub(super().format(record))


class _Attempts(logging.Filter):
    """Only the sender's one line per HTTP attempt ("POST <url>: N items, HTTP 503 in ...")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno == logging.DEBUG and record.getMessage().startswith(("POST ", "GET "))


def _add(handler: logging.Handler) -> None:
    handler.addFilter(_Scrub())
    logging.getLogger(SDK_LOGGER).addHandler(handler)
    _handlers.append(handler)


def setup(verbose: int) -> None:
    """The SDK's warnings (why a batch failed) on stderr; -v for INFO, -vv for DEBUG."""
    log = logging.getLogger(SDK_LOGGER)
    while _handlers:  # main() may run again in-process (tests): one set of handlers
        log.removeHandler(_handlers.pop())
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(_Formatter(tracebacks=verbose > 1))
    _add(handler)
    log.setLevel(level)


def show_attempts() -> None:
    """Print each HTTP attempt as the sender logs it, when stderr is not a terminal.

    A `flush` from cron or a hook is otherwise silent while it retries; on a terminal the
    progress bar says enough. With -vv the attempts are already shown with the rest.
    """
    log = logging.getLogger(SDK_LOGGER)
    if sys.stderr.isatty() or log.level == logging.DEBUG:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG)
    handler.addFilter(_Attempts())
    handler.setFormatter(logging.Formatter("mosaic-telemetry: %(message)s"))
    _add(handler)
    log.setLevel(logging.DEBUG)
