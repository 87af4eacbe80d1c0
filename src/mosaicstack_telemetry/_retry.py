"""The retry policy of decisions.md, as pure decisions: what to do after one attempt.

Sync and async senders share it, so they cannot drift apart. Tests shrink every wait through
`_scaled_time` (as stamina's testing mode does) instead of sleeping for real.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone

BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 60.0
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
NOT_RETRYABLE = frozenset({400, 401, 403, 422})

_time_scale = 1.0


@contextmanager
def _scaled_time(factor: float) -> Iterator[None]:
    """Private testing hook: multiply every retry wait by `factor` inside the block."""
    global _time_scale  # noqa: PLW0603  # a process-wide testing switch, by design
    previous, _time_scale = _time_scale, factor
    try:
        yield
    finally:
        _time_scale = previous


def scaled(seconds: float) -> float:
    return seconds * _time_scale


class Action(enum.Enum):
    DONE = "done"  # the server answered 2xx
    RETRY = "retry"  # wait, then try again
    SPLIT = "split"  # 413: send each half on its own
    DROP = "drop"  # retrying cannot succeed
    GIVE_UP = "give_up"  # retries exhausted: back to the queue for the next cycle


@dataclass(frozen=True)
class Step:
    action: Action
    reason: str
    wait: float = 0.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date), capped.

    A date in the past means 0; a malformed value means None (the caller backs off instead).
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), RETRY_AFTER_CAP) if len(value) < 10 else RETRY_AFTER_CAP
    from email.utils import parsedate_to_datetime  # issue 16: not at import (a few ms)

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # pragma: no cover  # older Pythons returned None instead of raising
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    delta = (when - (now or datetime.now(timezone.utc))).total_seconds()
    return min(max(delta, 0.0), RETRY_AFTER_CAP)


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** min(attempt, 32))
    return (rng or random).uniform(0.0, ceiling)  # jitter, not cryptography


def decide(
    status: int | None,
    retry_after: str | None,
    attempt: int,
    max_retries: int,
    batch_size: int,
    rng: random.Random | None = None,
) -> Step:
    """What to do after attempt number `attempt` (0-based) answered `status`.

    `status` None means no answer: a timeout or a connection error.
    """
    if status is not None and 200 <= status < 300:
        return Step(Action.DONE, f"http_{status}")
    if status == 413:
        if batch_size > 1:
            return Step(Action.SPLIT, "http_413")
        return Step(Action.DROP, "http_413")
    reason = "network" if status is None else f"http_{status}"
    # Any other 5xx (e.g. a proxy's 520) is a server-side, transient failure too.
    transient = status is None or status in RETRYABLE or status >= 500
    if not transient:
        return Step(Action.DROP, reason)
    if attempt >= max_retries:
        return Step(Action.GIVE_UP, reason)
    wait = parse_retry_after(retry_after)
    if wait is None:
        wait = backoff(attempt, rng)
    return Step(Action.RETRY, reason, wait)


def monotonic() -> float:
    return time.monotonic()
