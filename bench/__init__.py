"""Benchmarks: measured figures and ratios, printed and written to a file; never asserted by tests."""
