# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="QualityPrediction")


@_attrs_define
class QualityPrediction:
    """Gate pass rate and success rate.

    Attributes:
        gate_pass_rate (float): Fraction of tasks where all quality gates passed.
        success_rate (float): Fraction of tasks with outcome `success`.
    """

    gate_pass_rate: float
    success_rate: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        gate_pass_rate = self.gate_pass_rate

        success_rate = self.success_rate

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "gate_pass_rate": gate_pass_rate,
                "success_rate": success_rate,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        gate_pass_rate = d.pop("gate_pass_rate")

        success_rate = d.pop("success_rate")

        quality_prediction = cls(
            gate_pass_rate=gate_pass_rate,
            success_rate=success_rate,
        )

        quality_prediction.additional_properties = d
        return quality_prediction

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
