"""Seeded fault injection: the failures a real network and a loaded server produce.

A fraction `rate` of the requests to `paths` gets one of `kinds`, drawn from one seeded RNG
under a lock, so a run with a given seed injects the same sequence of faults (which request
gets which depends on arrival order when clients run concurrently).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

FAULT_KINDS = ("429", "500", "503", "drop", "delay")
V1_PATHS = ("/v1/events/batch", "/v1/predictions/batch")


@dataclass(frozen=True)
class FaultConfig:
    """What to inject.

    - `429`: Too Many Requests with `Retry-After: <retry_after>`; nothing is processed.
    - `500` / `503`: an error body; nothing is processed.
    - `drop`: the request is processed (events are stored), then the connection is reset
      without an answer: the client sees a connection error and must re-send, which is the
      hardest case for exactly-once storage.
    - `delay`: the request is read, then served after `delay_seconds`; a client that
      disconnects during the wait is not served (nothing is stored), as by a server that had
      not started on it yet.
    """

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int | None = None
    retry_after: str = "1"
    delay_seconds: float = 0.5
    paths: tuple[str, ...] = V1_PATHS

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, not {self.rate}")
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"fault kinds must be among {FAULT_KINDS}, not {self.kinds}")
        if self.delay_seconds < 0:
            raise ValueError("delay_seconds must not be negative")


class FaultInjector:
    """Draws the fault (or none) for each request."""

    def __init__(self, config: FaultConfig | None) -> None:
        self.config = config or FaultConfig()
        self._random = random.Random(self.config.seed)  # noqa: S311  # test faults, not crypto
        self._lock = threading.Lock()

    def draw(self, path: str) -> str | None:
        config = self.config
        if config.rate <= 0.0 or path not in config.paths:
            return None
        with self._lock:
            if self._random.random() >= config.rate:
                return None
            return self._random.choice(config.kinds)
