# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.

from typing import Annotated
from uuid import UUID

from mosaicstack_telemetry._enums import (
    Complexity,
    EventStatus,
    Harness,
    Outcome,
    Provider,
    QualityGate,
    RejectionCode,
    RepoSizeCategory,
    TaskType,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class TaskCompletionEvent(BaseModel):
    """
    One completed AI coding task (event schema version 1.0). An optional field left out takes
    its `default`; clients leave out optional fields at their default, except those marked
    `x-always-send`.

    """

    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
    )
    instance_id: Annotated[
        UUID,
        Field(
            description="Mosaic Stack installation identifier; must be the instance bound to the API key."
        ),
    ]
    event_id: Annotated[
        UUID | None,
        Field(
            description="Unique event identifier (UUIDv4); the server assigns one when it is absent. Used to de-duplicate re-sent events."
        ),
    ] = None
    schema_version: Annotated[
        str,
        Field(
            description="Event schema version. Always sent, so a server whose default moves on still reads the event as the version it was written in.",
            json_schema_extra={"x-always-send": True},
        ),
    ] = "1.0"
    timestamp: Annotated[
        AwareDatetime | None,
        Field(
            description="When the task completed (RFC 3339 with a UTC offset); the server uses the time of receipt when it is absent."
        ),
    ] = None
    task_duration_ms: Annotated[
        int,
        Field(description="Task wall-clock time in milliseconds.", ge=0, le=86400000),
    ]
    task_type: TaskType
    complexity: Complexity
    harness: Harness
    model: Annotated[
        str, Field(description="Model identifier.", max_length=100, min_length=1)
    ]
    provider: Provider
    estimated_input_tokens: Annotated[
        int, Field(description="Pre-task input token estimate.", ge=0, le=10000000)
    ]
    estimated_output_tokens: Annotated[
        int, Field(description="Pre-task output token estimate.", ge=0, le=10000000)
    ]
    actual_input_tokens: Annotated[
        int, Field(description="Actual input tokens consumed.", ge=0, le=10000000)
    ]
    actual_output_tokens: Annotated[
        int, Field(description="Actual output tokens generated.", ge=0, le=10000000)
    ]
    estimated_cost_usd_micros: Annotated[
        int,
        Field(
            description="Estimated cost in microdollars (1 USD = 1,000,000).",
            ge=0,
            le=100000000,
        ),
    ]
    actual_cost_usd_micros: Annotated[
        int,
        Field(
            description="Actual cost in microdollars (1 USD = 1,000,000).",
            ge=0,
            le=100000000,
        ),
    ]
    quality_gate_passed: Annotated[
        bool, Field(description="Whether all quality gates passed.")
    ]
    quality_gates_run: Annotated[
        list[QualityGate], Field(description="Gates executed.")
    ] = []
    quality_gates_failed: Annotated[
        list[QualityGate], Field(description="Gates that failed.")
    ] = []
    context_compactions: Annotated[
        int,
        Field(description="Context compaction events during the task.", ge=0, le=100),
    ]
    context_rotations: Annotated[
        int, Field(description="Agent session rotations during the task.", ge=0, le=50)
    ]
    context_utilization_final: Annotated[
        float, Field(description="Final context usage ratio.", ge=0.0, le=1.0)
    ]
    outcome: Outcome
    retry_count: Annotated[
        int, Field(description="Retries before the final outcome.", ge=0, le=20)
    ]
    language: Annotated[
        str | None, Field(description="Primary programming language.", max_length=30)
    ] = None
    repo_size_category: Annotated[
        RepoSizeCategory | None, Field(description="Repository size bucket.")
    ] = None


class BatchEventRequest(BaseModel):
    """
    Request body of `POST /v1/events/batch`.
    """

    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
    )
    events: Annotated[
        list[TaskCompletionEvent],
        Field(description="Events to submit.", max_length=100, min_length=1),
    ]


class BatchEventResult(BaseModel):
    """
    The server's verdict on one event of a batch.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    index: Annotated[
        int | None,
        Field(
            description="The event's position in the request (0-based). Absent only from servers older than 1.1.",
            ge=0,
        ),
    ] = None
    event_id: Annotated[
        UUID,
        Field(
            description="The event's identifier (the nil UUID when the event carried no readable one; `index` then says which it was)."
        ),
    ]
    status: EventStatus
    code: Annotated[
        RejectionCode | None,
        Field(
            description="Why the event was rejected, for machines; null unless `status` is `rejected`."
        ),
    ] = None
    error: Annotated[
        str | None,
        Field(
            description="Why the event was rejected, for people (at most 500 characters); null unless `status` is `rejected`."
        ),
    ] = None


class BatchEventResponse(BaseModel):
    """
    Response of `POST /v1/events/batch`.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    accepted: Annotated[
        int, Field(description="Count of events stored by this request.", ge=0)
    ]
    rejected: Annotated[int, Field(description="Count of rejected events.", ge=0)]
    duplicate: Annotated[
        int,
        Field(
            description="Count of events this instance had already stored (re-sends). Absent only from servers older than 1.1.",
            ge=0,
        ),
    ] = 0
    results: Annotated[
        list[BatchEventResult],
        Field(description="One result per event, in request order."),
    ]
