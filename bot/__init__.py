"""The runtime: config, wiring, message types, router, dispatcher, outbox, scheduler, CLI."""
