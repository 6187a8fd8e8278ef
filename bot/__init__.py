"""The bot, in rooms (see docs/architecture.md and ../shared/DESIGN.md, "Architecture"):

- `bot.core`: the platform-neutral kernel (messages, context, router, dispatcher, roles);
- `bot.delivery`: the outbox sender, channels, rate limits and the card-id store;
- `bot.adapters.<platform>`: one package per platform (connection, wire format, layout);
- `bot.runtime`: the wiring (app, CLI, config, scheduler, leader election, metrics, replay);
- `bot.web`: the secretary console's pages.
"""
