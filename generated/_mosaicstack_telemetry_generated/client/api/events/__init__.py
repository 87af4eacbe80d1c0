# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
"""Contains endpoint functions for accessing the API"""
