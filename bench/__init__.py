"""Benchmarks: each ``bench_*.py`` prints its figures next to a baseline measured in the same run."""
