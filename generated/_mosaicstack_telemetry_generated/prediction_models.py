# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.

from typing import Annotated

from mosaicstack_telemetry._enums import (
    Complexity,
    Confidence,
    MedianStats,
    Provider,
    TaskType,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


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
