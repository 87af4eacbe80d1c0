"""`mosaic-telemetry flush`: deliver everything the spool holds, and say what happened.

It is a `TelemetryClient.flush()` with the spool as its queue. Progress goes to stderr: a bar
on a terminal, or anywhere once the spool holds `PROGRESS_THRESHOLD` events; when stderr is not
a terminal (cron, a hook, CI) every HTTP attempt is printed too, so a slow or failing flush is
never silent.
"""

from __future__ import annotations

import argparse
import os
import sys

from mosaicstack_telemetry.cli import _settings
from mosaicstack_telemetry.cli._output import (
    ensure_logging,
    err,
    out,
    reason,
    seconds,
    show_attempts,
    spool_remedy,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see _output)
if TYPE_CHECKING:
    from typing import Any, TextIO

    from mosaicstack_telemetry import FlushResult

#: `flush` shows progress on a terminal, or anywhere once the spool holds this many events.
PROGRESS_THRESHOLD = 500


class Progress:
    """A text progress bar on stderr: redrawn in place on a terminal, every 10% elsewhere."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.tty = stream.isatty()
        self._last_step = -1

    def show(self, done: int) -> None:
        done = min(max(done, 0), self.total)
        fraction = done / self.total if self.total else 1.0
        if self.tty:
            bar = "#" * int(fraction * 30)
            self.stream.write(f"\r[{bar:<30}] {done}/{self.total} ({fraction:4.0%})")
        else:
            step = int(fraction * 10)
            if step == self._last_step:
                return
            self._last_step = step
            self.stream.write(f"flush: {done}/{self.total} ({fraction:.0%})\n")
        self.stream.flush()

    def end(self, done: int) -> None:
        self.show(done)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    eff = _settings.required(args)
    if _settings.disabled(eff):
        return 0
    path = eff.config.spool_path
    try:
        held = count(path, str(eff.config.instance_id))
    except Exception as exc:
        if not os.path.exists(os.path.expanduser(path)):  # no file, and none can be made
            summarize(args, 0, None)
            return 0
        # Not a spool, or unreadable: a client would fall back to an empty memory queue and
        # report "remaining 0". Nothing is sent, and what the file holds is unknown.
        summarize(args, None, f"cannot read the spool {path}: {reason(exc)}")
        todo = spool_remedy(reason(exc), path, otherwise="repair the file or move it aside")
        err(f"mosaic-telemetry: nothing was sent; {todo}, then flush")
        return 1
    if held == 0:  # nothing to send: no client, no network
        summarize(args, 0, None)
        return 0
    return deliver(args, eff)


def count(path: str, instance: str) -> int:
    """How many events of `instance` the spool file holds that this process may send (not
    another instance's, nor those another process is sending), read afresh; raises when it
    cannot be read."""
    from mosaicstack_telemetry import EventSpool

    with EventSpool(path) as spool:
        return spool.count(instance)


def left_after(
    result: FlushResult, total: int, path: str, last_error: str | None, instance: str
) -> tuple[int | None, str]:
    """What remains after a flush, and why. The file is counted again: a client that cannot
    use the spool (a read-only file) carries on in memory, where none of its events are, and
    its `remaining` would say 0."""
    try:
        held = count(path, instance)
    except Exception as exc:
        return None, f"cannot read the spool {path}: {reason(exc)}"
    done = result.sent + result.rejected + result.dropped + result.duplicate
    if held > result.remaining and done + result.remaining < total:  # the client lost them
        why = last_error or "see the error above"
        return held, (
            f"the spool {path} could not be used ({why}), so none of them was sent; "
            f"{spool_remedy(why, path)}, then flush again"
        )
    return max(held, result.remaining), last_error or "deadline"


def summarize(
    args: argparse.Namespace,
    remaining: int | None,
    last_error: str | None,
    *,
    sent: int = 0,
    duplicate: int = 0,
    rejected: int = 0,
    dropped: int = 0,
) -> None:
    """The summary line (or JSON object) on stdout; what remains, and why, on stderr.

    `remaining` is None when the spool cannot be read: unknown, never reported as 0. The
    events the server already had (`duplicate`: an earlier flush delivered them, its answer
    lost) are counted apart, so every event that left the spool is in the line.
    """
    if args.json:
        import json  # only here: an empty flush without --json does without it

        summary: dict[str, Any] = {
            "sent": sent,
            "duplicate": duplicate,
            "rejected": rejected,
            "dropped": dropped,
            "remaining": remaining,
            "last_error": last_error if remaining != 0 else None,
        }
        out(json.dumps(summary))
        return
    left = "unknown" if remaining is None else remaining
    out(
        f"sent {sent}, duplicate {duplicate}, rejected {rejected}, dropped {dropped}, "
        f"remaining {left}"
    )
    if remaining is None:
        err(f"mosaic-telemetry: what remains is unknown: {last_error}")
    elif remaining:
        err(f"mosaic-telemetry: {remaining} events remain ({last_error})")


def deliver(args: argparse.Namespace, eff: _settings.Effective) -> int:
    """The spool's events through a client, with progress and every attempt shown."""
    from mosaicstack_telemetry import FlushResult, TelemetryClient

    ensure_logging()
    client = TelemetryClient(eff.config)
    total = client.stats().spooled
    show = args.progress
    if show is None:
        show = sys.stderr.isatty() or total >= PROGRESS_THRESHOLD
    show_attempts()
    import threading

    results: list[FlushResult] = []
    worker = threading.Thread(
        target=lambda: results.append(client.flush(timeout=args.timeout)), daemon=True
    )
    worker.start()
    progress = Progress(total, sys.stderr) if show and total else None
    try:
        while worker.is_alive():
            worker.join(0.1)
            if progress is not None:
                progress.show(total - client.stats().spooled)
        stats = client.stats()
        result = results[0] if results else FlushResult(0, 0, 0, stats.queued + stats.spooled)
        if progress is not None:
            progress.end(total - result.remaining)
    finally:
        client.close()
    remaining, why = left_after(
        result, total, eff.config.spool_path, stats.last_error, str(eff.config.instance_id)
    )
    summarize(
        args,
        remaining,
        why,
        sent=result.sent,
        duplicate=result.duplicate,
        rejected=result.rejected,
        dropped=result.dropped,
    )
    return 0 if remaining == 0 else 1


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    flush = sub.add_parser(
        "flush",
        parents=[common],
        help="deliver everything the spool holds",
        description="Deliver the spool; prints sent / duplicate / rejected / dropped / "
        "remaining. "
        "Exit 1 if events remain. When stderr is not a terminal, each HTTP attempt is "
        "printed on it.",
    )
    flush.add_argument("--timeout", type=seconds, default=120.0, metavar="S", help="deadline (120)")
    flush.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=f"progress on stderr (default: on a terminal or from {PROGRESS_THRESHOLD} events)",
    )
    flush.add_argument("--json", action="store_true", help="the summary as JSON")
    flush.set_defaults(func=run)
