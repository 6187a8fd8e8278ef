"""job names: stored scheduler jobs name their job, not the import path of a function

Jobs stored before the code moved into its rooms call `bot.scheduler:run_scheduled` with the
import path of the handler's function first; a rename of either broke them. From now on
every job calls `bot.runtime.scheduler:run_scheduled` with the name the handler registered
(`@router.job`). The old paths are kept here as the alias table, and each stored job is
rewritten in place (its trigger and next run time untouched).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNER = "bot.runtime.scheduler:run_scheduled"
OLD_RUNNER = "bot.scheduler:run_scheduled"
# The import paths jobs were stored under, and the names they are registered under now.
JOB_NAMES = {
    "handlers.polls:close_poll_at_deadline": "poll.close",
    "handlers.referrals:remind_about_referral": "referral.remind",
}


def _renamed(state: dict[str, Any], runner: str, names: dict[str, str]) -> bool:
    """Point one stored job at `runner` and its job at its name; False if it is not ours."""
    if state.get("func") not in (OLD_RUNNER, RUNNER):
        return False
    args = tuple(state.get("args", ()))
    if args and args[0] in names:
        args = (names[args[0]], *args[1:])
    state["func"], state["args"] = runner, args
    return True


def _rewrite(runner: str, names: dict[str, str]) -> None:
    connection = op.get_bind()
    if not sa.inspect(connection).has_table("apscheduler_jobs"):
        return
    jobs = sa.table(
        "apscheduler_jobs",
        sa.column("id", sa.Unicode(191)),
        sa.column("job_state", sa.LargeBinary()),
    )
    for row in connection.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        # APScheduler pickles the job's state itself (SQLAlchemyJobStore); this reads it the
        # same way, with APScheduler installed, and writes it back in the same protocol.
        state = pickle.loads(row.job_state)
        if _renamed(state, runner, names):
            new = pickle.dumps(state, pickle.HIGHEST_PROTOCOL)
            connection.execute(jobs.update().where(jobs.c.id == row.id).values(job_state=new))


def upgrade() -> None:
    _rewrite(RUNNER, JOB_NAMES)


def downgrade() -> None:
    _rewrite(OLD_RUNNER, {name: path for path, name in JOB_NAMES.items()})
