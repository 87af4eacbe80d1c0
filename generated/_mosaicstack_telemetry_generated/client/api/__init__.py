# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
"""Contains methods for accessing the API"""
