"""Shared by the server tests: a fresh running server per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.server._helpers import INSTANCE, KEY

server_mod = pytest.importorskip("mosaicstack_telemetry.server")


@pytest.fixture
def srv() -> Iterator[Any]:
    """A fresh server (empty store, no faults) per test."""
    with server_mod.start_server(keys={KEY: INSTANCE}) as running:
        yield running
