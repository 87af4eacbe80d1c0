"""Events for the page's tests: realistic ones built with the SDK, and rows for a big store."""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from mosaicstack_telemetry import (
    Complexity,
    EventBuilder,
    Harness,
    Outcome,
    Provider,
    TaskCompletionEvent,
    TaskType,
)

KEY = secrets.token_hex(32)
INSTANCE = str(uuid.uuid4())

MODELS = [
    ("claude-sonnet-4-5-20250929", Provider.ANTHROPIC, Harness.CLAUDE_CODE, 3.0),
    ("claude-haiku-4-5-20251001", Provider.ANTHROPIC, Harness.CLAUDE_CODE, 1.0),
    ("gpt-5", Provider.OPENAI, Harness.AIDER, 2.5),
    ("gemini-2.5-pro", Provider.GOOGLE, Harness.OPENCODE, 2.0),
    ("qwen3-coder:30b", Provider.OLLAMA, Harness.OLLAMA_LOCAL, 0.0),
]
TASKS = [TaskType.IMPLEMENTATION, TaskType.DEBUGGING, TaskType.TESTING, TaskType.REFACTORING]
SCALE = {Complexity.LOW: 0.3, Complexity.MEDIUM: 1.0, Complexity.HIGH: 2.5, Complexity.CRITICAL: 5}


def task(rng: random.Random, instance_id: str = INSTANCE) -> TaskCompletionEvent:
    """One plausible AI coding task, built with the SDK's EventBuilder; most are Sonnet
    implementation work at medium complexity, so one combination has a real distribution."""
    if rng.random() < 0.5:
        kind, (model, provider, harness, price), level = (
            TaskType.IMPLEMENTATION,
            MODELS[0],
            Complexity.MEDIUM,
        )
    else:
        kind, (model, provider, harness, price) = rng.choice(TASKS), rng.choice(MODELS)
        level = rng.choice(list(Complexity))
    est_in = int(40_000 * SCALE[level] * rng.uniform(0.8, 1.2))
    act_in = int(est_in * rng.lognormvariate(0.05, 0.25))
    act_out = int(est_in * 0.35 * rng.lognormvariate(-0.05, 0.3))
    cost = int(act_in * price + act_out * price * 5)
    outcome = rng.choices(
        [Outcome.SUCCESS, Outcome.PARTIAL, Outcome.FAILURE, Outcome.TIMEOUT], [80, 10, 8, 2]
    )[0]
    return (
        EventBuilder(instance_id=instance_id)
        .task_type(kind)
        .model(model)
        .provider(provider)
        .harness_type(harness)
        .complexity_level(level)
        .outcome_value(outcome)
        .duration_ms(int(act_out * rng.uniform(8, 14)))
        .tokens(
            estimated_in=est_in,
            estimated_out=int(est_in * 0.35),
            actual_in=act_in,
            actual_out=act_out,
        )
        .cost(estimated=int(cost * rng.uniform(0.7, 1.1)), actual=cost)
        .quality(passed=outcome == Outcome.SUCCESS, gates_run=["build", "lint", "test"])
        .language(rng.choice(["python", "typescript", "go"]))
        .build()
    )


def stored_rows(n: int, seed: int = 7) -> list[tuple[str, dict[str, Any]]]:
    """`n` valid events as the store takes them ((event_id, event) pairs), made fast without
    the SDK: for filling a store with 10,000 events before the page is opened."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    rows = []
    for i in range(n):
        model, provider, harness, _ = rng.choice(MODELS)
        event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        tokens_in = rng.randint(1_000, 200_000)
        rows.append(
            (
                event_id,
                {
                    "instance_id": INSTANCE,
                    "event_id": event_id,
                    "timestamp": (start + timedelta(seconds=i * 37)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "task_duration_ms": rng.randint(1_000, 900_000),
                    "task_type": str(rng.choice(TASKS)),
                    "complexity": str(rng.choice(list(Complexity))),
                    "harness": str(harness),
                    "model": model,
                    "provider": str(provider),
                    "estimated_input_tokens": tokens_in,
                    "estimated_output_tokens": tokens_in // 3,
                    "actual_input_tokens": int(tokens_in * rng.uniform(0.8, 1.3)),
                    "actual_output_tokens": int(tokens_in * rng.uniform(0.2, 0.5)),
                    "estimated_cost_usd_micros": tokens_in * 3,
                    "actual_cost_usd_micros": int(tokens_in * rng.uniform(2, 4)),
                    "quality_gate_passed": rng.random() < 0.9,
                    "quality_gates_run": ["build", "test"],
                    "quality_gates_failed": [],
                    "context_compactions": 0,
                    "context_rotations": 0,
                    "context_utilization_final": 0.5,
                    "outcome": rng.choice(["success", "success", "success", "failure"]),
                    "retry_count": 0,
                    "language": "python",
                    "repo_size_category": "medium",
                },
            )
        )
    return rows
