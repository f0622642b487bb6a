"""Benchmarks of xqueue-bridge: each compares candidates measured side by side in one run."""
