# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.batch_event_result import BatchEventResult


T = TypeVar("T", bound="BatchEventResponse")


@_attrs_define
class BatchEventResponse:
    """Response of `POST /v1/events/batch`.

    Attributes:
        accepted (int): Count of events stored by this request.
        rejected (int): Count of rejected events.
        results (list[BatchEventResult]): One result per event, in request order.
        duplicate (int | Unset): Count of events this instance had already stored (re-sends). Absent only from servers
            older than 1.1. Default: 0.
    """

    accepted: int
    rejected: int
    results: list[BatchEventResult]
    duplicate: int | Unset = 0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        accepted = self.accepted

        rejected = self.rejected

        results = []
        for results_item_data in self.results:
            results_item = results_item_data.to_dict()
            results.append(results_item)

        duplicate = self.duplicate

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "accepted": accepted,
                "rejected": rejected,
                "results": results,
            }
        )
        if duplicate is not UNSET:
            field_dict["duplicate"] = duplicate

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.batch_event_result import BatchEventResult

        d = dict(src_dict)
        accepted = d.pop("accepted")

        rejected = d.pop("rejected")

        results = []
        _results = d.pop("results")
        for results_item_data in _results:
            results_item = BatchEventResult.from_dict(results_item_data)

            results.append(results_item)

        duplicate = d.pop("duplicate", UNSET)

        batch_event_response = cls(
            accepted=accepted,
            rejected=rejected,
            results=results,
            duplicate=duplicate,
        )

        batch_event_response.additional_properties = d
        return batch_event_response

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
