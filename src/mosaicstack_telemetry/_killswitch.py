"""`MOSAIC_TELEMETRY_ENABLED`: the operator's kill switch, as `TelemetryConfig` and `EventSpool`
read it. A module of its own so that `EventSpool` (every `mosaic-telemetry track`) reads it
without loading the config's dataclass."""

from __future__ import annotations

ENV_ENABLED = "MOSAIC_TELEMETRY_ENABLED"
#: The spellings that enable (any case); `FALSY` disable; anything else disables, with a warning.
TRUTHY = frozenset({"1", "true", "yes", "on"})
FALSY = frozenset({"0", "false", "no", "off"})

_warned_values: set[str] = set()


def parse_enabled(raw: str) -> bool:
    """The meaning of a non-empty `MOSAIC_TELEMETRY_ENABLED` value.

    `1/true/yes/on` enable, `0/false/no/off` disable (any case). Anything else also disables
    (fail safe: a mistyped kill switch must not send data its operator meant to stop) and is
    logged once per process as a warning naming the value.
    """
    value = raw.strip().lower()
    if value in TRUTHY:
        return True
    if value not in FALSY and raw not in _warned_values:
        import logging

        _warned_values.add(raw)
        logging.getLogger("mosaicstack_telemetry").warning(
            "%s=%r is not a recognised value (1/true/yes/on or 0/false/no/off): "
            "telemetry is disabled",
            ENV_ENABLED,
            raw[:40],
        )
    return False
