"""The public pydantic models: the generated ones, with the SDK's defaults added.

Constraints, field names and types come from the generated models (from the contract); this
module adds only what a contract cannot express: a fresh UUIDv4 `event_id` and a `timestamp`
of now (UTC) per event, naive timestamps taken as local time, and the contract's rule for
writing: an optional field at its `default` is left out of the JSON (the server applies the same
default), unless the contract marks it `x-always-send`. So a field added to the contract changes
nothing the SDK sends until a user sets it. Response types are the generated classes themselves,
so nested objects are instances of the public names. The prediction models live in
`_predictionmodels`, loaded on first use: importing the SDK defines only the event's classes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Annotated, Any
from uuid import UUID, SafeUUID, uuid4

import annotated_types
from _mosaicstack_telemetry_generated import models as _gen
from pydantic import ConfigDict, Field, TypeAdapter, field_validator
from pydantic.fields import FieldInfo

from mosaicstack_telemetry._ids import V4_CLEAR, V4_SET, utc_now

_utc_now = utc_now
_new_object = object.__new__
_set_slot = object.__setattr__


def _fast_uuid4() -> UUID:
    """`uuid.uuid4()` without `UUID.__init__`'s argument checks: the same 16 random bytes from
    `os.urandom` and the same bits, in half the time (it is a third of building an event)."""
    value = _new_object(UUID)
    _set_slot(value, "int", int.from_bytes(os.urandom(16), "big") & V4_CLEAR | V4_SET)
    _set_slot(value, "is_safe", SafeUUID.unknown)
    return value


def _check_fast_uuid4() -> Callable[[], UUID]:
    """`_fast_uuid4` if this Python's `UUID` is built as it expects, else `uuid4` itself."""
    try:
        sample = _fast_uuid4()
        same = UUID(str(sample)) == sample and hash(sample) == hash(UUID(int=sample.int))
    except Exception:  # pragma: no cover  # a UUID without these slots
        same = False
    return _fast_uuid4 if same and sample.version == 4 else uuid4


new_event_id = _check_fast_uuid4()


class TaskCompletionEvent(_gen.TaskCompletionEvent):
    """A single telemetry event: one completed AI coding task (event schema version 1.0).

    Its JSON (`model_dump_json()`, `model_dump()`, what the SDK sends) leaves out each optional
    field whose value is its contract default, except `schema_version` (`OMITTED_AT_DEFAULT`).
    """

    # Built on first use, after _omit_defaults() below has marked its fields: one schema build.
    model_config = ConfigDict(defer_build=True)

    event_id: Annotated[UUID, Field(description="Unique event identifier (UUIDv4).")] = Field(
        default_factory=new_event_id
    )
    timestamp: Annotated[datetime, Field(description="When the task completed (UTC).")] = Field(
        default_factory=_utc_now
    )

    @field_validator("timestamp")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        # astimezone() on a naive datetime assumes local time, which is what a user who wrote
        # datetime.now() meant. Already UTC (every default, most callers): nothing to do.
        if value.tzinfo is timezone.utc:
            return value
        try:
            return value.astimezone(timezone.utc)
        except OverflowError:  # 9999-12-31T23:59:59-01:00: a ValidationError, not a crash
            raise ValueError("the time in UTC is beyond the year 9999") from None


def _is_none(value: object) -> bool:
    return value is None


def _is_empty(value: object) -> bool:
    return not value


def _omit_when(default: object) -> Callable[[object], bool]:
    if default is None:
        return _is_none
    if isinstance(default, (list, dict, str)) and not default:
        return _is_empty
    return lambda value: bool(value == default)


def _always_sent(info: FieldInfo) -> bool:
    extra = info.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get("x-always-send"))


def _omit_defaults(model: type[TaskCompletionEvent]) -> tuple[str, ...]:
    """Mark every optional field with a plain contract default to be left out at that default.

    Fields with a default factory (`event_id`, `timestamp`: fresh per event) and fields the
    contract marks `x-always-send` are always written. Returns the names marked.
    """
    omitted = []
    for name, info in model.model_fields.items():
        if info.is_required() or info.default_factory is not None or _always_sent(info):
            continue
        info.exclude_if = _omit_when(info.default)
        omitted.append(name)
    return tuple(omitted)


#: The event fields left out of the JSON while at their contract default.
OMITTED_AT_DEFAULT = _omit_defaults(TaskCompletionEvent)


def max_len(model: type[Any], field: str) -> int:
    """The contract's maxItems of a list field, read from the generated model."""
    for meta in model.model_fields[field].metadata:
        if isinstance(meta, annotated_types.MaxLen):
            return int(meta.max_length)
    raise LookupError(f"{model.__name__}.{field} has no maximum length")  # pragma: no cover


#: The server's maximum of events per request, from the contract.
MAX_EVENTS_PER_BATCH = max_len(_gen.BatchEventRequest, "events")


class BatchEventRequest(_gen.BatchEventRequest):
    """Request body for `POST /v1/events/batch` (1 to 100 events)."""

    events: Annotated[  # type: ignore[assignment]  # narrowed to the public event type
        list[TaskCompletionEvent],
        Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH, description="Events to submit."),
    ]


# Made on first use: a TypeAdapter builds its serializer when created, and the models are
# built on first use too (`defer_build`), so importing this module builds nothing.
_adapters: dict[str, TypeAdapter[Any]] = {}


def _adapter(name: str) -> TypeAdapter[Any]:
    adapter = _adapters.get(name)
    if adapter is None:
        kind = list[TaskCompletionEvent] if name == "events" else TaskCompletionEvent
        adapter = _adapters[name] = TypeAdapter(kind)
    return adapter


def dump_events_body(events: Sequence[TaskCompletionEvent]) -> bytes:
    """The body of `POST /v1/events/batch`, straight from pydantic to JSON bytes (fields at
    their default left out, see `OMITTED_AT_DEFAULT`)."""
    return b'{"events":' + _adapter("events").dump_json(list(events)) + b"}"


def dump_event(event: TaskCompletionEvent) -> bytes:
    """One event's JSON exactly as a batch body carries it (the spool stores this)."""
    return _adapter("event").dump_json(event)


BatchEventResponse = _gen.BatchEventResponse
BatchEventResult = _gen.BatchEventResult
