"""Predictions over real HTTP: confidence levels, each fallback level, percentiles
(nearest rank), correction factors, rates, last_updated, the cache and request validation."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
from tests.server._helpers import AUTH, make_event

PREDICT = "/v1/predictions/batch"
QUERY = {
    "task_type": "implementation",
    "model": "claude-sonnet-4-5",
    "provider": "anthropic",
    "complexity": "medium",
}


def store(srv: Any, events: list[dict[str, Any]]) -> None:
    for start in range(0, len(events), 100):
        chunk = events[start : start + 100]
        response = httpx.post(srv.url + "/v1/events/batch", json={"events": chunk}, headers=AUTH)
        answer = response.json()
        assert answer["accepted"] + answer["duplicate"] == len(chunk)


def predict(srv: Any, *queries: dict[str, Any], headers: Any = None) -> list[dict[str, Any]]:
    response = httpx.post(srv.url + PREDICT, json={"queries": list(queries)}, headers=headers)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert len(results) == len(queries)
    return results


@pytest.mark.parametrize(
    ("count", "confidence"),
    [(1, "low"), (29, "low"), (30, "medium"), (99, "medium"), (100, "high"), (130, "high")],
)
def test_confidence_of_an_exact_match(srv: Any, count: int, confidence: str) -> None:
    store(srv, [make_event() for _ in range(count)])
    (result,) = predict(srv, QUERY)
    meta = result["metadata"]
    assert (meta["sample_size"], meta["fallback_level"], meta["confidence"]) == (
        count,
        0,
        confidence,
    )
    assert meta["dimensions_matched"] == QUERY
    assert meta["fallback_note"] is None


def test_no_data_is_confidence_none(srv: Any) -> None:
    store(srv, [make_event(task_type="testing")])
    (result,) = predict(srv, QUERY)
    assert result["prediction"] is None
    meta = result["metadata"]
    assert (meta["sample_size"], meta["fallback_level"], meta["confidence"]) == (0, -1, "none")
    assert meta["last_updated"] is None
    assert meta["fallback_note"]


@pytest.mark.parametrize(
    ("stored", "level", "dropped"),
    [
        ({"model": "other"}, 1, {"model"}),
        ({"model": "other", "provider": "openai"}, 2, {"model", "provider"}),
        (
            {"model": "other", "provider": "openai", "complexity": "low"},
            3,
            {"model", "provider", "complexity"},
        ),
    ],
)
def test_each_fallback_level(
    srv: Any, stored: dict[str, str], level: int, dropped: set[str]
) -> None:
    store(srv, [make_event(**stored) for _ in range(150)])  # many samples, still "low"
    (result,) = predict(srv, QUERY)
    meta = result["metadata"]
    assert (meta["fallback_level"], meta["confidence"], meta["sample_size"]) == (level, "low", 150)
    matched = meta["dimensions_matched"]
    assert {k for k, v in matched.items() if v is None} == dropped
    assert {k: v for k, v in matched.items() if v is not None} == {
        k: v for k, v in QUERY.items() if k not in dropped
    }
    assert all(d in meta["fallback_note"] for d in dropped)
    assert result["prediction"] is not None


def test_a_dimension_is_dropped_only_when_nothing_matched(srv: Any) -> None:
    """One exact event beats 200 at a wider level: the exact level matched something."""
    store(srv, [make_event(model="other") for _ in range(200)] + [make_event()])
    (result,) = predict(srv, QUERY)
    assert (result["metadata"]["fallback_level"], result["metadata"]["sample_size"]) == (0, 1)


def test_percentiles_are_nearest_rank(srv: Any) -> None:
    events = [
        make_event(
            actual_input_tokens=v * 10,
            actual_output_tokens=v,
            actual_cost_usd_micros=v * 100,
            task_duration_ms=v * 1000,
        )
        for v in (7, 3, 10, 1, 5, 9, 2, 8, 4, 6)  # 1..10, stored out of order
    ]
    store(srv, events)
    (result,) = predict(srv, QUERY)
    prediction = result["prediction"]
    # nearest rank over n=10: ranks ceil(p*10/100) = 1, 3, 5, 8, 9
    assert prediction["output_tokens"] == {"p10": 1, "p25": 3, "median": 5, "p75": 8, "p90": 9}
    assert prediction["input_tokens"] == {"p10": 10, "p25": 30, "median": 50, "p75": 80, "p90": 90}
    assert prediction["cost_usd_micros"] == {"median": 500}
    assert prediction["duration_ms"] == {"median": 5000}


def test_single_event_percentiles(srv: Any) -> None:
    store(srv, [make_event(actual_input_tokens=42)])
    (result,) = predict(srv, QUERY)
    assert set(result["prediction"]["input_tokens"].values()) == {42}


def test_correction_factors_rates_and_last_updated(srv: Any) -> None:
    before = datetime.now(timezone.utc)
    store(
        srv,
        [
            make_event(estimated_input_tokens=100, actual_input_tokens=150,
                       estimated_output_tokens=0, actual_output_tokens=999,
                       quality_gate_passed=True, outcome="success"),
            make_event(estimated_input_tokens=300, actual_input_tokens=250,
                       estimated_output_tokens=200, actual_output_tokens=100,
                       quality_gate_passed=False, outcome="failure"),
            make_event(estimated_input_tokens=0, actual_input_tokens=7777,
                       estimated_output_tokens=200, actual_output_tokens=300,
                       quality_gate_passed=True, outcome="partial"),
            make_event(quality_gate_passed=False, outcome="success",
                       estimated_input_tokens=0, actual_input_tokens=1,
                       estimated_output_tokens=0, actual_output_tokens=1),
        ],
    )  # fmt: skip
    (result,) = predict(srv, QUERY)
    prediction = result["prediction"]
    assert prediction["correction_factors"] == {"input": 400 / 400, "output": 400 / 400}
    assert prediction["quality"] == {"gate_pass_rate": 0.5, "success_rate": 0.5}
    updated = datetime.fromisoformat(result["metadata"]["last_updated"].replace("Z", "+00:00"))
    assert updated.utcoffset() is not None
    assert before <= updated <= datetime.now(timezone.utc)


def test_correction_factors_are_sums_not_means(srv: Any) -> None:
    store(srv, [
        make_event(estimated_input_tokens=100, actual_input_tokens=200,
                   estimated_output_tokens=10, actual_output_tokens=5),
        make_event(estimated_input_tokens=900, actual_input_tokens=900,
                   estimated_output_tokens=30, actual_output_tokens=35),
    ])  # fmt: skip
    (result,) = predict(srv, QUERY)
    assert result["prediction"]["correction_factors"] == {"input": 1100 / 1000, "output": 40 / 40}


def test_correction_factors_default_to_one(srv: Any) -> None:
    store(srv, [make_event(estimated_input_tokens=0, estimated_output_tokens=0)])
    (result,) = predict(srv, QUERY)
    assert result["prediction"]["correction_factors"] == {"input": 1.0, "output": 1.0}


def test_cache_hit_and_invalidation(srv: Any) -> None:
    event = make_event()
    store(srv, [event])
    other = {**QUERY, "model": "other"}
    first, first_other = predict(srv, QUERY, other)
    assert (first["metadata"]["cache_hit"], first_other["metadata"]["cache_hit"]) == (False, False)
    again, again_dup = predict(srv, QUERY, QUERY)
    assert again["metadata"]["cache_hit"] is True
    assert again_dup["metadata"]["cache_hit"] is True
    assert {**again["metadata"], "cache_hit": False} == first["metadata"]
    store(srv, [event])  # a re-sent event changes nothing: the cache stays valid
    assert predict(srv, QUERY)[0]["metadata"]["cache_hit"] is True
    store(srv, [make_event()])  # a new event invalidates every entry
    fresh, fresh_other = predict(srv, QUERY, other)
    assert fresh["metadata"]["cache_hit"] is False
    assert fresh_other["metadata"]["cache_hit"] is False
    assert fresh["metadata"]["sample_size"] == 2


def test_results_in_query_order_and_public(srv: Any) -> None:
    store(srv, [make_event(), make_event(task_type="testing", model="x")])
    queries = [
        {**QUERY, "task_type": "testing", "model": "x"},
        QUERY,
        {**QUERY, "task_type": "debugging"},
    ]
    for headers in (None, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic x"}):
        results = predict(srv, *queries, headers=headers)
        assert [r["metadata"]["confidence"] for r in results] == ["low", "low", "none"]
        assert results[0]["metadata"]["dimensions_matched"]["task_type"] == "testing"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"queries": []},
        {"queries": [QUERY] * 51},
        {"queries": [{**QUERY, "extra": 1}]},
        {"queries": [{**QUERY, "task_type": "nope"}]},
        {"queries": [{**QUERY, "model": ""}]},
        {"queries": [QUERY], "more": True},
        [QUERY],
    ],
)
def test_invalid_prediction_request_is_422(srv: Any, body: Any) -> None:
    response = httpx.post(srv.url + PREDICT, json=body)
    assert response.status_code == 422
    assert all(set(item) == {"loc", "msg", "type"} for item in response.json()["detail"])


def test_fifty_queries_and_malformed_json(srv: Any) -> None:
    assert len(predict(srv, *[{**QUERY, "model": str(uuid.uuid4())} for _ in range(50)])) == 50
    json_header = {"Content-Type": "application/json"}
    assert httpx.post(srv.url + PREDICT, content=b"{nope", headers=json_header).status_code == 400
