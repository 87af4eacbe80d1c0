# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from typing_extensions import Self

from ..types import UNSET, Unset

T = TypeVar("T", bound="BatchEventResult")


@_attrs_define
class BatchEventResult:
    """The server's verdict on one event of a batch.

    Attributes:
        event_id (UUID): The event's identifier (the nil UUID when the event carried no readable one; `index` then says
            which it was).
        status (str): What the server did with one event. Open set: a client reads a status it does not know
            as delivered (the server has the event; re-sending cannot do better).
        index (int | Unset): The event's position in the request (0-based). Absent only from servers older than 1.1.
        code (None | str | Unset): Why the event was rejected, for machines; null unless `status` is `rejected`.
        error (None | str | Unset): Why the event was rejected, for people (at most 500 characters); null unless
            `status` is `rejected`.
    """

    event_id: UUID
    status: str
    index: int | Unset = UNSET
    code: None | str | Unset = UNSET
    error: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        event_id = str(self.event_id)

        status = self.status

        index = self.index

        code: None | str | Unset
        if isinstance(self.code, Unset):
            code = UNSET
        else:
            code = self.code

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "event_id": event_id,
                "status": status,
            }
        )
        if index is not UNSET:
            field_dict["index"] = index
        if code is not UNSET:
            field_dict["code"] = code
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        event_id = UUID(d.pop("event_id"))

        status = d.pop("status")

        index = d.pop("index", UNSET)

        def _parse_code(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        code = _parse_code(d.pop("code", UNSET))

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))

        batch_event_result = cls(
            event_id=event_id,
            status=status,
            index=index,
            code=code,
            error=error,
        )

        batch_event_result.additional_properties = d
        return batch_event_result

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
