# Generated from openapi/telemetry-v1.yaml by scripts/generate. Do not edit.
"""Code generated from the OpenAPI contract; private to mosaicstack_telemetry.

models: the event models, pydantic v2 (datamodel-code-generator); the SDK imports them.
prediction_models: the prediction models and the error body, loaded on first use.
client: the low-level httpx client (openapi-python-client).
event_schema: the event's JSON Schema and a validator of it in plain Python (fastjsonschema).
"""
