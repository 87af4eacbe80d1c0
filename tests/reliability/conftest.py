"""Shared by the reliability tests: the scripted loopback server of tests/sdk."""

from tests.sdk.conftest import _clean_env, fast_retries, server  # noqa: F401  # fixtures
