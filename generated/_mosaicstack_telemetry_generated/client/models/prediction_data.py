# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.correction_factors import CorrectionFactors
    from ..models.median_statistics import MedianStatistics
    from ..models.quality_prediction import QualityPrediction
    from ..models.token_distribution import TokenDistribution


T = TypeVar("T", bound="PredictionData")


@_attrs_define
class PredictionData:
    """A prediction computed from matched events.

    Attributes:
        input_tokens (TokenDistribution): Percentiles of a token count.
        output_tokens (TokenDistribution): Percentiles of a token count.
        cost_usd_micros (MedianStatistics): Integer statistics of one quantity; `median` is always present, and a server
            may add others (all integers).
        duration_ms (MedianStatistics): Integer statistics of one quantity; `median` is always present, and a server may
            add others (all integers).
        correction_factors (CorrectionFactors): Ratios of actual to estimated tokens (above 1.0, estimates were too
            low).
        quality (QualityPrediction): Gate pass rate and success rate.
    """

    input_tokens: TokenDistribution
    output_tokens: TokenDistribution
    cost_usd_micros: MedianStatistics
    duration_ms: MedianStatistics
    correction_factors: CorrectionFactors
    quality: QualityPrediction
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        input_tokens = self.input_tokens.to_dict()

        output_tokens = self.output_tokens.to_dict()

        cost_usd_micros = self.cost_usd_micros.to_dict()

        duration_ms = self.duration_ms.to_dict()

        correction_factors = self.correction_factors.to_dict()

        quality = self.quality.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cost_usd_micros": cost_usd_micros,
                "duration_ms": duration_ms,
                "correction_factors": correction_factors,
                "quality": quality,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.correction_factors import CorrectionFactors
        from ..models.median_statistics import MedianStatistics
        from ..models.quality_prediction import QualityPrediction
        from ..models.token_distribution import TokenDistribution

        d = dict(src_dict)
        input_tokens = TokenDistribution.from_dict(d.pop("input_tokens"))

        output_tokens = TokenDistribution.from_dict(d.pop("output_tokens"))

        cost_usd_micros = MedianStatistics.from_dict(d.pop("cost_usd_micros"))

        duration_ms = MedianStatistics.from_dict(d.pop("duration_ms"))

        correction_factors = CorrectionFactors.from_dict(d.pop("correction_factors"))

        quality = QualityPrediction.from_dict(d.pop("quality"))

        prediction_data = cls(
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost_usd_micros=cost_usd_micros,
            duration_ms=duration_ms,
            correction_factors=correction_factors,
            quality=quality,
        )

        prediction_data.additional_properties = d
        return prediction_data

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
