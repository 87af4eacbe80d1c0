"""`EventBuilder`: a fluent way to build a `TaskCompletionEvent` with sensible defaults."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from mosaicstack_telemetry._defaults import BUILDER_DEFAULTS as _DEFAULTS
from mosaicstack_telemetry._enums import (
    Complexity,
    Harness,
    Outcome,
    Provider,
    QualityGate,
    RepoSizeCategory,
    TaskType,
)
from mosaicstack_telemetry._models import TaskCompletionEvent


def _first_validate(data: dict[str, Any]) -> TaskCompletionEvent:
    """The event's validator, bound on the first `build()`: the model is built then
    (`defer_build`), not when the builder is imported."""
    global _validate  # noqa: PLW0603  # once, on the first build()
    TaskCompletionEvent.model_rebuild()  # builds the deferred model; a no-op once built
    # The model's own validator, without `model_validate`'s keyword handling around it (a tenth
    # of a build): the same validation, the same errors.
    _validate = TaskCompletionEvent.__pydantic_validator__.validate_python
    event: TaskCompletionEvent = _validate(data)
    return event


_validate: Callable[[dict[str, Any]], TaskCompletionEvent] = _first_validate


class EventBuilder:
    """Chainable setters for every event field; `build()` may be called again and again.

    Each `build()` without an explicit `event_id` / `timestamp` gets a fresh UUIDv4 and the
    current time, so one builder can serve as a template for many events.

    The values live in one dict keyed by the model's field names: creating a builder is one
    dict copy and `build()` hands the dict straight to the model's validator (see
    benchmarks/results.md for how it compares with `TaskCompletionEvent.model_validate`).
    """

    __slots__ = ("_data", "_prices")

    def __init__(self, instance_id: str | UUID) -> None:
        self._data = data = _DEFAULTS.copy()
        data["instance_id"] = instance_id
        self._prices: tuple[int, int] | None = None

    def event_id(self, value: str | UUID) -> EventBuilder:
        if value is None:  # taken back: each build() makes a fresh one again
            self._data.pop("event_id", None)
        else:
            self._data["event_id"] = value
        return self

    def timestamp(self, value: datetime) -> EventBuilder:
        if value is None:  # taken back: each build() makes a fresh one again
            self._data.pop("timestamp", None)
        else:
            self._data["timestamp"] = value
        return self

    def task_type(self, value: TaskType) -> EventBuilder:
        self._data["task_type"] = value
        return self

    def complexity_level(self, value: Complexity) -> EventBuilder:
        self._data["complexity"] = value
        return self

    def harness_type(self, value: Harness) -> EventBuilder:
        self._data["harness"] = value
        return self

    def model(self, value: str) -> EventBuilder:
        self._data["model"] = value
        return self

    def provider(self, value: Provider) -> EventBuilder:
        self._data["provider"] = value
        return self

    def duration_ms(self, value: int) -> EventBuilder:
        self._data["task_duration_ms"] = value
        return self

    def outcome_value(self, value: Outcome) -> EventBuilder:
        self._data["outcome"] = value
        return self

    def retry_count(self, value: int) -> EventBuilder:
        self._data["retry_count"] = value
        return self

    def language(self, value: str | None) -> EventBuilder:
        self._data["language"] = value
        return self

    def repo_size(self, value: RepoSizeCategory | None) -> EventBuilder:
        self._data["repo_size_category"] = value
        return self

    def tokens(
        self,
        *,
        estimated_in: int = 0,
        estimated_out: int = 0,
        actual_in: int = 0,
        actual_out: int = 0,
    ) -> EventBuilder:
        data = self._data
        data["estimated_input_tokens"] = estimated_in
        data["estimated_output_tokens"] = estimated_out
        data["actual_input_tokens"] = actual_in
        data["actual_output_tokens"] = actual_out
        return self

    def cost(self, *, estimated: int = 0, actual: int = 0) -> EventBuilder:
        """Estimated and actual cost in microdollars (1 USD = 1,000,000)."""
        data = self._data
        data["estimated_cost_usd_micros"] = estimated
        data["actual_cost_usd_micros"] = actual
        return self

    def cost_from_prices(
        self, *, cache_read_tokens: int = 0, cache_write_tokens: int = 0
    ) -> EventBuilder:
        """Opt in: `build()` fills `actual_cost_usd_micros` from the model, the provider and
        the actual token counts when no actual cost was set (it is 0).

        Uses genai-prices (`pip install 'mosaicstack-telemetry[prices]'`). `cache_read_tokens`
        and `cache_write_tokens` are the parts of `actual_in` that were cache reads and writes,
        priced at their own rates. An unknown model keeps the cost at 0 (said at DEBUG); without
        genai-prices the cost stays 0 and a warning is logged once. `build()` never fails
        because of a price.
        """
        self._prices = (cache_read_tokens, cache_write_tokens)
        return self

    def quality(
        self,
        *,
        passed: bool,
        gates_run: Iterable[QualityGate] | None = None,
        gates_failed: Iterable[QualityGate] | None = None,
    ) -> EventBuilder:
        # Snapshots: a caller reusing its list must not change events built later. (pydantic
        # builds each event a new list, so events never share one either.)
        data = self._data
        data["quality_gate_passed"] = passed
        data["quality_gates_run"] = list(gates_run or ())
        data["quality_gates_failed"] = list(gates_failed or ())
        return self

    def context(
        self, *, compactions: int = 0, rotations: int = 0, utilization: float = 0.0
    ) -> EventBuilder:
        data = self._data
        data["context_compactions"] = compactions
        data["context_rotations"] = rotations
        data["context_utilization_final"] = utilization
        return self

    def build(self) -> TaskCompletionEvent:
        """Validate and return a new event; raises pydantic's `ValidationError` on bad values."""
        # Without an `event_id` / `timestamp` the model's default factories make them, as for
        # `model_validate`: a fresh id and the time are not validated again. The validator only
        # reads the dict (and builds each event its own lists): no copy, unless a price is added.
        data = self._data
        if self._prices is not None and data["actual_cost_usd_micros"] == 0:
            data = {**data, "actual_cost_usd_micros": _priced(data, *self._prices)}
        return _validate(data)


_missing_prices_warned = False


def _priced(data: dict[str, Any], cache_read: int, cache_write: int) -> int:
    """The price of an event's actual tokens in microdollars; 0 when it cannot be known."""
    global _missing_prices_warned  # noqa: PLW0603  # one warning per process
    from mosaicstack_telemetry import _prices
    from mosaicstack_telemetry._log import logger

    try:
        cost = _prices.cost_usd_micros(
            data["model"],
            data["provider"],
            data["actual_input_tokens"],
            data["actual_output_tokens"],
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
        )
    except ImportError:
        if not _missing_prices_warned:
            _missing_prices_warned = True
            logger.warning(
                "EventBuilder.cost_from_prices() needs genai-prices (%s): costs stay 0",
                _prices.INSTALL_HINT,
            )
        return 0
    if cost is None:
        return 0
    limit = _cost_limit()
    if cost > limit:
        logger.warning(
            "EventBuilder.cost_from_prices(): the price of %s's %d + %d tokens, %d microdollars, "
            "is above the most an event may carry (%d, the contract's bound); the event is "
            "built with a cost of 0",
            data["model"],
            data["actual_input_tokens"],
            data["actual_output_tokens"],
            cost,
            limit,
        )
        return 0
    return cost


def _cost_limit() -> int:
    """The contract's maximum for `actual_cost_usd_micros`, from the model's own field."""
    metadata = TaskCompletionEvent.model_fields["actual_cost_usd_micros"].metadata
    return min(int(getattr(m, "le", 1 << 62)) for m in metadata)
