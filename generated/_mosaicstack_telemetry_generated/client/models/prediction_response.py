# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.prediction_data import PredictionData
    from ..models.prediction_metadata import PredictionMetadata


T = TypeVar("T", bound="PredictionResponse")


@_attrs_define
class PredictionResponse:
    """The prediction for one query.

    Attributes:
        prediction (None | PredictionData): The prediction, or null when no data is available.
        metadata (PredictionMetadata): How a prediction was made.
    """

    prediction: None | PredictionData
    metadata: PredictionMetadata
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.prediction_data import PredictionData

        prediction: dict[str, Any] | None
        if isinstance(self.prediction, PredictionData):
            prediction = self.prediction.to_dict()
        else:
            prediction = self.prediction

        metadata = self.metadata.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "prediction": prediction,
                "metadata": metadata,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.prediction_data import PredictionData
        from ..models.prediction_metadata import PredictionMetadata

        d = dict(src_dict)

        def _parse_prediction(data: object) -> None | PredictionData:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                prediction_type_0 = PredictionData.from_dict(data)

                return prediction_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PredictionData, data)

        prediction = _parse_prediction(d.pop("prediction"))

        metadata = PredictionMetadata.from_dict(d.pop("metadata"))

        prediction_response = cls(
            prediction=prediction,
            metadata=metadata,
        )

        prediction_response.additional_properties = d
        return prediction_response

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
