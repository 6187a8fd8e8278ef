"""The platform-neutral kernel: `IncomingMessage`, `CardAction`, `Context`, the router and
its typed arguments, errors, text cleaning, roles and the dispatcher that runs one message in
one transaction.

May import: `storage` (and nothing else of ours).
"""
