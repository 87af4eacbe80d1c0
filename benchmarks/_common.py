"""What every benchmark shares: the scale, the result row, the guide's event, a timer."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mosaicstack_telemetry import (
    Complexity,
    EventBuilder,
    Harness,
    Outcome,
    Provider,
    QualityGate,
    TaskCompletionEvent,
    TaskType,
    TelemetryConfig,
)

API_KEY = "ab" * 32
INSTANCE_ID = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
GATES = [QualityGate.BUILD, QualityGate.LINT, QualityGate.TEST, QualityGate.TYPECHECK]


@dataclass(frozen=True)
class Scale:
    """How big a run is: `full` for the table, `quick` for a look, `smoke` for the tests."""

    name: str
    factor: float  # multiplies every operation count
    repeat: int  # timed repetitions per figure (the median is reported)
    idle_seconds: float
    import_runs: int
    e2e_events: int

    def n(self, full: int, minimum: int = 1) -> int:
        return max(int(full * self.factor), minimum)


FULL = Scale("full", 1.0, 15, 10.0, 15, 20_000)
QUICK = Scale("quick", 0.2, 7, 2.0, 5, 3_000)
SMOKE = Scale("smoke", 0.002, 2, 0.05, 1, 200)


@dataclass
class Result:
    """One row of the table: our figure, the baseline's in the same run, and the target."""

    key: str
    name: str
    ours: float
    baseline: float | None
    unit: str
    baseline_name: str
    target: str
    holds: bool | None  # None: no target, or the baseline could not be measured
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.ours / self.baseline


def build_event(instance_id: str = INSTANCE_ID) -> TaskCompletionEvent:
    """The integration guide's full `EventBuilder` chain, then `build()`."""
    return (
        EventBuilder(instance_id=instance_id)
        .task_type(TaskType.IMPLEMENTATION)
        .model("claude-sonnet-4-5-20250929")
        .provider(Provider.ANTHROPIC)
        .harness_type(Harness.CLAUDE_CODE)
        .complexity_level(Complexity.MEDIUM)
        .outcome_value(Outcome.SUCCESS)
        .duration_ms(45000)
        .tokens(estimated_in=105000, estimated_out=45000, actual_in=112340, actual_out=38760)
        .cost(estimated=630000, actual=919200)
        .quality(passed=True, gates_run=GATES)
        .context(compactions=2, rotations=0, utilization=0.72)
        .language("typescript")
        .build()
    )


def event_dict() -> dict[str, Any]:
    """The same fields as `build_event()` as a plain dict (no event_id/timestamp: the model
    defaults them, as the builder does)."""
    return {
        "instance_id": INSTANCE_ID,
        "task_type": "implementation",
        "model": "claude-sonnet-4-5-20250929",
        "provider": "anthropic",
        "harness": "claude_code",
        "complexity": "medium",
        "outcome": "success",
        "task_duration_ms": 45000,
        "estimated_input_tokens": 105000,
        "estimated_output_tokens": 45000,
        "actual_input_tokens": 112340,
        "actual_output_tokens": 38760,
        "estimated_cost_usd_micros": 630000,
        "actual_cost_usd_micros": 919200,
        "quality_gate_passed": True,
        "quality_gates_run": ["build", "lint", "test", "typecheck"],
        "quality_gates_failed": [],
        "context_compactions": 2,
        "context_rotations": 0,
        "context_utilization_final": 0.72,
        "retry_count": 0,
        "language": "typescript",
        "repo_size_category": None,
    }


def config(**overrides: Any) -> TelemetryConfig:
    """A valid config pointing at 127.0.0.1 (nothing listens on port 9 unless overridden)."""
    values: dict[str, Any] = {
        "server_url": "http://127.0.0.1:9",
        "api_key": API_KEY,
        "instance_id": INSTANCE_ID,
        "enabled": True,
    }
    values.update(overrides)
    return TelemetryConfig(**values)


def time_loop(fn: Callable[[], object], number: int) -> float:
    """Seconds per call of `fn`, over `number` calls, with the GC off (as timeit does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - start) / number
    finally:
        if enabled:
            gc.enable()


def compare(
    ours: Callable[[], object],
    baseline: Callable[[], object],
    number: int,
    repeat: int,
    reset: Callable[[], None] | None = None,
) -> tuple[float, float]:
    """Median seconds per call of each, interleaved rep by rep after a warm-up of each, so
    drift on a shared machine (other processes, frequency changes) hits both alike."""
    for fn in (ours, baseline):  # warm-up: caches, lazy imports, specialisation
        if reset is not None:
            reset()
        time_loop(fn, max(number // 10, 1))
    ours_times: list[float] = []
    base_times: list[float] = []
    for _ in range(repeat):
        for fn, out in ((ours, ours_times), (baseline, base_times)):
            if reset is not None:
                reset()
            out.append(time_loop(fn, number))
    return statistics.median(ours_times), statistics.median(base_times)
