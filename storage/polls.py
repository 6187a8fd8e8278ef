"""Polls and ballots: one ballot per member per poll, the latest vote wins."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.consultations import next_number
from storage.enums import PollStatus
from storage.models import Ballot, Poll
from storage.sql import connection, flush_behind, memo, prepared, write_behind

_BALLOTS: Any = Ballot.__table__  # type: ignore[attr-defined]


def create_poll(
    session: Session,
    *,
    consultation_id: int,
    question: str,
    options: list[str],
    multiple: bool,
    anonymous: bool,
    deadline: datetime | None,
    member_id: int,
    now: datetime,
    hide_results: bool = False,
) -> Poll:
    """Open a poll under the consultation's next poll number."""
    number = next_number(session, consultation_id=consultation_id, counter="poll_seq")
    poll = Poll(
        consultation_id=consultation_id,
        number=number,
        question=question,
        options=options,
        multiple=multiple,
        anonymous=anonymous,
        deadline=deadline,
        opened_by=member_id,
        opened_at=now,
        hide_results=hide_results,
    )
    session.add(poll)
    session.flush()
    memo(session, "open_polls").pop(consultation_id, None)
    return poll


def get_poll(session: Session, *, consultation_id: int, number: int) -> Poll | None:
    """A poll of the consultation by its number."""
    return session.exec(
        select(Poll).where(Poll.consultation_id == consultation_id, Poll.number == number)
    ).first()


def get_poll_by_id(session: Session, *, poll_id: int) -> Poll | None:
    """A poll by its database id (for scheduled jobs)."""
    return session.get(Poll, poll_id)


def list_polls(session: Session, *, consultation_id: int) -> list[Poll]:
    """Every poll of a consultation, by number."""
    return list(
        session.exec(
            select(Poll).where(Poll.consultation_id == consultation_id).order_by(col(Poll.number))
        )
    )


def open_polls(session: Session, *, consultation_id: int) -> list[Poll]:
    """The consultation's polls still taking ballots, oldest first (memoised per transaction:
    every vote asks, few messages change the answer)."""
    prefetch_open_polls(session, consultation_ids={consultation_id})
    polls: list[Poll] = memo(session, "open_polls")[consultation_id]
    return list(polls)


def prefetch_open_polls(session: Session, *, consultation_ids: set[int]) -> None:
    """`open_polls` of every consultation in one query, memoised (see `prefetch_current`)."""
    known = memo(session, "open_polls")
    wanted = consultation_ids - known.keys()
    if not wanted:
        return
    found: dict[int, list[Poll]] = {consultation_id: [] for consultation_id in wanted}
    for poll in session.exec(_OPEN_IN, params={"consultation_ids": list(wanted)}):
        found[poll.consultation_id].append(poll)
    known.update(found)


_OPEN_IN = (
    select(Poll)
    .where(
        col(Poll.consultation_id).in_(sa.bindparam("consultation_ids", expanding=True)),
        Poll.status == PollStatus.OPEN,
    )
    .order_by(col(Poll.number))
)


def latest_poll(session: Session, *, consultation_id: int) -> Poll | None:
    """The consultation's most recent poll."""
    return session.exec(
        select(Poll)
        .where(Poll.consultation_id == consultation_id)
        .order_by(col(Poll.number).desc())
        .limit(1)
    ).first()


def open_polls_with_deadline(session: Session) -> list[Poll]:
    """Every open poll that should close by itself (to schedule after a restart)."""
    return list(
        session.exec(
            select(Poll).where(Poll.status == PollStatus.OPEN, col(Poll.deadline).is_not(None))
        )
    )


def _upsert_ballots(insert: Callable[[Any], Any]) -> Any:
    table = _BALLOTS
    statement = insert(table).values(
        {
            name: sa.bindparam(name)
            for name in ("poll_id", "voter_key", "member_id", "choices", "cast_at")
        }
    )
    return statement.on_conflict_do_update(
        index_elements=["poll_id", "voter_key"],
        set_={"choices": statement.excluded.choices, "cast_at": statement.excluded.cast_at},
        where=table.c.cast_at <= statement.excluded.cast_at,
    )


_KEY = sa.tuple_(_BALLOTS.c.poll_id, _BALLOTS.c.voter_key)
# Which of the ballots about to be written replace one already stored: asked once per
# batch of ballots (not once per vote), so an acknowledgement can say "已改投".
_STORED_KEYS = sa.select(_BALLOTS.c.poll_id, _BALLOTS.c.voter_key).where(
    _KEY.in_(sa.bindparam("keys", expanding=True))
)


def _write_ballots(session: Session, ballots: list[dict[str, Any]]) -> None:
    keys = [(ballot["poll_id"], ballot["voter_key"]) for ballot in ballots]
    stored = connection(session).execute(_STORED_KEYS, {"keys": keys})
    memo(session, "replaced_ballots").update(dict.fromkeys(tuple(row) for row in stored))
    connection(session).execute(prepared(session, _upsert_ballots), ballots)


def record_ballot(
    session: Session,
    *,
    poll_id: int,
    voter_key: str,
    member_id: int | None,
    choices: list[int],
    cast_at: datetime,
) -> Callable[[], bool]:
    """Keep a ballot, replacing the voter's earlier one; returns a function that tells,
    once the ballots are written, whether it replaced one (a change of vote).

    The unique (poll, voter) key makes a duplicate delivery a no-op, and comparing the
    times makes the member's latest vote win whatever order the platform delivered them in.
    The ballot is written with the others of its transaction (see `write_behind`).
    """
    waiting = write_behind(session, "ballots", _write_ballots)
    key = (poll_id, voter_key)
    earlier = waiting.get(key)
    if earlier is None or earlier["cast_at"] <= cast_at:
        waiting[key] = {
            "poll_id": poll_id,
            "voter_key": voter_key,
            "member_id": member_id,
            "choices": choices,
            "cast_at": cast_at,
        }

    def replaced() -> bool:
        return earlier is not None or key in memo(session, "replaced_ballots")

    return replaced


def close_poll(session: Session, *, poll_id: int, member_id: int | None, now: datetime) -> bool:
    """Close an open poll; False when it was already closed (so a result posts once).

    An anonymous poll's ballots are sealed as it closes (`_seal_ballots`)."""
    statement = (
        sa.update(Poll)
        .where(col(Poll.id) == poll_id, col(Poll.status) == PollStatus.OPEN)
        .values(status=PollStatus.CLOSED, closed_at=now, closed_by=member_id)
        .execution_options(synchronize_session="fetch")
    )
    result = session.execute(statement)
    memo(session, "open_polls").clear()
    closed = bool(getattr(result, "rowcount", 0) == 1)
    poll = session.get(Poll, poll_id)
    if closed and poll is not None and poll.anonymous:
        _seal_ballots(session, poll)
    return closed


def _seal_ballots(session: Session, poll: Poll) -> None:
    """Cut every tie between an anonymous poll's ballots and its voters, for good.

    While the poll runs, a ballot's key is a keyed hash of (poll, member), so a change of
    vote replaces it; with the server's secret it links ballot to member. At the close the
    ballots are written again with random keys, in random order (new row ids that do not
    follow the order of the votes) and with the poll's own time: after that nobody, the
    holder of the secret included, can tell who chose what; only the counts remain.
    """
    flush_behind(session)  # votes of this very transaction are sealed too
    choices = [
        list(row[0])
        for row in connection(session).execute(
            sa.select(_BALLOTS.c.choices).where(_BALLOTS.c.poll_id == poll.id)
        )
    ]
    secrets.SystemRandom().shuffle(choices)
    connection(session).execute(sa.delete(_BALLOTS).where(_BALLOTS.c.poll_id == poll.id))
    if choices:
        connection(session).execute(
            sa.insert(_BALLOTS),
            [
                {
                    "poll_id": poll.id,
                    "voter_key": secrets.token_hex(16),
                    "member_id": None,
                    "choices": chosen,
                    "cast_at": poll.opened_at,
                }
                for chosen in choices
            ],
        )


@dataclass(frozen=True, slots=True)
class Tally:
    """Votes per option (in option order) and the number of voters."""

    votes: tuple[int, ...]
    voters: int


# Ballots with the same choices counted together by the database: a card refreshed once
# a second reads a row per distinct set of choices (a handful), not one per voter.
_CHOICES_TEXT = sa.cast(_BALLOTS.c.choices, sa.Text)
_CHOICE_SETS = (
    sa.select(_CHOICES_TEXT, sa.func.count())
    .where(_BALLOTS.c.poll_id == sa.bindparam("poll_id"))
    .group_by(_CHOICES_TEXT)
)


def tally(session: Session, *, poll: Poll) -> Tally:
    """Count the poll's ballots."""
    assert poll.id is not None
    flush_behind(session)  # ballots of this transaction count too
    votes = [0] * len(poll.options)
    voters = 0
    for choices, count in connection(session).execute(_CHOICE_SETS, {"poll_id": poll.id}):
        voters += count
        for choice in json.loads(choices):
            if 1 <= choice <= len(votes):
                votes[choice - 1] += count
    return Tally(votes=tuple(votes), voters=voters)


def voted_keys(session: Session, *, poll_id: int) -> set[str]:
    """The voter keys of the poll's ballots (member ids as `m12`, or keyed hashes)."""
    flush_behind(session)
    statement = sa.select(_BALLOTS.c.voter_key).where(_BALLOTS.c.poll_id == poll_id)
    return {str(key) for (key,) in connection(session).execute(statement)}


def mark_nudged(session: Session, *, poll_id: int, since: datetime, now: datetime) -> bool:
    """Note a reminder of the poll's non-voters at `now`, unless one went out after
    `since`; False when one did (so at most one reminder goes out per interval)."""
    statement = (
        sa.update(Poll)
        .where(
            col(Poll.id) == poll_id,
            sa.or_(col(Poll.nudged_at).is_(None), col(Poll.nudged_at) <= since),
        )
        .values(nudged_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return bool(getattr(session.execute(statement), "rowcount", 0) == 1)
