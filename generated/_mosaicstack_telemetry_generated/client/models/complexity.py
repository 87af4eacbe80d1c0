# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from typing import Literal, cast

Complexity = Literal["critical", "high", "low", "medium"]

COMPLEXITY_VALUES: set[Complexity] = {
    "critical",
    "high",
    "low",
    "medium",
}


def check_complexity(value: str) -> Complexity:
    if value in COMPLEXITY_VALUES:
        return cast(Complexity, value)
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {COMPLEXITY_VALUES!r}"
    )
