"""Benchmarks for momento-keys: `python -m bench` (see bench/README.md)."""
