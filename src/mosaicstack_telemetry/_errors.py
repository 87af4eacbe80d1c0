"""The SDK's exception type."""


class TelemetryError(Exception):
    """Base exception for telemetry client errors.

    The public API does not raise it (`track()` never throws); it is there for integrations
    that want one type to catch or raise around telemetry.
    """
