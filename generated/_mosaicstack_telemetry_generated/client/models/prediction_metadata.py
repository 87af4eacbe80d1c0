# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from dateutil.parser import isoparse
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.prediction_metadata_dimensions_matched_type_0 import (
        PredictionMetadataDimensionsMatchedType0,
    )


T = TypeVar("T", bound="PredictionMetadata")


@_attrs_define
class PredictionMetadata:
    """How a prediction was made.

    Attributes:
        sample_size (int): Number of events used to compute the prediction.
        fallback_level (int): 0 = exact match; 1..3 = dimensions dropped (model, then provider, then complexity); -1 =
            no data.
        confidence (str): How far a prediction can be trusted. Open set: a client keeps a value it does not know and
            treats it as the lowest confidence a prediction can have (`low`).
        last_updated (datetime.datetime | None | Unset): When the prediction was last computed.
        dimensions_matched (None | PredictionMetadataDimensionsMatchedType0 | Unset): The dimensions matched; a dropped
            dimension is null.
        fallback_note (None | str | Unset): Explanation when a fallback was used.
        cache_hit (bool | Unset): Whether the server answered from its cache. Default: False.
    """

    sample_size: int
    fallback_level: int
    confidence: str
    last_updated: datetime.datetime | None | Unset = UNSET
    dimensions_matched: None | PredictionMetadataDimensionsMatchedType0 | Unset = UNSET
    fallback_note: None | str | Unset = UNSET
    cache_hit: bool | Unset = False
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.prediction_metadata_dimensions_matched_type_0 import (
            PredictionMetadataDimensionsMatchedType0,
        )

        sample_size = self.sample_size

        fallback_level = self.fallback_level

        confidence = self.confidence

        last_updated: None | str | Unset
        if isinstance(self.last_updated, Unset):
            last_updated = UNSET
        elif isinstance(self.last_updated, datetime.datetime):
            last_updated = self.last_updated.isoformat()
        else:
            last_updated = self.last_updated

        dimensions_matched: dict[str, Any] | None | Unset
        if isinstance(self.dimensions_matched, Unset):
            dimensions_matched = UNSET
        elif isinstance(
            self.dimensions_matched, PredictionMetadataDimensionsMatchedType0
        ):
            dimensions_matched = self.dimensions_matched.to_dict()
        else:
            dimensions_matched = self.dimensions_matched

        fallback_note: None | str | Unset
        if isinstance(self.fallback_note, Unset):
            fallback_note = UNSET
        else:
            fallback_note = self.fallback_note

        cache_hit = self.cache_hit

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "sample_size": sample_size,
                "fallback_level": fallback_level,
                "confidence": confidence,
            }
        )
        if last_updated is not UNSET:
            field_dict["last_updated"] = last_updated
        if dimensions_matched is not UNSET:
            field_dict["dimensions_matched"] = dimensions_matched
        if fallback_note is not UNSET:
            field_dict["fallback_note"] = fallback_note
        if cache_hit is not UNSET:
            field_dict["cache_hit"] = cache_hit

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.prediction_metadata_dimensions_matched_type_0 import (
            PredictionMetadataDimensionsMatchedType0,
        )

        d = dict(src_dict)
        sample_size = d.pop("sample_size")

        fallback_level = d.pop("fallback_level")

        confidence = d.pop("confidence")

        def _parse_last_updated(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_updated_type_0 = isoparse(data)

                return last_updated_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_updated = _parse_last_updated(d.pop("last_updated", UNSET))

        def _parse_dimensions_matched(
            data: object,
        ) -> None | PredictionMetadataDimensionsMatchedType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                dimensions_matched_type_0 = (
                    PredictionMetadataDimensionsMatchedType0.from_dict(data)
                )

                return dimensions_matched_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PredictionMetadataDimensionsMatchedType0 | Unset, data)

        dimensions_matched = _parse_dimensions_matched(
            d.pop("dimensions_matched", UNSET)
        )

        def _parse_fallback_note(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        fallback_note = _parse_fallback_note(d.pop("fallback_note", UNSET))

        cache_hit = d.pop("cache_hit", UNSET)

        prediction_metadata = cls(
            sample_size=sample_size,
            fallback_level=fallback_level,
            confidence=confidence,
            last_updated=last_updated,
            dimensions_matched=dimensions_matched,
            fallback_note=fallback_note,
            cache_hit=cache_hit,
        )

        prediction_metadata.additional_properties = d
        return prediction_metadata

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
