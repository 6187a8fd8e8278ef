"""The scheduler's leader election on PostgreSQL, one round at a time."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from bot.runtime.leader import SCHEDULER_LOCK, Leadership
from storage.engine import make_engine
from tests.conftest import PG_ENV, postgres_schema_url


class Candidate:
    """One process's campaign, with what it was told."""

    def __init__(self, engine: Engine) -> None:
        self.events: list[str] = []
        self.rearm_failures = 0
        self.leadership = Leadership(
            engine, on_elected=self._elected, on_deposed=lambda: self.events.append("deposed")
        )

    async def _elected(self) -> None:
        self.events.append("elected")
        if self.rearm_failures:
            self.rearm_failures -= 1
            raise ConnectionError("the database went away while re-arming")

    async def round(self) -> list[str]:
        """One try; returns everything it was told so far."""
        await self.leadership.try_once()
        return self.events


@pytest.fixture
def schemas() -> Iterator[tuple[str, str]]:
    """Two schemas of one database, as two deployments sharing a server might use."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set: leader election needs PostgreSQL")
    first, second = postgres_schema_url(base), postgres_schema_url(base)
    yield next(first), next(second)
    for schema in (first, second):
        schema.close()


@pytest.fixture
def engines(schemas: tuple[str, str]) -> Iterator[list[Engine]]:
    """Three processes on the first schema's deployment and one on the second's."""
    made = [make_engine(schemas[0]) for _ in range(3)] + [make_engine(schemas[1])]
    yield made
    for engine in made:
        engine.dispose()


async def test_one_process_leads_and_another_takes_over_when_its_session_ends(
    engines: list[Engine],
) -> None:
    first, second, watcher = Candidate(engines[0]), Candidate(engines[1]), engines[2]

    assert await first.round() == ["elected"]
    assert await second.round() == []
    assert await first.round() == ["elected"]  # still leading, and told nothing new

    # The leader's server session ends (its process died, or the server dropped it).
    with watcher.connect() as connection:
        ended = connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid, 10000) FROM pg_locks WHERE locktype = 'advisory' "
                "AND ((classid::bigint << 32) | objid::bigint) = "
                "hashtextextended(:name || current_schema(), 0)"
            ),
            {"name": SCHEDULER_LOCK},
        ).all()
    assert len(ended) == 1

    assert await second.round() == ["elected"]
    assert await first.round() == ["elected", "deposed"]  # it notices, and stops firing
    assert await first.round() == ["elected", "deposed"]  # and finds the lock taken
    await second.leadership.stop_campaign()
    assert await first.round() == ["elected", "deposed", "elected"]
    await first.leadership.stop_campaign()


async def test_deployments_in_two_schemas_each_have_a_leader(engines: list[Engine]) -> None:
    here, elsewhere = Candidate(engines[0]), Candidate(engines[3])

    assert await here.round() == ["elected"]
    assert await elsewhere.round() == ["elected"]
    for candidate in (here, elsewhere):
        await candidate.leadership.stop_campaign()


async def test_a_leader_whose_re_arming_failed_tries_it_again_next_round(
    engines: list[Engine],
) -> None:
    leader = Candidate(engines[0])
    leader.rearm_failures = 1

    assert await leader.round() == ["elected"]  # elected, but re-arming the jobs failed
    assert await leader.round() == ["elected", "elected"]  # tried again, and it worked
    assert await leader.round() == ["elected", "elected"]  # and not again after that
    assert leader.leadership.leading
    await leader.leadership.stop_campaign()
