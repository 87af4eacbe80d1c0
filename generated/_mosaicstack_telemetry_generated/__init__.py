# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
"""Code generated from the OpenAPI contract; private to mosaicstack_telemetry.

models: pydantic v2 models (datamodel-code-generator).
client: the low-level httpx client (openapi-python-client).
event_schema: the event's JSON Schema and a validator of it in plain Python (fastjsonschema).
"""
