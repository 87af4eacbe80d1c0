# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from typing import Literal, cast

QualityGate = Literal["build", "coverage", "lint", "security", "test", "typecheck"]

QUALITY_GATE_VALUES: set[QualityGate] = {
    "build",
    "coverage",
    "lint",
    "security",
    "test",
    "typecheck",
}


def check_quality_gate(value: str) -> QualityGate:
    if value in QUALITY_GATE_VALUES:
        return cast(QualityGate, value)
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {QUALITY_GATE_VALUES!r}"
    )
