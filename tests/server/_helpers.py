"""Shared by the server tests: a key, its instance and a valid event, written by hand."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

KEY = secrets.token_hex(32)
INSTANCE = str(uuid.uuid4())
AUTH = {"Authorization": f"Bearer {KEY}"}
JSON = {"Content-Type": "application/json"}
JSON_AUTH = {**AUTH, **JSON}


def make_event(**changes: Any) -> dict[str, Any]:
    """A valid TaskCompletionEvent for INSTANCE, written by hand (not through the SDK)."""
    event: dict[str, Any] = {
        "instance_id": INSTANCE,
        "event_id": str(uuid.uuid4()),
        "timestamp": "2026-11-24T12:00:00Z",
        "task_duration_ms": 1000,
        "task_type": "implementation",
        "complexity": "medium",
        "harness": "claude_code",
        "model": "claude-sonnet-4-5",
        "provider": "anthropic",
        "estimated_input_tokens": 1000,
        "estimated_output_tokens": 500,
        "actual_input_tokens": 1100,
        "actual_output_tokens": 450,
        "estimated_cost_usd_micros": 10_000,
        "actual_cost_usd_micros": 12_000,
        "quality_gate_passed": True,
        "quality_gates_run": ["build", "test"],
        "quality_gates_failed": [],
        "context_compactions": 0,
        "context_rotations": 0,
        "context_utilization_final": 0.4,
        "outcome": "success",
        "retry_count": 0,
        "language": "python",
        "repo_size_category": "medium",
    }
    event.update(changes)
    return event
