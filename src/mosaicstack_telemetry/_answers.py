"""What the server's answers say: pure reading of a 2xx body, no I/O, no logging policy.

The delivery core asks these functions what a 202 to an events batch or a 200 to a
predictions batch means; they take the body already decoded to a dict (or None when it could
not be read) and return plain verdicts the core counts and logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mosaicstack_telemetry._models import BatchEventResponse, PredictionBatchResponse
from mosaicstack_telemetry._models import PredictionResponse as _Prediction


@dataclass(frozen=True)
class EventsVerdict:
    """What the server did with each event of one batch it answered with a 2xx."""

    accepted: int
    rejected: int
    #: "event_id: why" for each rejected event, in request order
    rejections: list[str] = field(default_factory=list)
    #: False when the body could not be read: the server has the batch, counts are assumed
    readable: bool = True


def read_events_answer(parsed: dict[str, Any] | None, count: int) -> EventsVerdict:
    """The verdict of a 2xx answer to a batch of `count` events.

    An unreadable body still means the server took the batch: every event counts as accepted
    (re-sending could not do better), and `readable` is False so the caller can say so.
    """
    try:
        response = BatchEventResponse.model_validate(parsed)
    except Exception:
        return EventsVerdict(accepted=count, rejected=0, readable=False)
    rejections = [f"{r.event_id}: {r.error}" for r in response.results if r.status == "rejected"]
    return EventsVerdict(response.accepted, response.rejected, rejections)


def read_predictions_answer(parsed: dict[str, Any] | None, count: int) -> list[_Prediction] | None:
    """One prediction per query, or None when the body cannot be read as `count` answers."""
    try:
        results = PredictionBatchResponse.model_validate(parsed).results
    except Exception:
        return None
    return results if len(results) == count else None
