"""Fixtures of the lifecycle tests: the real local server, and one that never answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.lifecycle._servers import (
    LocalServer,
    SharedServer,
    SilentServer,
    shared_server,
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENABLED", "SERVER_URL", "API_KEY", "INSTANCE_ID", "SPOOL_PATH"):
        monkeypatch.delenv(f"MOSAIC_TELEMETRY_{name}", raising=False)


@pytest.fixture(scope="session")
def _shared() -> Iterator[SharedServer]:
    with shared_server(keys=500) as shared:
        yield shared


@pytest.fixture
def server(_shared: SharedServer) -> LocalServer:
    """A healthy local server, with an API key and an instance of this test's own: it sees
    only its own events and requests (one server for the whole run saves a start and a stop
    per test)."""
    return _shared.view()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    """A server that accepts connections and reads requests, and never answers."""
    srv = SilentServer()
    yield srv
    srv.close()
