"""mosaicstack-telemetry: report AI coding task completions, read crowd-sourced predictions.

Everything public is re-exported here; the modules behind it are private.
"""

from mosaicstack_telemetry._builder import EventBuilder
from mosaicstack_telemetry._cache import PredictionCache
from mosaicstack_telemetry._client import TelemetryClient
from mosaicstack_telemetry._config import TelemetryConfig
from mosaicstack_telemetry._enums import (
    Complexity,
    Harness,
    Outcome,
    Provider,
    QualityGate,
    RepoSizeCategory,
    TaskType,
)
from mosaicstack_telemetry._errors import TelemetryError
from mosaicstack_telemetry._models import (
    BatchEventRequest,
    BatchEventResponse,
    BatchEventResult,
    CorrectionFactors,
    PredictionData,
    PredictionMetadata,
    PredictionQuery,
    PredictionResponse,
    QualityPrediction,
    TaskCompletionEvent,
    TokenDistribution,
)
from mosaicstack_telemetry._queue import EventQueue
from mosaicstack_telemetry._stats import FlushResult, TelemetryStats
from mosaicstack_telemetry._version import __version__

__all__ = [
    "BatchEventRequest",
    "BatchEventResponse",
    "BatchEventResult",
    "Complexity",
    "CorrectionFactors",
    "EventBuilder",
    "EventQueue",
    "FlushResult",
    "Harness",
    "Outcome",
    "PredictionCache",
    "PredictionData",
    "PredictionMetadata",
    "PredictionQuery",
    "PredictionResponse",
    "Provider",
    "QualityGate",
    "QualityPrediction",
    "RepoSizeCategory",
    "TaskCompletionEvent",
    "TaskType",
    "TelemetryClient",
    "TelemetryConfig",
    "TelemetryError",
    "TelemetryStats",
    "TokenDistribution",
    "__version__",
]
