"""mosaicstack-telemetry: report AI coding task completions, read crowd-sourced predictions.

Everything public is re-exported here; the modules behind it are private. The names load on
first use (PEP 562): the package's pytest plugin is imported in every pytest run of a project
that installs the SDK, and `python -m mosaicstack_telemetry.server` needs none of the client,
so neither pays for pydantic, httpx and the models until something asks for them. The
prediction models load only when a prediction name is asked for: a program that only tracks
events never defines them.
"""

from mosaicstack_telemetry._version import __version__

# `typing.TYPE_CHECKING` without importing typing (a few ms of a CLI run that needs none of it):
# type checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from mosaicstack_telemetry._builder import EventBuilder
    from mosaicstack_telemetry._cache import PredictionCache
    from mosaicstack_telemetry._client import TelemetryClient
    from mosaicstack_telemetry._config import TelemetryConfig
    from mosaicstack_telemetry._enums import (
        Complexity,
        Confidence,
        EventStatus,
        Harness,
        Outcome,
        Provider,
        QualityGate,
        RejectionCode,
        RepoSizeCategory,
        TaskType,
    )
    from mosaicstack_telemetry._errors import DeliveryError, TelemetryError
    from mosaicstack_telemetry._eventspool import EventSpool
    from mosaicstack_telemetry._models import (
        BatchEventRequest,
        BatchEventResponse,
        BatchEventResult,
        TaskCompletionEvent,
    )
    from mosaicstack_telemetry._predictionmodels import (
        CorrectionFactors,
        PredictionData,
        PredictionMetadata,
        PredictionQuery,
        PredictionResponse,
        QualityPrediction,
        TokenDistribution,
    )
    from mosaicstack_telemetry._queue import EventQueue
    from mosaicstack_telemetry._stats import FlushResult, TelemetryStats
del TYPE_CHECKING

# Each public name and the private module that defines it.
_EXPORTS = {
    "BatchEventRequest": "_models",
    "BatchEventResponse": "_models",
    "BatchEventResult": "_models",
    "Complexity": "_enums",
    "Confidence": "_enums",
    "CorrectionFactors": "_predictionmodels",
    "DeliveryError": "_errors",
    "EventBuilder": "_builder",
    "EventQueue": "_queue",
    "EventSpool": "_eventspool",
    "EventStatus": "_enums",
    "FlushResult": "_stats",
    "Harness": "_enums",
    "Outcome": "_enums",
    "PredictionCache": "_cache",
    "PredictionData": "_predictionmodels",
    "PredictionMetadata": "_predictionmodels",
    "PredictionQuery": "_predictionmodels",
    "PredictionResponse": "_predictionmodels",
    "Provider": "_enums",
    "QualityGate": "_enums",
    "QualityPrediction": "_predictionmodels",
    "RejectionCode": "_enums",
    "RepoSizeCategory": "_enums",
    "TaskCompletionEvent": "_models",
    "TaskType": "_enums",
    "TelemetryClient": "_client",
    "TelemetryConfig": "_config",
    "TelemetryError": "_errors",
    "TelemetryStats": "_stats",
    "TokenDistribution": "_predictionmodels",
}

__all__ = [
    "BatchEventRequest",
    "BatchEventResponse",
    "BatchEventResult",
    "Complexity",
    "Confidence",
    "CorrectionFactors",
    "DeliveryError",
    "EventBuilder",
    "EventQueue",
    "EventSpool",
    "EventStatus",
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
    "RejectionCode",
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


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # The import statement, not importlib.import_module: `-X importtime` (and so the import
    # benchmark) sees only what the statement imports.
    value = getattr(__import__(f"{__name__}.{module}", None, None, [name]), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
