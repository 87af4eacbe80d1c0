"""Schemathesis runs every operation of the contract against the server over real HTTP.

Positive and negative data, status codes, content types, response headers and schemas, with
zero failures. `MOSAIC_CONTRACT_EXAMPLES` sets examples per operation (scripts/contract runs
more). Positive events data must be answered 202 and predictions 200: a missing or wrong key
cannot pass as success.

The one deliberate exception (decisions.md): an envelope whose *event items* violate the
schema is answered 202 with those events rejected one by one, not with a 4xx. For the events
operation the built-in `negative_data_rejection` is replaced by `per_event_verdicts`, which
demands a 4xx for every invalid envelope and, in a 202, checks each event's verdict against
an independent validator (python-jsonschema over the contract) and the ids this instance has
stored before: `accepted` exactly when new, `duplicate` exactly when stored before.

The server's instance is the one in the contract's examples, so the examples phase stores
them; every positive events case is sent twice, so the second answer must be `duplicate`s;
every case is also sent once as text/plain, which must be 415. The last test checks that all
of this was really exercised.
"""

from __future__ import annotations

import json
import os
import secrets
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
jsonschema = pytest.importorskip("jsonschema")
yaml = pytest.importorskip("yaml")

from schemathesis.config import SchemathesisConfig  # noqa: E402
from schemathesis.specs.openapi.checks import negative_data_rejection  # noqa: E402

from mosaicstack_telemetry.server import start_server  # noqa: E402

CONTRACT = Path(__file__).resolve().parents[2] / "openapi" / "telemetry-v1.yaml"
EXAMPLES = int(os.environ.get("MOSAIC_CONTRACT_EXAMPLES", "40"))
KEY = secrets.token_hex(32)
EVENTS_OP = "submit_events_batch"
PREDICTIONS_OP = "query_predictions_batch"

CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": int(os.environ.get("MOSAIC_CONTRACT_SEED", "20261124")),
        "generation": {"mode": "all", "max-examples": EXAMPLES},
        "auth": {"openapi": {"bearerAuth": {"bearer": KEY}}},
        "operations": [
            {
                "include-operation-id": EVENTS_OP,
                "checks": {"positive_data_acceptance": {"expected-statuses": ["202"]}},
            },
            {
                "include-operation-id": PREDICTIONS_OP,
                "checks": {"positive_data_acceptance": {"expected-statuses": ["200"]}},
            },
        ],
    }
)
schema = schemathesis.openapi.from_path(CONTRACT, config=CONFIG)

_DOC = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
_COMPONENTS = {"components": _DOC["components"]}
_EVENT = jsonschema.Draft202012Validator(
    {"$ref": "#/components/schemas/TaskCompletionEvent", **_COMPONENTS},
    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
)
_ENVELOPE_SCHEMA = json.loads(json.dumps(_DOC["components"]["schemas"]["BatchEventRequest"]))
_ENVELOPE_SCHEMA["properties"]["events"].pop("items")
_ENVELOPE = jsonschema.Draft202012Validator(_ENVELOPE_SCHEMA)
_ERROR = jsonschema.Draft202012Validator(
    {"$ref": "#/components/schemas/ErrorResponse", **_COMPONENTS}
)
# The instance of the contract's own request examples: the examples phase stores them.
_EXAMPLE = _DOC["paths"]["/v1/events/batch"]["post"]["requestBody"]["content"]["application/json"]
INSTANCE = next(iter(_EXAMPLE["examples"].values()))["value"]["events"][0]["instance_id"]

# What the run exercised, checked by the last test. STORED: each id this instance has stored,
# with the answer that first reported it accepted (a check may be run on one answer twice).
SEEN: Counter[str] = Counter()
STORED: dict[str, bytes] = {}


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    with start_server(keys={KEY: INSTANCE}) as srv:
        yield srv.url


def _sent_body(response: Any) -> Any:
    body = response.request.body
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


@schemathesis.check
def per_event_verdicts(ctx: Any, response: Any, case: Any) -> bool | None:
    """Events operation: a 4xx for an invalid envelope; in a 202, an event is rejected exactly
    when it violates the schema or belongs to another instance."""
    body = _sent_body(response)
    envelope_ok = isinstance(body, dict) and _ENVELOPE.is_valid(body)
    status = response.status_code
    if not envelope_ok:
        if case.meta is not None and case.meta.generation.mode.is_negative and status == 202:
            raise AssertionError(f"an invalid envelope was accepted: {body!r:.300}")
        return None
    SEEN[str(status)] += 1
    if status != 202:
        return None
    answer = response.content
    results = json.loads(answer)["results"]
    assert len(results) == len(body["events"]), "one result per event"
    for index, (event, result) in enumerate(zip(body["events"], results, strict=True)):
        SEEN[result["status"]] += 1
        assert result["index"] == index
        valid = _EVENT.is_valid(event)
        if not valid or str(uuid.UUID(event["instance_id"])) != INSTANCE:
            assert result["status"] == "rejected", f"should be rejected: {event!r:.300}"
            assert result["code"] in ("invalid_event", "instance_mismatch")
            continue
        if "event_id" not in event:  # the server assigns a new id: always stored
            assert result["status"] == "accepted", result
            continue
        key = str(uuid.UUID(event["event_id"]))
        first = STORED.setdefault(key, answer) if result["status"] == "accepted" else None
        if (key in STORED and STORED[key] != answer) or result["status"] == "duplicate":
            assert result["status"] == "duplicate", f"stored before: {event!r:.300} {result}"
            assert key in STORED, f"a duplicate of an id never stored: {result}"
        else:
            assert result["status"] == "accepted", result
            assert first == answer, result
    return None


@schema.parametrize()
def test_contract(case: Any, live_url: str) -> None:
    if case.operation.definition.raw.get("operationId") == EVENTS_OP:
        checks: dict[str, Any] = {
            "excluded_checks": [negative_data_rejection],
            "additional_checks": [per_event_verdicts],
        }
        response = case.call_and_validate(base_url=live_url, **checks)
        if response.status_code == 202:  # the same events again: every stored one is a duplicate
            case.call_and_validate(base_url=live_url, **checks)
    else:
        case.call_and_validate(base_url=live_url)
    # The same body declared as text/plain (with a valid key): 415, in the error shape.
    if isinstance(case.body, (dict, list)):
        path = case.operation.path
        headers = {"Content-Type": "text/plain", "Authorization": f"Bearer {KEY}"}
        refused = httpx.post(live_url + path, content=json.dumps(case.body), headers=headers)
        assert refused.status_code == 415, refused.text
        assert "415" in case.operation.definition.raw["responses"]
        _ERROR.validate(refused.json())
        SEEN["415"] += 1


def test_the_run_covered_every_status() -> None:
    """Runs after test_contract (file order): the contract's statuses were all exercised."""
    if not SEEN:
        pytest.skip("test_contract did not run (deselected)")
    for status in ("accepted", "rejected", "duplicate", "202", "415"):
        assert SEEN[status], f"schemathesis never saw {status}: {dict(SEEN)}"
    # The examples phase ran: the contract's example events were stored.
    examples = next(iter(_EXAMPLE["examples"].values()))["value"]["events"]
    assert {e["event_id"] for e in examples} <= set(STORED), "the examples were not sent"
