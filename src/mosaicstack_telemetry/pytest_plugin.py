"""pytest plugin of mosaicstack-telemetry (placeholder until the fixtures land)."""
