"""The local reference server of the v1 API (the optional extra `server`).

`python -m mosaicstack_telemetry.server --key KEY:INSTANCE` serves it; `start_server()` runs
it in a background thread for tests; `create_app()` is the bare ASGI app. It validates with
the checked-in contract only and never imports the SDK's client or models.

The names load on first use, so that a missing extra is reported as such: importing one of
them without starlette, uvicorn, jsonschema-rs and pyyaml raises a `ModuleNotFoundError` that
says which extra to install.
"""

from __future__ import annotations

import importlib
import typing

if typing.TYPE_CHECKING:
    from mosaicstack_telemetry.server._app import BODY_LIMIT, create_app
    from mosaicstack_telemetry.server._faults import FAULT_KINDS, FaultConfig
    from mosaicstack_telemetry.server._requestlog import RequestRecord
    from mosaicstack_telemetry.server._run import RunningServer, start_server
    from mosaicstack_telemetry.server._state import ServerState

#: The third-party modules of the `server` extra.
EXTRA_MODULES = frozenset({"starlette", "uvicorn", "jsonschema_rs", "yaml"})
INSTALL_HINT = "pip install 'mosaicstack-telemetry[server]'"

_EXPORTS = {
    "BODY_LIMIT": "_app",
    "RequestRecord": "_requestlog",
    "ServerState": "_state",
    "create_app": "_app",
    "FAULT_KINDS": "_faults",
    "FaultConfig": "_faults",
    "RunningServer": "_run",
    "start_server": "_run",
}

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


def load(module: str) -> typing.Any:
    """Import `server.<module>`; a missing dependency of the extra says how to install it."""
    try:
        return importlib.import_module(f"{__name__}.{module}")
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in EXTRA_MODULES:
            raise
        raise ModuleNotFoundError(
            f"the local server needs the `server` extra ({INSTALL_HINT}); "
            f"missing module: {exc.name}",
            name=exc.name,
        ) from exc


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(load(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
