"""Fixtures of the lifecycle tests: the real local server, and one that never answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lifecycle._harness import LocalServer, SilentServer, local_server


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENABLED", "SERVER_URL", "API_KEY", "INSTANCE_ID", "SPOOL_PATH"):
        monkeypatch.delenv(f"MOSAIC_TELEMETRY_{name}", raising=False)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A healthy local server."""
    with local_server() as srv:
        yield srv


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    """A server that accepts connections and reads requests, and never answers."""
    srv = SilentServer()
    yield srv
    srv.close()
