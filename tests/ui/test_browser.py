"""The page in a real browser: headless Chromium driven by Playwright, fed by the real SDK.

Events tracked through a `TelemetryClient` appear without a reload; one opens to its JSON; a
rejected event's reason shows in the request log; a prediction is drawn. A screenshot of each
state is saved in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.ui._workload import INSTANCE, KEY, task
from tests.ui.conftest import screenshot

from mosaicstack_telemetry import TelemetryClient, TelemetryConfig
from mosaicstack_telemetry.server import RequestRecord

pytestmark = pytest.mark.timeout(180)

WRONG_INSTANCE = str(uuid.uuid4())


def _config(url: str) -> TelemetryConfig:
    return TelemetryConfig(
        server_url=url,
        api_key=KEY,
        instance_id=INSTANCE,
        batch_size=25,
        submit_interval_seconds=0.2,
    )


def test_events_appear_live_open_reject_and_predict(srv: Any, page: Any) -> None:
    page.goto(srv.url + "/")
    page.wait_for_selector("html[data-first-render]")
    assert page.locator("#events-empty").is_visible()
    assert "No events stored yet" in page.locator("#events-empty").inner_text()
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads

    rng = random.Random(17)
    sent = [task(rng) for _ in range(120)]
    # An integration bug the page makes visible: events carrying another instance's id.
    strays = [task(rng, instance_id=WRONG_INSTANCE) for _ in range(2)]
    with TelemetryClient(_config(srv.url)) as client:
        for event in sent[:60]:
            client.track(event)
        for event in strays:
            client.track(event)
        for event in sent[60:]:
            client.track(event)
    stats = client.stats()
    assert (stats.sent, stats.rejected) == (120, 2), stats

    # Live: the table fills and the counters move, in the same document (no reload).
    expect(page.locator("#events tbody tr")).to_have_count(100, timeout=15_000)
    assert page.evaluate("window.__sameDocument") is True
    stats = page.locator("#stats").inner_text()
    assert re.search(r"120\s+events stored", stats), stats
    assert re.search(r"2\s+rejected", stats), stats
    newest = page.locator("#events tbody tr").first
    ids = {str(e.event_id) for e in sent}
    assert newest.get_attribute("data-key").split("/")[1] in ids
    counts = page.locator("#counts").inner_text()
    assert "claude-sonnet-4-5-20250929" in counts
    assert "success" in counts

    # A rejected event's reason, per event, in the request that carried it.
    rejected = page.locator("#requests li", has=page.locator(".badge.rejected")).first
    rejected.locator("summary").click()
    reasons = rejected.locator(".reasons")
    reasons.wait_for()
    text = reasons.inner_text()
    assert "instance_id is not the instance bound to the API key" in text
    assert str(strays[0].event_id)[:8] in text

    # Open an event: its JSON, as the server stored it.
    key = newest.get_attribute("data-key")
    newest.click()
    expect(page.locator("#drawer-json")).to_have_text(re.compile(r"^\s*\{"))
    shown = json.loads(page.locator("#drawer-json").inner_text())
    stored = {e["event_id"]: e for e in srv.stored_events()}
    assert shown == stored[key.split("/")[1]]
    assert "in 1 request" in page.locator("#drawer-facts").inner_text()
    screenshot(page, "ui-event.png", full_page=False)
    page.keyboard.press("Escape")
    assert page.locator("#drawer").is_hidden()

    # A prediction for the most frequent combination: its distributions drawn, in words.
    page.select_option("#combo", index=1)
    expect(page.locator("#charts svg line.median")).to_have_count(4)
    verdict = page.locator("#verdict").inner_text()
    assert "Exact match" in verdict
    assert "confidence" in verdict.lower()
    charts = page.locator("#charts .chart")
    assert charts.count() == 4
    for metric in ("input_tokens", "output_tokens", "duration_ms", "cost_usd_micros"):
        chart = page.locator(f'#charts .chart[data-metric="{metric}"]')
        assert chart.locator("rect.hist").count() > 0, metric  # the matched events' histogram
        assert "median" in chart.inner_text()
    token_chart = page.locator('#charts .chart[data-metric="input_tokens"]')
    assert token_chart.locator("rect.band").count() == 1  # p25-p75 of the answer
    raw = json.loads(page.locator("#prediction details.raw pre").text_content())
    assert raw["metadata"]["fallback_level"] == 0
    assert raw["metadata"]["sample_size"] >= 50
    screenshot(page, "ui.png")

    # A model it never saw: the fallback, in words.
    page.fill("#q-model", "claude-opus-4-1")
    page.select_option("#q-provider", "anthropic")
    page.click("#predict")
    page.wait_for_selector("#fallback-words >> text=Fallback level 1")
    assert "no events for model claude-opus-4-1" in page.locator("#fallback-words").inner_text()

    # Nothing of the page's own polling reached the request log.
    assert not [r for r in srv.requests if r.path == "/" or r.path.startswith("/ui")]


def test_any_per_event_status_the_server_gives_is_shown(srv: Any, page: Any) -> None:
    """The page shows per-event statuses and fields generically: "duplicate" (per-instance
    idempotency) and fields such as `code`, or a status it has never heard of."""
    state = srv.app.state.telemetry
    duplicate_id, odd_id = str(uuid.uuid4()), str(uuid.uuid4())
    state.record(
        RequestRecord(
            "POST",
            "/v1/events/batch",
            202,
            None,
            at=1_796_000_000.0,
            duration_ms=1.5,
            instance=INSTANCE,
            client="mosaicstack-telemetry-python/0.1.0",
            counts={"accepted": 3, "duplicate": 1, "quarantined": 1},
            results=(
                {
                    "index": 1,
                    "event_id": duplicate_id,
                    "status": "duplicate",
                    "code": "already_stored",
                    "error": None,
                },
                {
                    "index": 4,
                    "event_id": odd_id,
                    "status": "quarantined",
                    "code": "held",
                    "error": "held for review",
                    "until": "tomorrow",
                },
            ),
        )
    )
    page.goto(srv.url + "/")
    page.wait_for_selector("html[data-first-render]")
    stats = page.locator("#stats").inner_text()
    assert re.search(r"1\s+duplicate", stats), stats
    assert re.search(r"1\s+quarantined", stats), stats
    item = page.locator("#requests li").first
    assert "3 accepted" in item.inner_text()
    assert "1 duplicate" in item.inner_text()
    item.locator("summary").click()
    text = item.locator(".reasons").inner_text()
    assert duplicate_id[:8] in text
    assert "already_stored" in text
    assert "held for review" in text
    assert "until: tomorrow" in text
