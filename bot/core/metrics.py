"""The counters the kernel and the delivery keep; the runtime serves them at `/metrics`."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

# Receipt-to-commit times of interest: a busy batch takes tens of milliseconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The bot's counters, one registry per app (tests run several apps in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.messages = Counter(
            "xieshang_messages",
            "Messages taken from platforms, by how they ended",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.commands = Counter(
            "xieshang_commands",
            "Commands run, by name and how they ended",
            ["command", "status"],
            registry=self.registry,
        )
        self.dispatch_seconds = Histogram(
            "xieshang_dispatch_seconds",
            "From receipt of a message to the commit of its effects",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "xieshang_batch_messages",
            "Messages committed together in one transaction",
            buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "xieshang_outbox_pending",
            "Outbox rows waiting to be sent (as of the sender's last full scan)",
            ["platform"],
            registry=self.registry,
        )
        self.sends = Counter(
            "xieshang_sends",
            "Messages handed to platforms, by result (sent, refused, error)",
            ["platform", "result"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        """The Prometheus text format."""
        return generate_latest(self.registry)
