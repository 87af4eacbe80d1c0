# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from typing import Literal, cast

Outcome = Literal["failure", "partial", "success", "timeout"]

OUTCOME_VALUES: set[Outcome] = {
    "failure",
    "partial",
    "success",
    "timeout",
}


def check_outcome(value: str) -> Outcome:
    if value in OUTCOME_VALUES:
        return cast(Outcome, value)
    raise TypeError(f"Unexpected value {value!r}. Expected one of {OUTCOME_VALUES!r}")
