# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

from ..models.complexity import Complexity, check_complexity
from ..models.provider import Provider, check_provider
from ..models.task_type import TaskType, check_task_type

T = TypeVar("T", bound="PredictionQuery")


@_attrs_define
class PredictionQuery:
    """The dimensions to predict for.

    Attributes:
        task_type (TaskType): Type of work performed.
        model (str): Model identifier, compared exactly.
        provider (Provider): LLM provider.
        complexity (Complexity): Task complexity level.
    """

    task_type: TaskType
    model: str
    provider: Provider
    complexity: Complexity

    def to_dict(self) -> dict[str, Any]:
        task_type: str = self.task_type

        model = self.model

        provider: str = self.provider

        complexity: str = self.complexity

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "task_type": task_type,
                "model": model,
                "provider": provider,
                "complexity": complexity,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        task_type = check_task_type(d.pop("task_type"))

        model = d.pop("model")

        provider = check_provider(d.pop("provider"))

        complexity = check_complexity(d.pop("complexity"))

        prediction_query = cls(
            task_type=task_type,
            model=model,
            provider=provider,
            complexity=complexity,
        )

        return prediction_query
