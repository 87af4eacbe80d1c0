"""Events over real HTTP: auth before the body, body limits, envelope 422, per-event verdicts,
wrong instance, idempotency, the served contract and /healthz."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from tests.server._helpers import AUTH, INSTANCE, JSON_AUTH, KEY, make_event

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "telemetry-v1.yaml"
EVENTS = "/v1/events/batch"
NIL = "00000000-0000-0000-0000-000000000000"


def post(srv: Any, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(srv.url + EVENTS, json=body, headers=AUTH if headers is None else headers)


def raw_exchange(srv: Any, head: bytes) -> bytes:
    """Send only a request head (no body) and read the answer: proves what the server decided
    without reading the body."""
    host, port = srv.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head)
        data = b""
        for _ in range(100):  # bounded: the answer is small
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                header, _, rest = data.partition(b"\r\n\r\n")
                length = [
                    int(line.split(b":")[1])
                    for line in header.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ]
                if length and len(rest) >= length[0]:
                    break
        return data


def test_healthz_and_openapi(srv: Any) -> None:
    assert httpx.get(srv.url + "/healthz").json() == {"status": "ok"}
    served = httpx.get(srv.url + "/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/json")
    assert served.json() == yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": ""}, 401),
        ({"Authorization": f"Basic {KEY}"}, 401),
        ({"Authorization": "Bearer"}, 401),
        ({"Authorization": "Bearer abc"}, 401),
        ({"Authorization": f"Bearer {KEY}x"}, 401),
        ({"Authorization": f"Bearer {KEY[:-1]}g"}, 401),
        ({"Authorization": f"Bearer {secrets.token_hex(32)}"}, 403),
        ({"Authorization": f"Bearer {secrets.token_hex(32).upper()}"}, 403),
    ],
)
def test_auth_is_checked_whatever_the_body(srv: Any, headers: dict[str, str], status: int) -> None:
    for content in (b"not json", json.dumps({"events": [make_event()]}).encode()):
        response = httpx.post(srv.url + EVENTS, content=content, headers=headers)
        assert response.status_code == status
        assert isinstance(response.json()["detail"], str)
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert srv.event_count() == 0


def test_key_either_case_and_scheme_any_case(srv: Any) -> None:
    for header in (f"Bearer {KEY.upper()}", f"bearer {KEY}", f"BEARER  {KEY}"):
        response = post(srv, {"events": [make_event()]}, {"Authorization": header})
        assert response.status_code == 202, header
    assert srv.event_count() == 3


def test_auth_before_the_body_is_read(srv: Any) -> None:
    """A head announcing 100 MB that never arrives: the server answers 401/403 at once."""
    for auth, status in ((b"", b"401"), (f"Authorization: Bearer {'0' * 64}\r\n".encode(), b"403")):
        head = (
            b"POST /v1/events/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + auth
            + b"Content-Length: 100000000\r\n\r\n"
        )
        answer = raw_exchange(srv, head)
        assert answer.startswith(b"HTTP/1.1 " + status), answer[:200]


def test_content_length_over_the_limit_is_413_unread(srv: Any) -> None:
    head = (
        b"POST /v1/events/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {KEY}\r\nContent-Length: {3 * 1024 * 1024}\r\n\r\n".encode()
    )
    assert raw_exchange(srv, head).startswith(b"HTTP/1.1 413")
    predictions = (
        b"POST /v1/predictions/batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 99999999\r\n\r\n"
    )
    assert raw_exchange(srv, predictions).startswith(b"HTTP/1.1 413")


def test_body_over_the_limit_is_413(srv: Any) -> None:
    big = b'{"events": [' + b" " * (2 * 1024 * 1024) + b"]}"
    response = httpx.post(srv.url + EVENTS, content=big, headers=JSON_AUTH)
    assert response.status_code == 413
    assert "detail" in response.json()

    def chunks() -> Any:  # no Content-Length: enforced while reading
        for _ in range(40):
            yield b" " * 65536

    response = httpx.post(srv.url + EVENTS, content=chunks(), headers=JSON_AUTH)
    assert response.status_code == 413
    assert response.request.headers.get("transfer-encoding") == "chunked"
    # and the connection still serves the next request
    assert post(srv, {"events": [make_event()]}).status_code == 202


def test_a_full_batch_near_one_mib_is_accepted(srv: Any) -> None:
    events = [make_event(model="m" * 100, language="x" * 30) for _ in range(100)]
    body = {"events": events}
    padded = json.dumps(body, indent=2).encode()
    padded += b" " * (1024 * 1024 - len(padded))
    response = httpx.post(srv.url + EVENTS, content=padded, headers=JSON_AUTH)
    assert response.status_code == 202
    assert response.json()["accepted"] == 100


@pytest.mark.parametrize("content", [b"", b"{", b"{'events': []}", b"\xff\xfe", b'{"events": NaN}'])
def test_malformed_json_is_400(srv: Any, content: bytes) -> None:
    response = httpx.post(srv.url + EVENTS, content=content, headers=JSON_AUTH)
    assert response.status_code == 400
    assert response.json() == {"detail": "the body is not valid JSON"}


@pytest.mark.parametrize(
    "body",
    [
        [],
        "events",
        {},
        {"events": {}},
        {"events": "x"},
        {"events": []},
        {"events": [make_event() for _ in range(101)]},
        {"events": [make_event()], "extra": 1},
    ],
)
def test_invalid_envelope_is_422(srv: Any, body: Any) -> None:
    response = post(srv, body)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail
    assert all(set(item) == {"loc", "msg", "type"} for item in detail)
    assert all(item["loc"][0] == "body" for item in detail)
    assert srv.event_count() == 0


def test_each_event_is_judged_on_its_own(srv: Any) -> None:
    good = make_event()
    other_instance = make_event(instance_id=str(uuid.uuid4()))
    bad_value = make_event(task_duration_ms=-1)
    extra_key = make_event(surprise=True)
    unreadable = {"event_id": 42}
    not_an_object = "event"
    no_id = make_event()
    del no_id["event_id"]
    upper = make_event(instance_id=INSTANCE.upper())
    batch = [good, other_instance, bad_value, extra_key, unreadable, not_an_object, no_id, upper]
    response = post(srv, {"events": batch})
    assert response.status_code == 202
    body = response.json()
    results = body["results"]
    assert [r["status"] for r in results] == [
        "accepted",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "rejected",
        "accepted",
        "accepted",
    ]
    assert (body["accepted"], body["rejected"], body["duplicate"]) == (3, 5, 0)
    assert results[0] == {
        "index": 0,
        "event_id": good["event_id"],
        "status": "accepted",
        "code": None,
        "error": None,
    }
    assert [r["index"] for r in results] == list(range(len(batch)))
    assert [r["code"] for r in results] == [
        None,
        "instance_mismatch",
        "invalid_event",
        "invalid_event",
        "invalid_event",
        "invalid_event",
        None,
        None,
    ]
    assert results[1]["event_id"] == other_instance["event_id"]
    assert "instance" in results[1]["error"]
    assert "task_duration_ms" in results[2]["error"]
    assert "surprise" in results[3]["error"]
    assert results[4]["event_id"] == NIL
    assert results[5]["event_id"] == NIL
    assigned = results[6]["event_id"]
    assert uuid.UUID(assigned).version == 4
    stored = {e["event_id"]: e for e in srv.stored_events()}
    assert set(stored) == {good["event_id"], assigned, upper["event_id"]}
    assert stored[good["event_id"]] == good  # the JSON the client sent


def test_a_resent_event_is_a_duplicate_and_stored_once(srv: Any) -> None:
    event = make_event()
    twice = make_event()
    first = post(srv, {"events": [event, twice, twice]})
    changed = make_event(event_id=event["event_id"].upper(), model="another-model")
    second = post(srv, {"events": [event, changed]})
    assert [r["status"] for r in first.json()["results"]] == ["accepted", "accepted", "duplicate"]
    assert [r["status"] for r in second.json()["results"]] == ["duplicate"] * 2
    assert (second.json()["accepted"], second.json()["duplicate"]) == (0, 2)
    assert all(r["code"] is None and r["error"] is None for r in second.json()["results"])
    assert srv.event_count() == 2
    # The first stored copy wins: the re-send with other fields changed nothing.
    stored = {e["event_id"]: e for e in srv.stored_events()}
    assert stored[event["event_id"]]["model"] == event["model"]
    assert sorted(e["event_id"] for e in srv.stored_events()) == sorted(
        [event["event_id"], twice["event_id"]]
    )


def test_concurrent_clients_are_all_stored(srv: Any) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=srv.url, headers=AUTH) as client:
            for _ in range(10):
                events = [make_event() for _ in range(20)]
                assert client.post(EVENTS, json={"events": events}).status_code == 202
                with lock:
                    ids.extend(e["event_id"] for e in events)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert srv.event_count() == len(ids) == 1600
    assert {e["event_id"] for e in srv.stored_events()} == set(ids)
    assert len(srv.requests) == 80


def test_unknown_path_and_method_answer_json(srv: Any) -> None:
    missing = httpx.get(srv.url + "/nope")
    assert missing.status_code == 404
    assert "detail" in missing.json()
    wrong = httpx.get(srv.url + EVENTS)
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"


def test_bad_keys_are_refused_at_start() -> None:
    from mosaicstack_telemetry.server import create_app

    with pytest.raises(ValueError, match="64 hexadecimal"):
        create_app({"short": INSTANCE})
    with pytest.raises(ValueError, match="UUID"):
        create_app({KEY: "not-a-uuid"})


def test_the_server_imports_no_sdk_module() -> None:
    """It validates with the contract alone: no import of the client, sender, transport or
    models (the parent package's own __init__ aside)."""
    import ast

    package = Path(__file__).resolve().parents[2] / "src" / "mosaicstack_telemetry" / "server"
    imported: set[str] = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    sdk = {m for m in imported if m.split(".")[0] in {"mosaicstack_telemetry", "pydantic"}}
    assert sdk, "the scan found the server's own imports"
    assert all(m.startswith("mosaicstack_telemetry.server") for m in sdk), sdk
