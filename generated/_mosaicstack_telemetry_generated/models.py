# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.

from typing import Annotated
from uuid import UUID

from mosaicstack_telemetry._enums import (
    Complexity,
    Confidence,
    EventStatus,
    Harness,
    MedianStats,
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


class PredictionQuery(BaseModel):
    """
    The dimensions to predict for.
    """

    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
    )
    task_type: TaskType
    model: Annotated[
        str,
        Field(
            description="Model identifier, compared exactly.",
            max_length=100,
            min_length=1,
        ),
    ]
    provider: Provider
    complexity: Complexity


class PredictionBatchRequest(BaseModel):
    """
    Request body of `POST /v1/predictions/batch`.
    """

    model_config = ConfigDict(
        defer_build=True,
        extra="forbid",
    )
    queries: Annotated[
        list[PredictionQuery],
        Field(description="Queries to answer.", max_length=50, min_length=1),
    ]


class TokenDistribution(BaseModel):
    """
    Percentiles of a token count.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    p10: Annotated[int, Field(description="10th percentile.", ge=0)]
    p25: Annotated[int, Field(description="25th percentile.", ge=0)]
    median: Annotated[int, Field(description="50th percentile (median).", ge=0)]
    p75: Annotated[int, Field(description="75th percentile.", ge=0)]
    p90: Annotated[int, Field(description="90th percentile.", ge=0)]


class CorrectionFactors(BaseModel):
    """
    Ratios of actual to estimated tokens (above 1.0, estimates were too low).
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    input: Annotated[
        float, Field(description="Ratio of actual to estimated input tokens.", ge=0.0)
    ]
    output: Annotated[
        float, Field(description="Ratio of actual to estimated output tokens.", ge=0.0)
    ]


class QualityPrediction(BaseModel):
    """
    Gate pass rate and success rate.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    gate_pass_rate: Annotated[
        float,
        Field(
            description="Fraction of tasks where all quality gates passed.",
            ge=0.0,
            le=1.0,
        ),
    ]
    success_rate: Annotated[
        float,
        Field(description="Fraction of tasks with outcome `success`.", ge=0.0, le=1.0),
    ]


class PredictionData(BaseModel):
    """
    A prediction computed from matched events.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    input_tokens: TokenDistribution
    output_tokens: TokenDistribution
    cost_usd_micros: Annotated[
        MedianStats,
        Field(
            description="Cost statistics in microdollars; `median` is always present."
        ),
    ]
    duration_ms: Annotated[
        MedianStats,
        Field(
            description="Duration statistics in milliseconds; `median` is always present."
        ),
    ]
    correction_factors: CorrectionFactors
    quality: QualityPrediction


class PredictionMetadata(BaseModel):
    """
    How a prediction was made.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    sample_size: Annotated[
        int, Field(description="Number of events used to compute the prediction.", ge=0)
    ]
    fallback_level: Annotated[
        int,
        Field(
            description="0 = exact match; 1..3 = dimensions dropped (model, then provider, then complexity); -1 = no data.",
            ge=-1,
            le=3,
        ),
    ]
    confidence: Confidence
    last_updated: Annotated[
        AwareDatetime | None,
        Field(description="When the prediction was last computed."),
    ] = None
    dimensions_matched: Annotated[
        dict[str, str | None] | None,
        Field(description="The dimensions matched; a dropped dimension is null."),
    ] = None
    fallback_note: Annotated[
        str | None, Field(description="Explanation when a fallback was used.")
    ] = None
    cache_hit: Annotated[
        bool, Field(description="Whether the server answered from its cache.")
    ] = False


class PredictionResponse(BaseModel):
    """
    The prediction for one query.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    prediction: Annotated[
        PredictionData | None,
        Field(description="The prediction, or null when no data is available."),
    ]
    metadata: PredictionMetadata


class PredictionBatchResponse(BaseModel):
    """
    Response of `POST /v1/predictions/batch`.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    results: Annotated[
        list[PredictionResponse],
        Field(description="One response per query, in request order."),
    ]


class ValidationErrorItem(BaseModel):
    """
    One validation failure.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    loc: Annotated[
        list[str | int],
        Field(
            description="Where the failure is, as a path into the body.", max_length=16
        ),
    ]
    msg: Annotated[
        str,
        Field(description="What is wrong (at most 300 characters).", max_length=300),
    ]
    type: Annotated[
        str, Field(description="A machine-readable error kind.", max_length=64)
    ]


class ErrorResponse(BaseModel):
    """
    The body of every error response; its size is bounded whatever the request held.
    """

    model_config = ConfigDict(
        defer_build=True,
    )
    detail: Annotated[
        str | list[ValidationErrorItem],
        Field(
            description="A message (at most 1,000 characters), or (422 only) at most 20 validation failures."
        ),
    ]
