# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from typing import Literal, cast

Provider = Literal[
    "anthropic",
    "custom",
    "google",
    "mistral",
    "ollama",
    "openai",
    "openrouter",
    "unknown",
]

PROVIDER_VALUES: set[Provider] = {
    "anthropic",
    "custom",
    "google",
    "mistral",
    "ollama",
    "openai",
    "openrouter",
    "unknown",
}


def check_provider(value: str) -> Provider:
    if value in PROVIDER_VALUES:
        return cast(Provider, value)
    raise TypeError(f"Unexpected value {value!r}. Expected one of {PROVIDER_VALUES!r}")
