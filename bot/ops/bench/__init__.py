"""Benchmarks (`python -m bot bench ...`): figures for docs/benchmarks.md, never timed tests."""
