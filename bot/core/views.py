"""Neutral views of what a card shows, built by the feature that owns it and laid out by
each platform's adapter: every word on a card comes from here, none from an adapter."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PollOptionView:
    """One option of a poll as a card shows it."""

    number: int
    text: str
    votes: int
    share: float
    # `33%`
    share_text: str
    # `支持　██████░░░░ 66 · 33%`, the option's line of the tally.
    tally_line: str


@dataclass(frozen=True, slots=True)
class PollView:
    """A poll as its card shows it at one moment (the same for every member; what one
    member chose comes with their click's outcome, not here)."""

    # The card's key (`poll:12`), which a click on it names.
    key: str
    # `投票 #3`
    title: str
    question: str
    options: tuple[PollOptionView, ...]
    voters: int
    closed: bool
    multiple: bool
    anonymous: bool
    # `进行中` or `已结束`
    status: str
    # `单选`, `匿名`, `11月24日 15:30 截止`: the poll's traits, in order.
    traits: tuple[str, ...]
    # `12 人已投`
    turnout: str
    # Once closed: `结果：支持 得票最多（5 票），共 9 人投票`; empty while open.
    result: str
    # How to vote on the card; empty once closed.
    hint: str
    # The card's button: to vote, to change one's vote, and once the poll has closed.
    vote_label: str
    revote_label: str
    closed_label: str


# Every kind of card the features show (one so far).
CardView = PollView


@dataclass(frozen=True, slots=True)
class CardAnswer:
    """What a click changed for the member who clicked: the options now theirs, by number
    and by text, for the card to show as their choice."""

    chosen: tuple[int, ...]
    labels: tuple[str, ...]
