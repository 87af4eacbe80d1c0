"""Issue 15's config messages and the kill switch's spellings (decisions.md item 1, extended)."""

from __future__ import annotations

import logging

import pytest

from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig
from mosaicstack_telemetry._config import DISABLED_INSTANCE_ID

KEY = "0123456789abcdef" * 4
INSTANCE = "12345678-1234-4234-8234-123456789abc"


@pytest.fixture(autouse=True)
def _no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENABLED", "SERVER_URL", "API_KEY", "INSTANCE_ID", "SPOOL_PATH"):
        monkeypatch.delenv(f"MOSAIC_TELEMETRY_{name}", raising=False)


def valid(**overrides: object) -> TelemetryConfig:
    fields = {"server_url": "http://127.0.0.1:8000", "api_key": KEY, "instance_id": INSTANCE}
    return TelemetryConfig(**{**fields, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("submit_interval_seconds", "5", "must be a positive number (got '5', a str)"),
        ("max_queue_size", "5", "must be a positive integer (got '5', a str)"),
        ("max_queue_size", 2.5, "must be a positive integer (got 2.5)"),
        ("batch_size", 0, "between 1 and 100 (got 0)"),
        ("request_timeout_seconds", None, "must be a positive number (got None)"),
        ("max_retries", "3", "0 or more (got '3', a str)"),
        ("shutdown_timeout_seconds", -1, "must be a positive number (got -1)"),
        ("spool_max_events", True, "must be a positive integer (got True, a bool)"),
        ("prediction_cache_ttl_seconds", "6h", "0 or more (got '6h', a str)"),
        # A str was taken as true: enabled="false" sent events, dry_run="false" sent none.
        ("enabled", "false", "must be True or False (got 'false', a str)"),
        ("dry_run", "false", "must be True or False (got 'false', a str)"),
        ("debug", 1, "must be True or False (got 1)"),
        ("server_url", 123, "must be a URL string (got 123)"),  # was "server_url is required"
        # Not sendable in a header: nothing was ever delivered, and close() raised.
        ("user_agent", "outil-été/1.0", "(character 7 of 'outil-été/1.0' is not printable ASCII)"),
        ("user_agent", None, "must be printable ASCII text (got None)"),
        ("user_agent", "app/1.0 ", "begins or ends with a space, which HTTP does not allow)"),
    ],
)
def test_a_rejected_value_is_quoted_with_its_type(field: str, value: object, expected: str) -> None:
    (message,) = valid(**{field: value}).validate()
    assert message.startswith(f"{field} ")
    assert message.endswith(expected)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("http://", "server_url must name a host after the scheme (got 'http://')"),
        ("https:///", "server_url must name a host after the scheme (got 'https:///')"),
        ("ftp://x", "server_url must start with http:// or https:// (got 'ftp://x')"),
        ("tel-api.example", "must start with http:// or https:// (got 'tel-api.example')"),
        ("https://h:99999", "server_url is not a usable URL: Port out of range"),
        ("https://exa mple.com", "server_url must not contain spaces or control characters"),
        # Every batch went to a path the server does not serve: dropped for good as 404/405.
        ("https://h/v1?region=eu", "server_url must not have a query or a fragment: it is the"),
        ("https://h/#x", "server_url must not have a query or a fragment"),
    ],
)
def test_the_url_message_quotes_what_was_typed(typed: str, expected: str) -> None:
    (message,) = valid(server_url=typed).validate()
    assert expected in message


def test_a_url_changed_after_construction_is_quoted_as_it_is_now() -> None:
    config = valid(server_url="http://")
    config.server_url = "nope"
    assert config.validate() == ["server_url must start with http:// or https:// (got 'nope')"]


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("", "it is not set"),
        (KEY[:-1], "got 63 hexadecimal digits"),
        (KEY + "00", "got 66 hexadecimal digits"),
        (KEY[:16] + "g" + KEY[17:], "got 64 characters; character 17 is not hexadecimal"),
        (" " + KEY, "got 65 characters; character 1 is not hexadecimal"),
        (12345, "got a int"),
    ],
)
def test_the_key_message_says_length_and_position_never_the_key(key: object, expected: str) -> None:
    (message,) = valid(api_key=key).validate()
    assert message == f"api_key must be a 64-character hexadecimal string ({expected})"
    if isinstance(key, str) and key:
        assert KEY[:8] not in message
        assert KEY[-8:] not in message


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "Yes", "on", "ON", " on "])
def test_truthy_spellings_enable(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_ENABLED", value)
    assert TelemetryConfig(enabled=False).enabled is True


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "NO", "off", "Off"])
def test_falsy_spellings_disable_quietly(
    value: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_ENABLED", value)
    with caplog.at_level(logging.WARNING, "mosaicstack_telemetry"):
        assert TelemetryConfig(enabled=True).enabled is False
    assert caplog.records == []


def test_an_unrecognised_value_disables_with_one_warning_naming_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_ENABLED", "enabeld")
    with caplog.at_level(logging.WARNING, "mosaicstack_telemetry"):
        assert TelemetryConfig(enabled=True).enabled is False  # fail safe: nothing is sent
        assert TelemetryConfig().enabled is False
    (record,) = caplog.records  # once per process and value, not once per config
    assert "MOSAIC_TELEMETRY_ENABLED='enabeld' is not a recognised value" in record.getMessage()
    assert "telemetry is disabled" in record.getMessage()


def test_a_disabled_config_without_instance_id_still_builds_events() -> None:
    config = TelemetryConfig(enabled=False)
    assert config.instance_id == DISABLED_INSTANCE_ID
    event = EventBuilder(instance_id=config.instance_id).model("m").build()
    with TelemetryClient(config) as client:
        client.track(event)
        assert client.queue_size == 0
    # An instance id given explicitly is kept.
    assert TelemetryConfig(enabled=False, instance_id=INSTANCE).instance_id == INSTANCE


def test_the_kill_switch_alone_gives_the_placeholder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_ENABLED", "false")
    assert TelemetryConfig().instance_id == DISABLED_INSTANCE_ID
    monkeypatch.setenv("MOSAIC_TELEMETRY_INSTANCE_ID", INSTANCE)
    assert TelemetryConfig().instance_id == INSTANCE


def test_the_placeholder_is_never_valid_for_an_enabled_config() -> None:
    config = TelemetryConfig(enabled=False)
    config.enabled = True
    config.server_url, config.api_key = "http://127.0.0.1:8000", KEY
    (message,) = config.validate()
    assert message.startswith(f"instance_id is {DISABLED_INSTANCE_ID}, the placeholder")


@pytest.mark.parametrize("typed", ["²", "٣", "four", "0", "17"])
def test_a_concurrency_from_the_environment_that_is_not_1_to_16_is_ignored_with_a_warning(
    typed: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`str.isdigit()` takes "²" (then `int()` raised out of `TelemetryConfig()`) and "٣"
    (silently 3). A typo in this tuning variable then made the whole config invalid, so every
    event was dropped, and the message did not name the variable."""
    monkeypatch.setenv("MOSAIC_TELEMETRY_MAX_CONCURRENT_REQUESTS", typed)
    with caplog.at_level(logging.WARNING, logger="mosaicstack_telemetry"):
        config = valid()
    assert config.max_concurrent_requests == 4
    assert config.validate() == []
    assert (
        f"MOSAIC_TELEMETRY_MAX_CONCURRENT_REQUESTS={typed!r} is not an integer from 1 to 16: it "
        "is ignored, max_concurrent_requests stays 4"
    ) in caplog.text


def test_a_concurrency_from_the_environment_in_ascii_digits_is_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOSAIC_TELEMETRY_MAX_CONCURRENT_REQUESTS", "2")
    assert valid().max_concurrent_requests == 2
    assert valid().validate() == []
