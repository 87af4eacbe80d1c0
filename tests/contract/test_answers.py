"""Reading the server's answers liberally (`_answers.py`, issue 13 item 1): each result on its
own, unknown statuses delivered, unknown confidences kept and ranked lowest, a reason for
everything that could not be read."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mosaicstack_telemetry._answers import (
    decode_json,
    read_events_answer,
    read_predictions_verdict,
)
from mosaicstack_telemetry._enums import Confidence, EventStatus

ID = "3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f6{}"
NIL = "00000000-0000-0000-0000-000000000000"


def result(i: int, status: str, **more: Any) -> dict[str, Any]:
    return {"index": i, "event_id": ID.format(i), "status": status, **more}


def test_every_status_is_counted() -> None:
    body = {
        "accepted": 2,
        "rejected": 1,
        "duplicate": 1,
        "results": [
            result(0, "accepted"),
            result(1, "duplicate"),
            {
                "index": 2,
                "event_id": NIL,
                "status": "rejected",
                "code": "invalid_event",
                "error": "bad",
            },
            result(3, "accepted"),
        ],
    }
    verdict = read_events_answer(body, 4)
    assert (verdict.accepted, verdict.rejected, verdict.duplicate, verdict.unknown) == (2, 1, 1, 0)
    assert verdict.sent == 2
    assert verdict.readable
    assert verdict.reason is None
    (rejection,) = verdict.rejections
    assert (rejection.index, rejection.event_id, rejection.code) == (2, NIL, "invalid_event")
    assert str(rejection) == f"#2 {NIL}: invalid_event: bad"


def test_an_unknown_status_is_delivered_and_named_once() -> None:
    body = {
        "accepted": 1,
        "rejected": 0,
        "results": [
            result(0, "superseded"),
            result(1, "accepted"),
            result(2, "superseded"),
            result(3, "quarantined"),
        ],
    }
    verdict = read_events_answer(body, 4)
    assert (verdict.accepted, verdict.unknown, verdict.sent) == (1, 3, 4)
    assert verdict.unknown_statuses == ["quarantined", "superseded"]
    assert verdict.readable
    assert verdict.reason is None


def test_one_unreadable_result_costs_only_itself() -> None:
    body = {
        "results": [
            result(0, "rejected", code="a_code_from_the_future", error="why"),
            {"index": 1, "status": "accepted"},  # no event_id
            "not an object",
            result(3, "accepted", extra={"nested": True}),
        ]
    }
    verdict = read_events_answer(body, 4)
    assert (verdict.accepted, verdict.rejected, verdict.unknown) == (1, 1, 2)
    assert verdict.rejections[0].code == "a_code_from_the_future"
    assert verdict.readable
    assert verdict.reason is not None
    assert verdict.reason.startswith("2 of 4 results could not be read: result 1: event_id")
    assert "result 2:" in verdict.reason


def test_results_without_index_take_their_position() -> None:
    """A 1.0 server sends neither index, code nor duplicate: still read."""
    body = {
        "accepted": 1,
        "rejected": 1,
        "results": [
            {"event_id": ID.format(0), "status": "accepted", "error": None},
            {"event_id": ID.format(1), "status": "rejected", "error": "instance"},
        ],
    }
    verdict = read_events_answer(body, 2)
    assert (verdict.accepted, verdict.rejected, verdict.duplicate) == (1, 1, 0)
    assert verdict.rejections[0].index == 1
    assert verdict.rejections[0].code is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "the body was too large to read"),
        (b"", "the body is empty"),
        (b"<html>502</html>", "the body is not JSON"),
        (b"\xff\xfe", "the body is not JSON"),
        (b"[1, 2]", "the body is a JSON list, not an object"),
        (b'{"accepted": 3}', "the body has no list of results"),
        (b'{"results": []}', "the body has 0 results for 3 events"),
    ],
)
def test_an_unreadable_body_says_why_and_counts_everything_delivered(
    content: bytes | None, reason: str
) -> None:
    parsed, why = decode_json(content)
    verdict = read_events_answer(parsed, 3, reason=why)
    assert not verdict.readable
    assert (verdict.accepted, verdict.sent) == (3, 3)
    assert verdict.reason is not None
    assert verdict.reason.startswith(reason), verdict.reason


def prediction(confidence: str = "high", **meta: Any) -> dict[str, Any]:
    dist = {"p10": 1, "p25": 2, "median": 3, "p75": 4, "p90": 5}
    return {
        "prediction": {
            "input_tokens": dist,
            "output_tokens": dist,
            "cost_usd_micros": {"median": 100, "p99": 900},
            "duration_ms": {"median": 2000},
            "correction_factors": {"input": 1.0, "output": 1.0},
            "quality": {"gate_pass_rate": 1.0, "success_rate": 1.0},
        },
        "metadata": {"sample_size": 150, "fallback_level": 0, "confidence": confidence, **meta},
    }


def test_an_unknown_confidence_is_kept_and_ranks_lowest() -> None:
    body = {"results": [prediction(), prediction("very_high", added=1), prediction("low")]}
    verdict = read_predictions_verdict(body, 3)
    assert verdict.readable
    assert verdict.reason is None
    assert verdict.unknown_confidences == ["very_high"]
    odd = verdict.results[1]
    assert odd is not None
    assert odd.metadata.confidence == "very_high"
    assert str(odd.metadata.confidence) == "very_high"
    assert odd.metadata.confidence.known is False
    assert odd.metadata.confidence.effective is Confidence.LOW
    assert odd.prediction is not None
    assert odd.prediction.cost_usd_micros["median"] == 100
    first = verdict.results[0]
    assert first is not None
    assert first.metadata.confidence is Confidence.HIGH
    assert first.metadata.confidence.effective is Confidence.HIGH
    assert [r.metadata.confidence for r in verdict.results if r is not None] == [
        "high",
        "very_high",
        "low",
    ]


def test_one_unreadable_prediction_costs_only_itself() -> None:
    broken = prediction()
    del broken["metadata"]["sample_size"]
    body = {"results": [prediction(), broken, prediction("none")]}
    verdict = read_predictions_verdict(body, 3)
    assert [r is None for r in verdict.results] == [False, True, False]
    assert verdict.reason is not None
    assert "answer 1: metadata.sample_size: Field required" in verdict.reason


@pytest.mark.parametrize("body", [None, [], {"results": "x"}, {"results": [prediction()]}])
def test_a_predictions_body_that_cannot_be_read(body: Any) -> None:
    verdict = read_predictions_verdict(
        body, 2, reason="the body is empty" if body is None else None
    )
    assert verdict.results == [None, None]
    assert verdict.reason
    assert not verdict.readable


def test_open_enums_round_trip_as_json() -> None:
    unknown = EventStatus("superseded")
    assert json.dumps({"s": unknown}) == '{"s": "superseded"}'
    assert f"{unknown}" == "superseded"
    assert unknown == EventStatus("superseded")
    assert unknown not in list(EventStatus)
    with pytest.raises(ValueError, match="3 is not a valid EventStatus"):
        EventStatus(3)  # type: ignore[arg-type]
