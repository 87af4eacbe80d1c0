"""`EventBuilder`'s defaults, as event fields. A module of its own, with no pydantic, so that
`EventSpool` fills the same defaults without loading the models."""

from __future__ import annotations

from mosaicstack_telemetry._enums import Complexity, Harness, Outcome, Provider, TaskType

#: Every field `build()` passes, with its default, and what a missing field takes in
#: `EventSpool.add`. Not `event_id` / `timestamp`: they are fresh per event. Never mutated.
BUILDER_DEFAULTS: dict[str, object] = {
    "instance_id": None,
    "task_duration_ms": 0,
    "task_type": TaskType.UNKNOWN,
    "complexity": Complexity.MEDIUM,
    "harness": Harness.UNKNOWN,
    "model": "unknown",
    "provider": Provider.UNKNOWN,
    "estimated_input_tokens": 0,
    "estimated_output_tokens": 0,
    "actual_input_tokens": 0,
    "actual_output_tokens": 0,
    "estimated_cost_usd_micros": 0,
    "actual_cost_usd_micros": 0,
    "quality_gate_passed": False,
    "quality_gates_run": [],  # never mutated: quality() replaces it, pydantic copies it
    "quality_gates_failed": [],
    "context_compactions": 0,
    "context_rotations": 0,
    "context_utilization_final": 0.0,
    "outcome": Outcome.FAILURE,
    "retry_count": 0,
    "language": None,
    "repo_size_category": None,
}
