"""The runtime: app wiring, the `xieshang` command, config loading, secrets, the clock,
the scheduler and its leader election, metrics and transcript replay.

May import: everything in `bot`, `handlers` (wiring only) and `workers`.
"""
