"""The local reference server of the v1 API (the optional extra `server`).

`python -m mosaicstack_telemetry.server --key KEY:INSTANCE` serves it; `start_server()` runs
it in a background thread for tests; `create_app()` is the bare ASGI app. It validates with
the checked-in contract only and never imports the SDK's client or models.
"""

from __future__ import annotations

from mosaicstack_telemetry.server._app import (
    BODY_LIMIT,
    ServerState,
    create_app,
)
from mosaicstack_telemetry.server._faults import FAULT_KINDS, FaultConfig
from mosaicstack_telemetry.server._requestlog import RequestRecord
from mosaicstack_telemetry.server._run import RunningServer, start_server

__all__ = [
    "BODY_LIMIT",
    "FAULT_KINDS",
    "FaultConfig",
    "RequestRecord",
    "RunningServer",
    "ServerState",
    "create_app",
    "start_server",
]
