# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

T = TypeVar("T", bound="TokenDistribution")


@_attrs_define
class TokenDistribution:
    """Percentiles of a token count.

    Attributes:
        p10 (int): 10th percentile.
        p25 (int): 25th percentile.
        median (int): 50th percentile (median).
        p75 (int): 75th percentile.
        p90 (int): 90th percentile.
    """

    p10: int
    p25: int
    median: int
    p75: int
    p90: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        p10 = self.p10

        p25 = self.p25

        median = self.median

        p75 = self.p75

        p90 = self.p90

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "p10": p10,
                "p25": p25,
                "median": median,
                "p75": p75,
                "p90": p90,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        p10 = d.pop("p10")

        p25 = d.pop("p25")

        median = d.pop("median")

        p75 = d.pop("p75")

        p90 = d.pop("p90")

        token_distribution = cls(
            p10=p10,
            p25=p25,
            median=median,
            p75=p75,
            p90=p90,
        )

        token_distribution.additional_properties = d
        return token_distribution

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
