"""Getting replies out: the outbox sender (per-group rate limits, coalescing of
acknowledgements), the channels that hold a conversation's sends, and the card-id store.

May import: `bot.core`, `storage`.
"""
