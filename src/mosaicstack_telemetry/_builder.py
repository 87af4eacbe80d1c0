"""`EventBuilder`: a fluent way to build a `TaskCompletionEvent` with sensible defaults."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID, uuid4

from mosaicstack_telemetry._enums import (
    Complexity,
    Harness,
    Outcome,
    Provider,
    QualityGate,
    RepoSizeCategory,
    TaskType,
)
from mosaicstack_telemetry._models import TaskCompletionEvent, _utc_now


class EventBuilder:
    """Chainable setters for every event field; `build()` may be called again and again.

    Each `build()` without an explicit `event_id` / `timestamp` gets a fresh UUIDv4 and the
    current time, so one builder can serve as a template for many events.
    """

    def __init__(self, instance_id: str | UUID) -> None:
        self._instance_id = instance_id
        self._event_id: str | UUID | None = None
        self._timestamp: datetime | None = None
        self._task_type: TaskType = TaskType.UNKNOWN
        self._complexity: Complexity = Complexity.MEDIUM
        self._harness: Harness = Harness.UNKNOWN
        self._model = "unknown"
        self._provider: Provider = Provider.UNKNOWN
        self._duration_ms = 0
        self._outcome: Outcome = Outcome.FAILURE
        self._retry_count = 0
        self._language: str | None = None
        self._repo_size: RepoSizeCategory | None = None
        self._estimated_in = self._estimated_out = self._actual_in = self._actual_out = 0
        self._cost_estimated = self._cost_actual = 0
        self._passed = False
        self._gates_run: list[QualityGate] = []
        self._gates_failed: list[QualityGate] = []
        self._compactions = 0
        self._rotations = 0
        self._utilization = 0.0

    def event_id(self, value: str | UUID) -> EventBuilder:
        self._event_id = value
        return self

    def timestamp(self, value: datetime) -> EventBuilder:
        self._timestamp = value
        return self

    def task_type(self, value: TaskType) -> EventBuilder:
        self._task_type = value
        return self

    def complexity_level(self, value: Complexity) -> EventBuilder:
        self._complexity = value
        return self

    def harness_type(self, value: Harness) -> EventBuilder:
        self._harness = value
        return self

    def model(self, value: str) -> EventBuilder:
        self._model = value
        return self

    def provider(self, value: Provider) -> EventBuilder:
        self._provider = value
        return self

    def duration_ms(self, value: int) -> EventBuilder:
        self._duration_ms = value
        return self

    def outcome_value(self, value: Outcome) -> EventBuilder:
        self._outcome = value
        return self

    def retry_count(self, value: int) -> EventBuilder:
        self._retry_count = value
        return self

    def language(self, value: str | None) -> EventBuilder:
        self._language = value
        return self

    def repo_size(self, value: RepoSizeCategory | None) -> EventBuilder:
        self._repo_size = value
        return self

    def tokens(
        self,
        *,
        estimated_in: int = 0,
        estimated_out: int = 0,
        actual_in: int = 0,
        actual_out: int = 0,
    ) -> EventBuilder:
        self._estimated_in, self._estimated_out = estimated_in, estimated_out
        self._actual_in, self._actual_out = actual_in, actual_out
        return self

    def cost(self, *, estimated: int = 0, actual: int = 0) -> EventBuilder:
        """Estimated and actual cost in microdollars (1 USD = 1,000,000)."""
        self._cost_estimated, self._cost_actual = estimated, actual
        return self

    def quality(
        self,
        *,
        passed: bool,
        gates_run: Iterable[QualityGate] | None = None,
        gates_failed: Iterable[QualityGate] | None = None,
    ) -> EventBuilder:
        # Copies: a caller reusing its list must not change events built earlier.
        self._passed = passed
        self._gates_run = list(gates_run or ())
        self._gates_failed = list(gates_failed or ())
        return self

    def context(
        self, *, compactions: int = 0, rotations: int = 0, utilization: float = 0.0
    ) -> EventBuilder:
        self._compactions, self._rotations, self._utilization = compactions, rotations, utilization
        return self

    def build(self) -> TaskCompletionEvent:
        """Validate and return a new event; raises pydantic's `ValidationError` on bad values."""
        return TaskCompletionEvent(
            instance_id=self._instance_id,  # type: ignore[arg-type]  # pydantic parses str
            event_id=self._event_id if self._event_id is not None else uuid4(),  # type: ignore[arg-type]
            timestamp=self._timestamp if self._timestamp is not None else _utc_now(),
            task_duration_ms=self._duration_ms,
            task_type=self._task_type,
            complexity=self._complexity,
            harness=self._harness,
            model=self._model,
            provider=self._provider,
            estimated_input_tokens=self._estimated_in,
            estimated_output_tokens=self._estimated_out,
            actual_input_tokens=self._actual_in,
            actual_output_tokens=self._actual_out,
            estimated_cost_usd_micros=self._cost_estimated,
            actual_cost_usd_micros=self._cost_actual,
            quality_gate_passed=self._passed,
            quality_gates_run=list(self._gates_run),
            quality_gates_failed=list(self._gates_failed),
            context_compactions=self._compactions,
            context_rotations=self._rotations,
            context_utilization_final=self._utilization,
            outcome=self._outcome,
            retry_count=self._retry_count,
            language=self._language,
            repo_size_category=self._repo_size,
        )
