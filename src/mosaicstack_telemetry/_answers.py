"""What the server's answers say: pure reading of a 2xx body, no I/O, no logging policy.

The delivery core asks these functions what a 202 to an events batch or a 200 to a
predictions batch means; they take the body decoded from JSON (`decode_json`), or None when it
could not be, and return plain verdicts the core counts and logs.

They read liberally (the contract's forward-compatibility rules): each result is validated on
its own, so one odd result costs only itself; fields they do not know are ignored; an event
status they do not know means delivered (the server has the event, re-sending cannot do
better); an unknown confidence is kept as sent and ranks lowest (`Confidence.effective`).
Each verdict says why something could not be read, for the caller to log at DEBUG.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from mosaicstack_telemetry._enums import EventStatus
from mosaicstack_telemetry._models import BatchEventResult

if TYPE_CHECKING:
    from mosaicstack_telemetry._predictionmodels import PredictionResponse as _Prediction


def decode_json(content: bytes | None) -> tuple[Any, str | None]:
    """The body decoded from JSON, or None and why not (`content` None: too large to read)."""
    if content is None:
        return None, "the body was too large to read"
    if not content.strip():
        return None, "the body is empty"
    try:
        return json.loads(content), None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        return None, f"the body is not JSON ({exc})"


def _why(exc: ValidationError) -> str:
    """pydantic's first error in one short line: `status: Field required`."""
    first = exc.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    more = exc.error_count() - 1
    return f"{where}: {first['msg']}" + (f" (and {more} more)" if more else "")


@dataclass(frozen=True)
class Rejection:
    """One event the server rejected: where it was in the batch and why."""

    index: int  #: its position in the request (the server's `index`, else its result's position)
    event_id: str  #: the nil UUID when the server could not read the event's id
    code: str | None  #: machine-readable reason (`invalid_event`, ...), None from old servers
    error: str | None  #: the server's message

    def __str__(self) -> str:
        code = f"{self.code}: " if self.code else ""
        return f"#{self.index} {self.event_id}: {code}{self.error}"


@dataclass(frozen=True)
class EventsVerdict:
    """What the server did with each event of one batch it answered with a 2xx.

    `accepted + rejected + duplicate + unknown` is the batch's size. Events counted in
    `duplicate` and `unknown` were delivered too: none of them is ever re-sent.
    """

    accepted: int  #: stored by this request
    rejected: int  #: rejected individually (never re-sent: re-sending cannot succeed)
    duplicate: int = 0  #: already stored for this instance: a re-send that landed before
    unknown: int = 0  #: results this SDK could not classify, read as delivered
    #: each rejected event, in request order
    rejections: list[Rejection] = field(default_factory=list)
    #: the distinct statuses this SDK does not know, each read as delivered (log each once)
    unknown_statuses: list[str] = field(default_factory=list)
    #: False when the body could not be read at all: every event is counted as delivered
    readable: bool = True
    #: why the body, or some of its results, could not be read (None: all read)
    reason: str | None = None

    @property
    def sent(self) -> int:
        """What `stats().sent` counts: stored now, or delivered with a status not known here."""
        return self.accepted + self.unknown


def read_events_answer(
    parsed: Mapping[str, Any] | None, count: int, *, reason: str | None = None
) -> EventsVerdict:
    """The verdict of a 2xx answer to a batch of `count` events.

    `parsed` is the body decoded from JSON (None when it could not be, `reason` saying why). An
    unreadable body still means the server took the batch: every event counts as delivered
    (re-sending could not do better), and `readable` is False so the caller can say so.
    """

    def unreadable(why: str) -> EventsVerdict:
        return EventsVerdict(accepted=count, rejected=0, readable=False, reason=why)

    if parsed is None:
        return unreadable(reason or "the body could not be decoded")
    if not isinstance(parsed, Mapping):
        return unreadable(f"the body is a JSON {type(parsed).__name__}, not an object")
    results = parsed.get("results")
    if not isinstance(results, list):
        return unreadable("the body has no list of results")
    if len(results) != count:
        return unreadable(f"the body has {len(results)} results for {count} events")
    accepted = rejected = duplicate = other = 0
    rejections: list[Rejection] = []
    unknown: set[str] = set()
    problems: list[str] = []
    for position, item in enumerate(results):
        try:
            result = BatchEventResult.model_validate(item)
        except ValidationError as exc:
            other += 1  # the server has it, whatever it did
            problems.append(f"result {position}: {_why(exc)}")
            continue
        status = result.status
        if status is EventStatus.ACCEPTED:
            accepted += 1
        elif status is EventStatus.DUPLICATE:
            duplicate += 1
        elif status is EventStatus.REJECTED:
            rejected += 1
            index = position if result.index is None else result.index
            code = None if result.code is None else result.code.value
            rejections.append(Rejection(index, str(result.event_id), code, result.error))
        else:
            other += 1
            unknown.add(status.value)
    why: str | None = None
    if problems:
        why = f"{len(problems)} of {count} results could not be read: " + "; ".join(problems[:3])
    return EventsVerdict(
        accepted, rejected, duplicate, other, rejections, sorted(unknown), reason=why
    )


@dataclass(frozen=True)
class PredictionsVerdict:
    """What a 200 to a predictions batch says, one entry per query, in query order."""

    #: each query's prediction; None where that answer could not be read (keep the old one)
    results: list[_Prediction | None]
    #: the distinct confidences this SDK does not know (kept as sent; they rank as `low`)
    unknown_confidences: list[str] = field(default_factory=list)
    #: why the body, or some answers, could not be read (None: all read)
    reason: str | None = None

    @property
    def readable(self) -> bool:
        """Whether every answer could be read."""
        return all(r is not None for r in self.results)


def read_predictions_verdict(
    parsed: Mapping[str, Any] | None, count: int, *, reason: str | None = None
) -> PredictionsVerdict:
    """Each of `count` answers read on its own: one odd answer costs only itself."""
    # Here, not at the top: the events path loads this module and never needs these models.
    from mosaicstack_telemetry._predictionmodels import PredictionResponse as _Prediction

    nothing: list[_Prediction | None] = [None] * count
    if parsed is None:
        return PredictionsVerdict(nothing, reason=reason or "the body could not be decoded")
    results = parsed.get("results") if isinstance(parsed, Mapping) else None
    if not isinstance(results, list):
        return PredictionsVerdict(nothing, reason="the body has no list of results")
    if len(results) != count:
        mismatch = f"the body has {len(results)} answers for {count} queries"
        return PredictionsVerdict(nothing, reason=mismatch)
    read: list[_Prediction | None] = []
    unknown: set[str] = set()
    problems: list[str] = []
    for position, item in enumerate(results):
        try:
            answer = _Prediction.model_validate(item)
        except ValidationError as exc:
            read.append(None)
            problems.append(f"answer {position}: {_why(exc)}")
            continue
        if not answer.metadata.confidence.known:
            unknown.add(answer.metadata.confidence.value)
        read.append(answer)
    why: str | None = None
    if problems:
        why = f"{len(problems)} of {count} answers could not be read: " + "; ".join(problems[:3])
    return PredictionsVerdict(read, sorted(unknown), why)
