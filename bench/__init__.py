"""Benchmarks for the portal, run with `make bench` (`python -m bench`). See bench/README.md.

Kept outside tests/ on purpose: timings on a shared machine are noisy, so they are never a pass/fail
test in the suite. The benchmark compares pages measured interleaved in one run and gates on ratios
of medians, not on absolute times.
"""
