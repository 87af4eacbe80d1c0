# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from dateutil.parser import isoparse
from typing_extensions import Self

from ..models.complexity import Complexity, check_complexity
from ..models.harness import Harness, check_harness
from ..models.outcome import Outcome, check_outcome
from ..models.provider import Provider, check_provider
from ..models.quality_gate import QualityGate, check_quality_gate
from ..models.repo_size_category import RepoSizeCategory, check_repo_size_category
from ..models.task_type import TaskType, check_task_type
from ..types import UNSET, Unset

T = TypeVar("T", bound="TaskCompletionEvent")


@_attrs_define
class TaskCompletionEvent:
    """One completed AI coding task (event schema version 1.0). An optional field left out takes
    its `default`; clients leave out optional fields at their default, except those marked
    `x-always-send`.

        Attributes:
            instance_id (UUID): Mosaic Stack installation identifier; must be the instance bound to the API key.
            task_duration_ms (int): Task wall-clock time in milliseconds.
            task_type (TaskType): Type of work performed.
            complexity (Complexity): Task complexity level.
            harness (Harness): Coding tool or execution environment.
            model (str): Model identifier.
            provider (Provider): LLM provider.
            estimated_input_tokens (int): Pre-task input token estimate.
            estimated_output_tokens (int): Pre-task output token estimate.
            actual_input_tokens (int): Actual input tokens consumed.
            actual_output_tokens (int): Actual output tokens generated.
            estimated_cost_usd_micros (int): Estimated cost in microdollars (1 USD = 1,000,000).
            actual_cost_usd_micros (int): Actual cost in microdollars (1 USD = 1,000,000).
            quality_gate_passed (bool): Whether all quality gates passed.
            context_compactions (int): Context compaction events during the task.
            context_rotations (int): Agent session rotations during the task.
            context_utilization_final (float): Final context usage ratio.
            outcome (Outcome): Final task result.
            retry_count (int): Retries before the final outcome.
            event_id (UUID | Unset): Unique event identifier (UUIDv4); the server assigns one when it is absent. Used to de-
                duplicate re-sent events.
            schema_version (str | Unset): Event schema version. Always sent, so a server whose default moves on still reads
                the event as the version it was written in. Default: '1.0'.
            timestamp (datetime.datetime | Unset): When the task completed (RFC 3339 with a UTC offset); the server uses the
                time of receipt when it is absent.
            quality_gates_run (list[QualityGate] | Unset): Gates executed.
            quality_gates_failed (list[QualityGate] | Unset): Gates that failed.
            language (None | str | Unset): Primary programming language.
            repo_size_category (None | RepoSizeCategory | Unset): Repository size bucket.
    """

    instance_id: UUID
    task_duration_ms: int
    task_type: TaskType
    complexity: Complexity
    harness: Harness
    model: str
    provider: Provider
    estimated_input_tokens: int
    estimated_output_tokens: int
    actual_input_tokens: int
    actual_output_tokens: int
    estimated_cost_usd_micros: int
    actual_cost_usd_micros: int
    quality_gate_passed: bool
    context_compactions: int
    context_rotations: int
    context_utilization_final: float
    outcome: Outcome
    retry_count: int
    event_id: UUID | Unset = UNSET
    schema_version: str | Unset = "1.0"
    timestamp: datetime.datetime | Unset = UNSET
    quality_gates_run: list[QualityGate] | Unset = UNSET
    quality_gates_failed: list[QualityGate] | Unset = UNSET
    language: None | str | Unset = UNSET
    repo_size_category: None | RepoSizeCategory | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        instance_id = str(self.instance_id)

        task_duration_ms = self.task_duration_ms

        task_type: str = self.task_type

        complexity: str = self.complexity

        harness: str = self.harness

        model = self.model

        provider: str = self.provider

        estimated_input_tokens = self.estimated_input_tokens

        estimated_output_tokens = self.estimated_output_tokens

        actual_input_tokens = self.actual_input_tokens

        actual_output_tokens = self.actual_output_tokens

        estimated_cost_usd_micros = self.estimated_cost_usd_micros

        actual_cost_usd_micros = self.actual_cost_usd_micros

        quality_gate_passed = self.quality_gate_passed

        context_compactions = self.context_compactions

        context_rotations = self.context_rotations

        context_utilization_final = self.context_utilization_final

        outcome: str = self.outcome

        retry_count = self.retry_count

        event_id: str | Unset = UNSET
        if not isinstance(self.event_id, Unset):
            event_id = str(self.event_id)

        schema_version = self.schema_version

        timestamp: str | Unset = UNSET
        if not isinstance(self.timestamp, Unset):
            timestamp = self.timestamp.isoformat()

        quality_gates_run: list[str] | Unset = UNSET
        if not isinstance(self.quality_gates_run, Unset):
            quality_gates_run = []
            for quality_gates_run_item_data in self.quality_gates_run:
                quality_gates_run_item: str = quality_gates_run_item_data
                quality_gates_run.append(quality_gates_run_item)

        quality_gates_failed: list[str] | Unset = UNSET
        if not isinstance(self.quality_gates_failed, Unset):
            quality_gates_failed = []
            for quality_gates_failed_item_data in self.quality_gates_failed:
                quality_gates_failed_item: str = quality_gates_failed_item_data
                quality_gates_failed.append(quality_gates_failed_item)

        language: None | str | Unset
        if isinstance(self.language, Unset):
            language = UNSET
        else:
            language = self.language

        repo_size_category: None | str | Unset
        if isinstance(self.repo_size_category, Unset):
            repo_size_category = UNSET
        elif isinstance(self.repo_size_category, str):
            repo_size_category = self.repo_size_category
        else:
            repo_size_category = self.repo_size_category

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "instance_id": instance_id,
                "task_duration_ms": task_duration_ms,
                "task_type": task_type,
                "complexity": complexity,
                "harness": harness,
                "model": model,
                "provider": provider,
                "estimated_input_tokens": estimated_input_tokens,
                "estimated_output_tokens": estimated_output_tokens,
                "actual_input_tokens": actual_input_tokens,
                "actual_output_tokens": actual_output_tokens,
                "estimated_cost_usd_micros": estimated_cost_usd_micros,
                "actual_cost_usd_micros": actual_cost_usd_micros,
                "quality_gate_passed": quality_gate_passed,
                "context_compactions": context_compactions,
                "context_rotations": context_rotations,
                "context_utilization_final": context_utilization_final,
                "outcome": outcome,
                "retry_count": retry_count,
            }
        )
        if event_id is not UNSET:
            field_dict["event_id"] = event_id
        if schema_version is not UNSET:
            field_dict["schema_version"] = schema_version
        if timestamp is not UNSET:
            field_dict["timestamp"] = timestamp
        if quality_gates_run is not UNSET:
            field_dict["quality_gates_run"] = quality_gates_run
        if quality_gates_failed is not UNSET:
            field_dict["quality_gates_failed"] = quality_gates_failed
        if language is not UNSET:
            field_dict["language"] = language
        if repo_size_category is not UNSET:
            field_dict["repo_size_category"] = repo_size_category

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        instance_id = UUID(d.pop("instance_id"))

        task_duration_ms = d.pop("task_duration_ms")

        task_type = check_task_type(d.pop("task_type"))

        complexity = check_complexity(d.pop("complexity"))

        harness = check_harness(d.pop("harness"))

        model = d.pop("model")

        provider = check_provider(d.pop("provider"))

        estimated_input_tokens = d.pop("estimated_input_tokens")

        estimated_output_tokens = d.pop("estimated_output_tokens")

        actual_input_tokens = d.pop("actual_input_tokens")

        actual_output_tokens = d.pop("actual_output_tokens")

        estimated_cost_usd_micros = d.pop("estimated_cost_usd_micros")

        actual_cost_usd_micros = d.pop("actual_cost_usd_micros")

        quality_gate_passed = d.pop("quality_gate_passed")

        context_compactions = d.pop("context_compactions")

        context_rotations = d.pop("context_rotations")

        context_utilization_final = d.pop("context_utilization_final")

        outcome = check_outcome(d.pop("outcome"))

        retry_count = d.pop("retry_count")

        _event_id = d.pop("event_id", UNSET)
        event_id: UUID | Unset
        if isinstance(_event_id, Unset):
            event_id = UNSET
        else:
            event_id = UUID(_event_id)

        schema_version = d.pop("schema_version", UNSET)

        _timestamp = d.pop("timestamp", UNSET)
        timestamp: datetime.datetime | Unset
        if isinstance(_timestamp, Unset):
            timestamp = UNSET
        else:
            timestamp = isoparse(_timestamp)

        _quality_gates_run = d.pop("quality_gates_run", UNSET)
        quality_gates_run: list[QualityGate] | Unset = UNSET
        if _quality_gates_run is not UNSET:
            quality_gates_run = []
            for quality_gates_run_item_data in _quality_gates_run:
                quality_gates_run_item = check_quality_gate(quality_gates_run_item_data)

                quality_gates_run.append(quality_gates_run_item)

        _quality_gates_failed = d.pop("quality_gates_failed", UNSET)
        quality_gates_failed: list[QualityGate] | Unset = UNSET
        if _quality_gates_failed is not UNSET:
            quality_gates_failed = []
            for quality_gates_failed_item_data in _quality_gates_failed:
                quality_gates_failed_item = check_quality_gate(
                    quality_gates_failed_item_data
                )

                quality_gates_failed.append(quality_gates_failed_item)

        def _parse_language(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        language = _parse_language(d.pop("language", UNSET))

        def _parse_repo_size_category(data: object) -> None | RepoSizeCategory | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                repo_size_category_type_0 = check_repo_size_category(data)

                return repo_size_category_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | RepoSizeCategory | Unset, data)

        repo_size_category = _parse_repo_size_category(
            d.pop("repo_size_category", UNSET)
        )

        task_completion_event = cls(
            instance_id=instance_id,
            task_duration_ms=task_duration_ms,
            task_type=task_type,
            complexity=complexity,
            harness=harness,
            model=model,
            provider=provider,
            estimated_input_tokens=estimated_input_tokens,
            estimated_output_tokens=estimated_output_tokens,
            actual_input_tokens=actual_input_tokens,
            actual_output_tokens=actual_output_tokens,
            estimated_cost_usd_micros=estimated_cost_usd_micros,
            actual_cost_usd_micros=actual_cost_usd_micros,
            quality_gate_passed=quality_gate_passed,
            context_compactions=context_compactions,
            context_rotations=context_rotations,
            context_utilization_final=context_utilization_final,
            outcome=outcome,
            retry_count=retry_count,
            event_id=event_id,
            schema_version=schema_version,
            timestamp=timestamp,
            quality_gates_run=quality_gates_run,
            quality_gates_failed=quality_gates_failed,
            language=language,
            repo_size_category=repo_size_category,
        )

        return task_completion_event
