# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
"""Contains all the data models used in inputs/outputs"""

from .batch_event_request import BatchEventRequest
from .batch_event_response import BatchEventResponse
from .batch_event_result import BatchEventResult
from .complexity import Complexity
from .correction_factors import CorrectionFactors
from .error_response import ErrorResponse
from .harness import Harness
from .median_statistics import MedianStatistics
from .outcome import Outcome
from .prediction_batch_request import PredictionBatchRequest
from .prediction_batch_response import PredictionBatchResponse
from .prediction_data import PredictionData
from .prediction_metadata import PredictionMetadata
from .prediction_metadata_dimensions_matched_type_0 import (
    PredictionMetadataDimensionsMatchedType0,
)
from .prediction_query import PredictionQuery
from .prediction_response import PredictionResponse
from .provider import Provider
from .quality_gate import QualityGate
from .quality_prediction import QualityPrediction
from .repo_size_category import RepoSizeCategory
from .task_completion_event import TaskCompletionEvent
from .task_type import TaskType
from .token_distribution import TokenDistribution
from .validation_error_item import ValidationErrorItem

__all__ = (
    "BatchEventRequest",
    "BatchEventResponse",
    "BatchEventResult",
    "Complexity",
    "CorrectionFactors",
    "ErrorResponse",
    "Harness",
    "MedianStatistics",
    "Outcome",
    "PredictionBatchRequest",
    "PredictionBatchResponse",
    "PredictionData",
    "PredictionMetadata",
    "PredictionMetadataDimensionsMatchedType0",
    "PredictionQuery",
    "PredictionResponse",
    "Provider",
    "QualityGate",
    "QualityPrediction",
    "RepoSizeCategory",
    "TaskCompletionEvent",
    "TaskType",
    "TokenDistribution",
    "ValidationErrorItem",
)
