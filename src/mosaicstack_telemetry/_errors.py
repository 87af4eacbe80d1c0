"""The SDK's exception types."""

from __future__ import annotations


class TelemetryError(Exception):
    """Base exception for telemetry client errors.

    The public API does not raise it (`track()` never throws); it is there for integrations
    that want one type to catch or raise around telemetry.
    """


class DeliveryError(TelemetryError):
    """Why events could not be delivered: what `on_error` receives with the events.

    `reason` is `http_<status>` for an answer that retrying cannot fix (the batch was
    dropped), or `deadline` when the events were still undelivered as the process exited.
    `status` is the HTTP status if the server answered; `detail` the start of its message or
    the last error seen; `url` the server (never the key).
    """

    def __init__(
        self, reason: str, detail: str = "", *, status: int | None = None, url: str = ""
    ) -> None:
        message = reason if not detail else f"{reason}: {detail}"
        super().__init__(f"{message} ({url})" if url else message)
        self.reason = reason
        self.detail = detail
        self.status = status
        self.url = url
