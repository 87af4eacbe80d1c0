"""Benchmarks of the SDK against its baselines and peers; run them with `scripts/bench`."""
