# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from typing import Literal, cast

Harness = Literal[
    "aider",
    "api_direct",
    "claude_code",
    "custom",
    "kilo_code",
    "ollama_local",
    "opencode",
    "unknown",
]

HARNESS_VALUES: set[Harness] = {
    "aider",
    "api_direct",
    "claude_code",
    "custom",
    "kilo_code",
    "ollama_local",
    "opencode",
    "unknown",
}


def check_harness(value: str) -> Harness:
    if value in HARNESS_VALUES:
        return cast(Harness, value)
    raise TypeError(f"Unexpected value {value!r}. Expected one of {HARNESS_VALUES!r}")
