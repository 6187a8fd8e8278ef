"""What several handler modules share (handlers never import each other): the life of a
poll, and the lines in which a consultation's status and its close describe each feature.

May import: `bot.core`, `storage`, `minutes`, `reports` (never a handler module).
"""
