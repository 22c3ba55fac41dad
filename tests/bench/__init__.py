"""Benchmarks of the roster issue; run them with ``python -m tests.bench`` (see __main__)."""
