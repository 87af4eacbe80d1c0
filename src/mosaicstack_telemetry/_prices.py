"""A task's cost from its model and token counts, with `genai-prices` (the `prices` extra).

genai-prices is the pydantic team's maintained table of LLM prices; it ships its data, so a
price is computed offline. It is imported only here and only when a caller asks for a price
(`EventBuilder.cost_from_prices()`, the CLI's `track`, the Claude Code hook): the SDK's core
never loads it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from mosaicstack_telemetry._log import logger

#: Providers whose models run locally: no per-token price, whatever the model's name.
_LOCAL_PROVIDERS = frozenset({"ollama"})
#: Our provider values that say nothing about who served the model: match by model alone.
_ANY_PROVIDER = frozenset({"", "custom", "unknown"})
INSTALL_HINT = "pip install 'mosaicstack-telemetry[prices]'"


def available() -> bool:
    """Whether genai-prices can be imported (without importing it twice)."""
    try:
        import genai_prices  # noqa: F401
    except ImportError:
        return False
    return True


def cost_usd_micros(
    model: str,
    provider: str,
    input_tokens: int,
    output_tokens: int,
    *,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> int | None:
    """The cost in microdollars, or None when no price is known (said at DEBUG).

    `input_tokens` counts every input token, cache reads and writes included (as the event's
    `actual_input_tokens` does); the cache counts, when known, are priced at their own rates.
    Raises `ImportError` when genai-prices is not installed: the caller decides how loud that is.
    """
    if not (input_tokens or output_tokens or cache_read_tokens or cache_write_tokens):
        # Nothing to price: a per-request fee alone (a few models have one) is not the task's
        # cost. The CLI relies on this to skip loading genai-prices for an event without tokens.
        logger.debug("No price for %r: the event has no tokens", model)
        return None
    from genai_prices import Usage, calc_price

    provider = str(provider or "").lower()
    if provider in _LOCAL_PROVIDERS:
        logger.debug("No price for %r: provider %r runs models locally", model, provider)
        return None
    try:
        usage = Usage(
            input_tokens=int(input_tokens),
            output_tokens=int(output_tokens),
            cache_read_tokens=int(cache_read_tokens) or None,
            cache_write_tokens=int(cache_write_tokens) or None,
        )
        result = calc_price(
            usage,
            model_ref=str(model),
            provider_id=None if provider in _ANY_PROVIDER else provider,
        )
    except LookupError as exc:
        logger.debug(
            "No price known for model %r (provider %r): the cost stays 0 (%s)", model, provider, exc
        )
        return None
    except Exception as exc:  # bad token counts and the like: never the caller's crash
        logger.debug("Could not price model %r: %s: %s", model, type(exc).__name__, exc)
        return None
    micros = (Decimal(result.total_price) * 1_000_000).to_integral_value(ROUND_HALF_UP)
    return max(int(micros), 0)
