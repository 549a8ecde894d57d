"""Benchmarks of the metazoo meta-learners: `python -m benchmarks --help`."""
