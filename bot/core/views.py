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


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One statement as a stance card shows it."""

    number: int
    # `#12`
    ref: str
    text: str
    author: str
    # `意见`, `建议`
    kind: str
    # `赞同 3 · 反对 1 · 弃权 0`
    marks: str
    # `#12 张三（意见）：电梯费用按楼层分摊`, the statement in one line of a list.
    line: str


@dataclass(frozen=True, slots=True)
class StanceButton:
    """A button of a stance card: what a click on it says (`agree`), and its label."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class StanceView:
    """A card with 赞同 / 反对 / 弃权 buttons (Pol.is): one statement's card, or a /表态
    card that lists the statements with the fewest marks and deals them one at a time.

    Everyone sees `lead` until they click; after a click each member's own view shows the
    statement dealt to them (`Deal`, in their click's answer)."""

    # `statement:41` (one statement) or `stances:3` (a /表态 card).
    key: str
    # `意见 #12` or `请表态：5 条发言`
    title: str
    # The statement the buttons mark for a member who has not clicked yet.
    lead: StatementLine | None
    # What the card lists: the /表态 card's statements (the lead alone on a statement's card).
    statements: tuple[StatementLine, ...]
    buttons: tuple[StanceButton, ...]
    # How to use the card; empty once closed.
    hint: str
    # Stances are taken only while the consultation is in 开展协商.
    closed: bool
    # `表态已结束（协商已进入报送意见阶段）` once closed, else empty.
    status: str
    # A button's label for what takes no stance (`表态已结束`).
    closed_label: str
    # Shown to a member the card has no statement for: they marked every one it can deal
    # them (a /表态 card), or the statement was withdrawn (a statement's card).
    finished: str
    # The button that looks again for statements to deal (new ones may have come); a
    # statement's card has none.
    more: StanceButton | None


# Every kind of card the features show.
CardView = PollView | StanceView


@dataclass(frozen=True, slots=True)
class Deal:
    """What a stance card shows the member who clicked it, next: the statement its buttons
    now mark for them (None once they have marked all), and their mark on it, if any."""

    statement: StatementLine | None
    # `赞同`, or empty while they have not marked it.
    stance: str


@dataclass(frozen=True, slots=True)
class CardAnswer:
    """What a click changed for the member who clicked: the options now theirs, by number
    and by text, for the card to show as their choice."""

    chosen: tuple[int, ...]
    labels: tuple[str, ...]
    # On a stance card: the statement dealt to the member next.
    deal: Deal | None = None
