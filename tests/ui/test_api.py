"""The page's JSON and assets over real HTTP (no browser): what they show, that they are
read-only and local, and that no API key ever appears in them."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.ui._workload import INSTANCE, KEY, stored_rows

from mosaicstack_telemetry.server import start_server
from mosaicstack_telemetry.server._ui import host_is_local

AUTH = {"Authorization": f"Bearer {KEY}"}
EVENTS = "/v1/events/batch"


def _events(n: int, **changes: Any) -> list[dict[str, Any]]:
    events = [e for _, e in stored_rows(n, seed=uuid.uuid4().int)]
    return [{**e, **changes} for e in events]


def _state(url: str, **params: str) -> dict[str, Any]:
    response = httpx.get(url + "/ui/api/state", params=params)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("database", ["memory", "file"])
def test_state_shows_events_counts_requests_and_reasons(tmp_path: Path, database: str) -> None:
    db = ":memory:" if database == "memory" else str(tmp_path / "events.sqlite3")
    with start_server(keys={KEY: INSTANCE}, db=db) as srv:
        empty = _state(srv.url)
        assert empty["total"] == 0
        assert empty["events"] == []
        assert empty["requests"]["items"] == []

        first, second = _events(3), _events(2)
        stray = {**_events(1)[0], "instance_id": str(uuid.uuid4())}
        invalid = {**_events(1)[0], "task_duration_ms": -5}
        assert httpx.post(srv.url + EVENTS, json={"events": first}, headers=AUTH).is_success
        answer = httpx.post(
            srv.url + EVENTS, json={"events": [*second, stray, invalid]}, headers=AUTH
        ).json()
        assert (answer["accepted"], answer["rejected"]) == (2, 2)

        state = _state(srv.url)
        assert state["server"]["database"] == ("in memory" if database == "memory" else db)
        assert state["total"] == 5
        # Newest first: the second batch, then the first.
        shown = [e["event_id"] for e in state["events"]]
        assert set(shown[:2]) == {e["event_id"] for e in second}
        assert set(shown[2:]) == {e["event_id"] for e in first}
        row = state["events"][0]
        assert set(row) >= {
            "received_at", "instance_id", "task_type", "model", "provider", "outcome",
            "task_duration_ms", "actual_input_tokens", "actual_output_tokens",
            "actual_cost_usd_micros",
        }  # fmt: skip
        models = dict(map(tuple, state["counts"]["model"]["top"]))
        assert sum(models.values()) == 5
        assert sum(n for *_, n in state["combinations"]) == 5
        assert set(state["server"]["choices"]["complexity"]) == {
            "low",
            "medium",
            "high",
            "critical",
        }

        requests = state["requests"]
        assert requests["recorded"] == 2
        assert requests["event_statuses"] == {"accepted": 5, "rejected": 2}
        newest = requests["items"][0]  # newest first
        assert (newest["method"], newest["path"], newest["status"]) == ("POST", EVENTS, 202)
        assert newest["instance"] == INSTANCE
        assert newest["client"].startswith("python-httpx/")
        assert newest["counts"] == {"accepted": 2, "rejected": 2}
        reasons = {r["event_id"]: r for r in newest["results"]}
        assert set(reasons) == {stray["event_id"], invalid["event_id"]}  # not the accepted
        assert reasons[stray["event_id"]]["error"] == (
            "instance_id is not the instance bound to the API key"
        )
        assert reasons[stray["event_id"]]["index"] == 2
        assert "task_duration_ms" in reasons[invalid["event_id"]]["error"]

        # An unchanged server answers a poll with its cursor alone; a change moves it.
        assert _state(srv.url, since=state["cursor"]) == {
            "cursor": state["cursor"],
            "changed": False,
        }
        httpx.post(srv.url + EVENTS, json={"events": _events(1)}, headers=AUTH)
        after = _state(srv.url, since=state["cursor"])
        assert after["changed"] is True
        assert after["total"] == 6
        # Polling is not logged: the request log holds the three event requests only.
        assert [r.path for r in srv.requests] == [EVENTS] * 3


def test_errors_and_prediction_requests_are_logged_with_their_detail(srv: Any) -> None:
    httpx.post(srv.url + EVENTS, json={"events": []}, headers=AUTH)  # 422
    httpx.post(srv.url + EVENTS, json={"events": _events(1)})  # 401
    query = {"task_type": "testing", "model": "m", "provider": "openai", "complexity": "low"}
    httpx.post(srv.url + "/v1/predictions/batch", json={"queries": [query, query]})
    items = _state(srv.url)["requests"]["items"]
    predictions, unauthenticated, invalid = items
    assert invalid["status"] == 422
    assert "events" in invalid["detail"]
    assert unauthenticated["status"] == 401
    assert unauthenticated["detail"] == "missing Authorization header"
    assert unauthenticated["instance"] is None
    assert predictions["counts"] == {"none confidence": 2}


def test_event_detail_is_the_stored_json(srv: Any) -> None:
    event = _events(1)[0]
    for _ in range(2):  # sent twice (a retry): stored once, carried by two requests
        httpx.post(srv.url + EVENTS, json={"events": [event]}, headers=AUTH)
    params = {"instance_id": INSTANCE.upper(), "event_id": event["event_id"]}
    found = httpx.get(srv.url + "/ui/api/event", params=params).json()
    assert found["event"] == event
    assert found["deliveries"] == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", found["received_at"])

    missing = httpx.get(srv.url + "/ui/api/event", params={**params, "event_id": "nope"})
    assert missing.status_code == 404
    assert "no stored event nope" in missing.json()["detail"]
    assert httpx.get(srv.url + "/ui/api/event").status_code == 400


def test_distribution_of_the_matched_events(srv: Any) -> None:
    events = _events(40, task_type="testing", provider="openai")
    events[0]["task_duration_ms"] = 1_000
    events[1]["task_duration_ms"] = 901_000
    for start in (0, 20):
        httpx.post(srv.url + EVENTS, json={"events": events[start : start + 20]}, headers=AUTH)
    params = {"task_type": "testing", "provider": "openai"}
    result = httpx.get(srv.url + "/ui/api/distribution", params=params).json()
    assert result["matched"] == params
    assert result["n"] == 40
    duration = result["metrics"]["task_duration_ms"]
    assert (duration["min"], duration["max"]) == (1_000, 901_000)
    assert sum(duration["bins"]) == 40
    assert duration["bins"][0] >= 1
    assert duration["bins"][-1] >= 1
    for metric in result["metrics"].values():
        assert sum(metric["bins"]) == 40
    none = httpx.get(srv.url + "/ui/api/distribution", params={"task_type": "planning"}).json()
    assert none["n"] == 0
    assert none["metrics"]["task_duration_ms"] == {"min": None, "max": None, "bins": []}
    assert httpx.get(srv.url + "/ui/api/distribution").status_code == 400


def test_page_and_assets_are_served_with_a_strict_policy(srv: Any) -> None:
    for path in ("/", "/ui"):
        page = httpx.get(srv.url + path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "/ui/static/app.js" in page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "default-src 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
    # Nothing is loaded from elsewhere: every src/href is this server's or a data: URL.
    for url in re.findall(r'(?:src|href)="([^"]+)"', httpx.get(srv.url + "/").text):
        assert url.startswith(("/ui/static/", "data:")), url
    script = httpx.get(srv.url + "/ui/static/app.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert ".innerHTML" not in script.text  # event text never becomes markup
    assert httpx.get(srv.url + "/ui/static/app.css").headers["content-type"].startswith("text/css")
    assert httpx.get(srv.url + "/ui/static/index.html").status_code == 404
    assert httpx.get(srv.url + "/ui/static/..%2F_ui.py").status_code == 404
    assert httpx.post(srv.url + "/ui/api/state").status_code == 405  # read-only
    assert srv.requests == []  # the page's own requests are not logged


def test_no_api_key_appears_anywhere_on_the_page(srv: Any) -> None:
    event = _events(1)[0]
    httpx.post(srv.url + EVENTS, json={"events": [event]}, headers=AUTH)
    httpx.post(srv.url + EVENTS, json={"events": [event]}, headers={"Authorization": "Bearer x"})
    other_key = "ab" * 32  # a well-formed key the server does not know (403)
    unknown = {"Authorization": f"Bearer {other_key}"}
    httpx.post(srv.url + EVENTS, json={"events": [event]}, headers=unknown)
    params = {"instance_id": INSTANCE, "event_id": event["event_id"]}
    bodies = [
        httpx.get(srv.url + path, params=query).text
        for path, query in [
            ("/", {}),
            ("/ui/static/app.js", {}),
            ("/ui/static/app.css", {}),
            ("/ui/api/state", {}),
            ("/ui/api/event", params),
            ("/ui/api/distribution", {"task_type": event["task_type"]}),
        ]
    ]
    records = repr(srv.requests)
    for text in [*bodies, records]:
        for secret in (KEY, KEY.upper(), other_key):
            assert secret not in text
        assert not re.search(r"Bearer\s+(?!<)\S", text)  # no header value, only the hint
    assert '"authorization"' not in bodies[3].lower()  # no header is passed through
    assert INSTANCE in bodies[3]  # the instance (not a secret) is shown


def test_the_page_answers_only_to_local_host_names(srv: Any) -> None:
    port = srv.url.rsplit(":", 1)[1]
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.nip.io"):
        refused = httpx.get(srv.url + "/ui/api/state", headers={"Host": host})
        assert refused.status_code == 403
        assert "DNS rebinding" in refused.json()["detail"]
        assert f"http://127.0.0.1:{port}/" in refused.json()["detail"]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", "app.localhost", "[::1]:80", "10.1.2.3"):
        assert httpx.get(srv.url + "/ui/api/state", headers={"Host": host}).status_code == 200
    # The v1 API is not the page's: its own rules apply whatever the Host.
    assert httpx.get(srv.url + "/healthz", headers={"Host": "evil.example"}).status_code == 200


@pytest.mark.parametrize(
    ("host", "local"),
    [
        (None, True),
        ("localhost", True),
        ("LOCALHOST.:8000", True),
        ("x.localhost", True),
        ("127.0.0.1:8000", True),
        ("[::1]:8000", True),
        ("192.168.1.20", True),
        ("example.com", False),
        ("localhost.example.com", False),
        ("[::1", False),
    ],
)
def test_host_is_local(host: str | None, local: bool) -> None:
    assert host_is_local(host) is local
