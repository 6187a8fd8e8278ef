"""Benchmarks: `make bench` (python -m bench) runs every bench/*.py and prints one table."""
