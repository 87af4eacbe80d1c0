# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from typing import Literal, cast

RepoSizeCategory = Literal["huge", "large", "medium", "small", "tiny"]

REPO_SIZE_CATEGORY_VALUES: set[RepoSizeCategory] = {
    "huge",
    "large",
    "medium",
    "small",
    "tiny",
}


def check_repo_size_category(value: str) -> RepoSizeCategory:
    if value in REPO_SIZE_CATEGORY_VALUES:
        return cast(RepoSizeCategory, value)
    raise TypeError(
        f"Unexpected value {value!r}. Expected one of {REPO_SIZE_CATEGORY_VALUES!r}"
    )
