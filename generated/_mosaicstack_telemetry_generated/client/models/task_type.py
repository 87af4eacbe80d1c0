# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from typing import Literal, cast

TaskType = Literal[
    "code_review",
    "configuration",
    "debugging",
    "documentation",
    "implementation",
    "planning",
    "refactoring",
    "security_audit",
    "testing",
    "unknown",
]

TASK_TYPE_VALUES: set[TaskType] = {
    "code_review",
    "configuration",
    "debugging",
    "documentation",
    "implementation",
    "planning",
    "refactoring",
    "security_audit",
    "testing",
    "unknown",
}


def check_task_type(value: str) -> TaskType:
    if value in TASK_TYPE_VALUES:
        return cast(TaskType, value)
    raise TypeError(f"Unexpected value {value!r}. Expected one of {TASK_TYPE_VALUES!r}")
