"""mosaicstack-telemetry: report AI coding task completions, read crowd-sourced predictions."""

from mosaicstack_telemetry._enums import (
    Complexity,
    Harness,
    Outcome,
    Provider,
    QualityGate,
    RepoSizeCategory,
    TaskType,
)
from mosaicstack_telemetry._version import __version__

__all__ = [
    "Complexity",
    "Harness",
    "Outcome",
    "Provider",
    "QualityGate",
    "RepoSizeCategory",
    "TaskType",
    "__version__",
]
