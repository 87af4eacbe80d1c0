"""Costs from genai-prices: `EventBuilder.cost_from_prices()` (opt-in) and what the CLI fills."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from genai_prices import Usage, calc_price

from mosaicstack_telemetry import EventBuilder, Provider

INSTANCE = "12345678-1234-4234-8234-123456789abc"


def expected(model: str, provider: str, tokens_in: int, tokens_out: int, **cache: int) -> int:
    usage = Usage(input_tokens=tokens_in, output_tokens=tokens_out, **cache)
    price = calc_price(usage, model_ref=model, provider_id=provider)
    return round(price.total_price * 1_000_000)


def builder(model: str = "claude-sonnet-4-5-20250929") -> EventBuilder:
    return (
        EventBuilder(INSTANCE)
        .model(model)
        .provider(Provider.ANTHROPIC)
        .tokens(actual_in=112_340, actual_out=38_760)
    )


def test_the_cost_is_filled_only_when_asked() -> None:
    assert builder().build().actual_cost_usd_micros == 0  # no opt-in, no price
    cost = builder().cost_from_prices().build().actual_cost_usd_micros
    assert cost == expected("claude-sonnet-4-5-20250929", "anthropic", 112_340, 38_760) > 0


def test_cache_tokens_are_priced_at_their_own_rates() -> None:
    plain = builder().cost_from_prices().build().actual_cost_usd_micros
    cached = (
        builder()
        .cost_from_prices(cache_read_tokens=100_000, cache_write_tokens=2_000)
        .build()
        .actual_cost_usd_micros
    )
    want = expected(
        "claude-sonnet-4-5-20250929",
        "anthropic",
        112_340,
        38_760,
        cache_read_tokens=100_000,
        cache_write_tokens=2_000,
    )
    assert cached == want
    assert cached < plain  # cache reads cost a tenth of fresh input


def test_a_cost_the_caller_gave_wins() -> None:
    assert builder().cost(actual=1234).cost_from_prices().build().actual_cost_usd_micros == 1234


@pytest.mark.parametrize(
    ("model", "provider"),
    [("no-such-model-42", Provider.ANTHROPIC), ("llama3.1", Provider.OLLAMA)],
)
def test_no_known_price_keeps_zero_and_says_so_at_debug(
    model: str, provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, "mosaicstack_telemetry"):
        event = builder(model).provider(provider).cost_from_prices().build()
    assert event.actual_cost_usd_micros == 0
    (record,) = [r for r in caplog.records if model in r.getMessage()]
    assert record.levelno == logging.DEBUG


def test_a_price_above_what_an_event_may_carry_keeps_zero_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # 8M + 200k tokens of claude-opus-4-1 price at $135, past the contract's $100: build()
    # raised a ValidationError about actual_cost_usd_micros (events.md: it never fails so).
    with caplog.at_level(logging.WARNING, "mosaicstack_telemetry"):
        event = (
            EventBuilder(instance_id=INSTANCE)
            .model("claude-opus-4-1")
            .provider(Provider.ANTHROPIC)
            .tokens(actual_in=8_000_000, actual_out=200_000)
            .cost_from_prices()
            .build()
        )
    assert event.actual_cost_usd_micros == 0
    (record,) = caplog.records
    assert "135000000 microdollars, is above the most an event may carry (100000000" in (
        record.getMessage()
    )


def test_the_provider_is_optional_for_the_lookup() -> None:
    event = builder("gpt-5").provider(Provider.UNKNOWN).cost_from_prices().build()
    assert event.actual_cost_usd_micros == expected("gpt-5", "openai", 112_340, 38_760)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )


def test_the_core_never_imports_genai_prices() -> None:
    done = run_python(
        "import sys\n"
        "from mosaicstack_telemetry import EventBuilder, TelemetryClient, TelemetryConfig\n"
        "config = TelemetryConfig(server_url='http://127.0.0.1:9', api_key='a' * 64,\n"
        "    instance_id='12345678-1234-4234-8234-123456789abc', dry_run=True)\n"
        "client = TelemetryClient(config)\n"
        "client.track(EventBuilder(config.instance_id).model('gpt-5').build())\n"
        "client.stop()\n"
        "print('genai_prices' in sys.modules)\n"
    )
    assert done.stdout.strip() == "False", done.stderr


def test_without_genai_prices_the_cost_stays_zero_with_one_warning() -> None:
    done = run_python(
        "import logging, sys\n"
        "sys.modules['genai_prices'] = None\n"
        "logging.basicConfig(format='%(levelname)s %(message)s')\n"
        "from mosaicstack_telemetry import EventBuilder\n"
        "for _ in range(3):\n"
        "    e = EventBuilder('12345678-1234-4234-8234-123456789abc').model('gpt-5')\\\n"
        "        .tokens(actual_in=10, actual_out=10).cost_from_prices().build()\n"
        "    print(e.actual_cost_usd_micros)\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "0", "0"]
    (warning,) = done.stderr.strip().splitlines()
    assert warning.startswith("WARNING EventBuilder.cost_from_prices() needs genai-prices")
    assert "pip install 'mosaicstack-telemetry[prices]'" in warning
