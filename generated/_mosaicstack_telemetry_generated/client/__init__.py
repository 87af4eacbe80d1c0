# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
"""A client library for accessing Mosaic Stack Telemetry API"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)
