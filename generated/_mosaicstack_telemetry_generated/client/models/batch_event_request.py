# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from typing_extensions import Self

if TYPE_CHECKING:
    from ..models.task_completion_event import TaskCompletionEvent


T = TypeVar("T", bound="BatchEventRequest")


@_attrs_define
class BatchEventRequest:
    """Request body of `POST /v1/events/batch`.

    Attributes:
        events (list[TaskCompletionEvent]): Events to submit.
    """

    events: list[TaskCompletionEvent]

    def to_dict(self) -> dict[str, Any]:
        events = []
        for events_item_data in self.events:
            events_item = events_item_data.to_dict()
            events.append(events_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "events": events,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.task_completion_event import TaskCompletionEvent

        d = dict(src_dict)
        events = []
        _events = d.pop("events")
        for events_item_data in _events:
            events_item = TaskCompletionEvent.from_dict(events_item_data)

            events.append(events_item)

        batch_event_request = cls(
            events=events,
        )

        return batch_event_request
