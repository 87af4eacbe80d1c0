"""posthog-python, the peer: optional (the `bench` extra); every use goes through here."""

from __future__ import annotations

import importlib.util
from typing import Any

HAVE_POSTHOG = importlib.util.find_spec("posthog") is not None
PEER = "posthog-python"


def posthog_version() -> str:
    if not HAVE_POSTHOG:
        return "not installed"
    from posthog.version import VERSION

    return str(VERSION)


def enqueue_only_client(max_queue_size: int) -> Any:
    """A posthog client whose `capture()` validates and really enqueues, but never sends.

    `send=False` would skip the queue altogether (capture returns as if queued), so instead
    `send=True` with zero consumer threads: events go into the lane's queue and stay there.
    """
    from posthog.client import Client

    client = Client(
        "phc_benchmark",
        host="http://127.0.0.1:9",
        send=True,
        thread=0,
        max_queue_size=max_queue_size,
        flush_at=100,
        flush_interval=3600.0,
    )
    probe = queued(client)
    client.capture("probe", distinct_id="probe", properties={"x": 1})
    if queued(client) != probe + 1:
        raise RuntimeError("posthog capture() did not enqueue: the comparison would be unfair")
    clear(client)
    return client


def sending_client(host: str, flush_at: int = 100, max_queue_size: int = 100_000) -> Any:
    """A posthog client with one consumer thread sending to `host` (loopback only)."""
    from posthog.client import Client

    assert host.startswith("http://127.0.0.1:"), host
    return Client(
        "phc_benchmark",
        host=host,
        send=True,
        thread=1,
        max_queue_size=max_queue_size,
        flush_at=flush_at,
        flush_interval=0.5,
        max_retries=0,
    )


def queued(client: Any) -> int:
    return int(client._analytics_lane.queue.qsize())


def clear(client: Any) -> None:
    """Empty the lane's queue (no consumer runs, so nothing else touches it)."""
    queue = client._analytics_lane.queue
    with queue.mutex:
        queue.queue.clear()
        queue.unfinished_tasks = 0
        queue.not_full.notify_all()


def properties() -> dict[str, Any]:
    """The guide event's fields as posthog properties, written as a literal each call (as the
    builder chain writes its values each call)."""
    return {
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
    }
