"""Contract 1.1 on the server: per-instance idempotency, 415, bounded error bodies, `index` and
`code` per result, and no 500 for anything a client can send (issues 13 and 14)."""

from __future__ import annotations

import copy
import json
import secrets
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.server._helpers import AUTH, INSTANCE, JSON_AUTH, KEY, make_event

server_mod = pytest.importorskip("mosaicstack_telemetry.server")

EVENTS = "/v1/events/batch"
PREDICT = "/v1/predictions/batch"
OTHER_KEY = secrets.token_hex(32)
OTHER_INSTANCE = str(uuid.uuid4())
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_KEY}"}


@pytest.fixture
def two() -> Iterator[Any]:
    """A server that knows two keys, each bound to its own instance."""
    with server_mod.start_server(keys={KEY: INSTANCE, OTHER_KEY: OTHER_INSTANCE}) as running:
        yield running


def post(srv: Any, events: list[Any], auth: dict[str, str] = AUTH) -> dict[str, Any]:
    response = httpx.post(srv.url + EVENTS, json={"events": events}, headers=auth)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


# --- idempotency is per instance -------------------------------------------------------------


def test_the_same_event_id_from_two_instances_is_two_events(two: Any) -> None:
    shared = str(uuid.uuid4())
    mine = make_event(event_id=shared, model="model-of-a")
    theirs = make_event(event_id=shared, instance_id=OTHER_INSTANCE, model="model-of-b")
    assert [r["status"] for r in post(two, [mine])["results"]] == ["accepted"]
    # B is told `accepted`, exactly as if A had never sent that id: nothing leaks.
    answer = post(two, [theirs], OTHER_AUTH)
    assert answer["results"] == [
        {"index": 0, "event_id": shared, "status": "accepted", "code": None, "error": None}
    ]
    assert (answer["accepted"], answer["duplicate"]) == (1, 0)
    stored = sorted((e["instance_id"], e["model"]) for e in two.stored_events())
    assert stored == sorted([(INSTANCE, "model-of-a"), (OTHER_INSTANCE, "model-of-b")])
    # Each instance's own re-send is its own duplicate.
    assert post(two, [mine])["results"][0]["status"] == "duplicate"
    assert post(two, [theirs], OTHER_AUTH)["results"][0]["status"] == "duplicate"
    assert two.event_count() == 2


def test_an_answer_is_the_same_whatever_another_instance_stored(two: Any) -> None:
    """B's answer for an id A stored equals B's answer for a fresh id: status, code, error."""
    taken = make_event()
    post(two, [taken])
    probe = make_event(event_id=taken["event_id"], instance_id=OTHER_INSTANCE)
    fresh = make_event(instance_id=OTHER_INSTANCE)
    first, second = post(two, [probe, fresh], OTHER_AUTH)["results"]
    assert {**first, "event_id": None, "index": None} == {
        **second,
        "event_id": None,
        "index": None,
    }


def test_an_event_for_another_instance_is_rejected_before_any_lookup(two: Any) -> None:
    """Sending A's instance_id with B's key is rejected the same way whether or not A has that
    id: the duplicate check never runs for an event the key does not own."""
    stored = make_event()
    post(two, [stored])
    spoof_known = make_event(event_id=stored["event_id"])  # A's instance and A's id
    spoof_new = make_event()  # A's instance, a new id
    results = post(two, [spoof_known, spoof_new], OTHER_AUTH)["results"]
    assert [(r["status"], r["code"]) for r in results] == [("rejected", "instance_mismatch")] * 2
    assert results[0]["error"] == results[1]["error"]


def test_counts_add_up_and_index_matches_a_nil_id(two: Any) -> None:
    kept = make_event()
    post(two, [kept])
    no_id = {"model": "x"}
    answer = post(two, [make_event(), no_id, kept, make_event(task_duration_ms=-5)])
    assert [r["status"] for r in answer["results"]] == [
        "accepted",
        "rejected",
        "duplicate",
        "rejected",
    ]
    assert (answer["accepted"], answer["rejected"], answer["duplicate"]) == (1, 2, 1)
    nil = answer["results"][1]
    assert nil["event_id"] == "00000000-0000-0000-0000-000000000000"
    assert nil["index"] == 1  # the client can tell which event it was
    assert nil["code"] == "invalid_event"


def test_a_database_file_keeps_per_instance_idempotency_across_restarts(tmp_path: Any) -> None:
    db = str(tmp_path / "events.sqlite3")
    event = make_event()
    with server_mod.start_server(keys={KEY: INSTANCE}, db=db) as first:
        assert post(first, [event])["results"][0]["status"] == "accepted"
    with server_mod.start_server(keys={KEY: INSTANCE}, db=db) as second:
        assert post(second, [event])["results"][0]["status"] == "duplicate"
        assert second.event_count() == 1


# --- media type ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "multipart/form-data", "application/x-www-form-urlencoded", "json"],
)
@pytest.mark.parametrize("path", [EVENTS, PREDICT])
def test_anything_but_json_is_415(srv: Any, path: str, content_type: str | None) -> None:
    body = json.dumps({"events": [make_event()]}).encode()
    headers = dict(AUTH)
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = httpx.post(srv.url + path, content=body, headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert srv.event_count() == 0


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON", "application/json; charset=utf-8"]
)
def test_json_with_parameters_is_accepted(srv: Any, content_type: str) -> None:
    body = json.dumps({"events": [make_event()]}).encode()
    headers = {**AUTH, "Content-Type": content_type}
    assert httpx.post(srv.url + EVENTS, content=body, headers=headers).status_code == 202


def test_auth_comes_before_the_media_type(srv: Any) -> None:
    response = httpx.post(srv.url + EVENTS, content=b"x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 401


# --- bounded error bodies --------------------------------------------------------------------


def test_101_events_get_a_small_422(srv: Any) -> None:
    """The issue's case: 101 events (56 KB) used to get a 422 repeating the whole array."""
    events = [make_event() for _ in range(101)]
    response = httpx.post(srv.url + EVENTS, json={"events": events}, headers=AUTH)
    assert response.status_code == 422
    assert len(response.content) < 2_000, len(response.content)
    for item in response.json()["detail"]:
        assert len(item["msg"]) <= 300


def test_huge_values_do_not_make_huge_errors(srv: Any) -> None:
    huge = "x" * 200_000
    event = make_event(model=huge, language=huge, surprise=huge)
    event[huge[:5000]] = 1  # an unknown key that is itself long
    answer = post(srv, [event])
    error = answer["results"][0]["error"]
    assert answer["results"][0]["status"] == "rejected"
    assert len(error) <= 500
    # An envelope that is wrong in many ways at once: at most 20 items, each bounded.
    body = {f"k{i}{huge[:3000]}": huge[:15_000] for i in range(50)}  # 900 KB: under 1 MiB
    response = httpx.post(srv.url + EVENTS, json=body, headers=AUTH)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert len(detail) <= 20
    for item in detail:
        assert len(item["msg"]) <= 300
        assert len(item["loc"]) <= 16
        assert all(len(p) <= 100 for p in item["loc"] if isinstance(p, str))
    assert len(response.content) < 20_000
    queries = httpx.post(srv.url + PREDICT, json={"queries": [{"model": huge[:15_000]}] * 60})
    assert queries.status_code == 422
    assert len(queries.content) < 20_000


# --- no 500, whatever the event (issue 13, item 5) -------------------------------------------


def _retyped(value: Any) -> list[Any]:
    """Values of other JSON types than `value`'s."""
    others: list[Any] = ["text", 7, 1.5, True, None, [], {}, [1], {"a": 1}, 10**30, -1]
    return [o for o in others if type(o) is not type(value)]


def _variants() -> list[tuple[str, dict[str, Any]]]:
    base = make_event()
    cases: list[tuple[str, dict[str, Any]]] = []
    for field, value in base.items():
        removed = copy.deepcopy(base)
        del removed[field]
        cases.append((f"{field} removed", removed))
        renamed = copy.deepcopy(base)
        renamed[f"{field}_renamed"] = renamed.pop(field)
        cases.append((f"{field} renamed", renamed))
        for i, other in enumerate(_retyped(value)):
            retyped = copy.deepcopy(base)
            retyped[field] = other
            cases.append((f"{field} retyped #{i}", retyped))
    for _, event in cases:  # each its own event, so none is another's duplicate
        if isinstance(event.get("event_id"), str):
            event["event_id"] = str(uuid.uuid4())
    return cases


VARIANTS = _variants()


def test_every_field_renamed_removed_or_retyped_is_answered_without_a_500(srv: Any) -> None:
    """Each variant is judged (202: accepted or rejected), never a server error."""
    statuses = {}
    for start in range(0, len(VARIANTS), 100):
        chunk = VARIANTS[start : start + 100]
        answer = post(srv, [event for _, event in chunk])
        for (name, _), result in zip(chunk, answer["results"], strict=True):
            statuses[name] = result["status"]
    assert len(statuses) == len(VARIANTS) > 200
    assert set(statuses.values()) <= {"accepted", "rejected", "duplicate"}
    # Removing an optional field is fine; renaming any field breaks additionalProperties.
    assert statuses["language removed"] == "accepted"
    assert statuses["model removed"] == "rejected"
    assert statuses["model renamed"] == "rejected"
    assert statuses["task_duration_ms retyped #0"] == "rejected"
    assert not [r for r in srv.requests if r.status is not None and r.status >= 500]


def test_predictions_without_a_500_for_retyped_queries(srv: Any) -> None:
    query = {"task_type": "testing", "model": "m", "provider": "openai", "complexity": "low"}
    for field, value in query.items():
        for other in _retyped(value):
            body = {"queries": [{**query, field: other}]}
            response = httpx.post(srv.url + PREDICT, json=body, headers=JSON_AUTH)
            assert response.status_code == 422, (field, other)


def test_a_store_the_contract_no_longer_matches_fails_at_start() -> None:
    """A contract whose `model` was renamed: the server refuses to start with the place to
    change, instead of answering 500 (KeyError) to every valid event (issue 13's table)."""
    from mosaicstack_telemetry.server._store import check_contract
    from mosaicstack_telemetry.server._validate import contract

    event = copy.deepcopy(contract()["components"]["schemas"]["TaskCompletionEvent"])
    check_contract(event)  # today's contract matches
    event["properties"]["model_id"] = event["properties"].pop("model")
    event["required"] = ["model_id" if r == "model" else r for r in event["required"]]
    with pytest.raises(ValueError, match=r"'model'.*server/_store\.py"):
        check_contract(event)
    optional = copy.deepcopy(contract()["components"]["schemas"]["TaskCompletionEvent"])
    optional["required"].remove("outcome")
    with pytest.raises(ValueError, match="'outcome' is optional"):
        check_contract(optional)
