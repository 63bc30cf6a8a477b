"""Benchmarks that print each hub figure beside the raw limit measured in the same run.

See docs/benchmarks.md for the commands and the latest results.
"""
