"""Two real bot processes on one PostgreSQL database behind one DingTalk gateway."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from storage.engine import normalize_url
from tests.bot.adapters.test_dingtalk import (
    MODERATOR,
    POLL,
    acknowledged_votes,
    bot_env,
    most_in_one_minute,
    tally_from,
)
from tests.fakes.bot import BotProcess
from tests.fakes.dingtalk import ROBOT_TOPIC, FakeDingTalk
from tests.fakes.tcp_proxy import TcpProxy

ELECTED = "this process now fires scheduled jobs"


@pytest.fixture
def postgres_url(ready_database_url: str) -> str:
    """The test's PostgreSQL schema (several processes share a database only there)."""
    if ready_database_url.startswith("sqlite"):
        pytest.skip("several bot processes share one database only on PostgreSQL")
    return ready_database_url


@pytest.fixture
def pair(postgres_url: str, tmp_path: Path) -> Iterator[tuple[FakeDingTalk, list[BotProcess]]]:
    """The gateway and two connected bots; their logs are shown if the test fails."""
    with FakeDingTalk(redeliver_after=2) as dingtalk:
        env = bot_env(dingtalk, postgres_url, scheduler__election_seconds="0.5")
        bots = [BotProcess(tmp_path / name, env).start() for name in ("a", "b")]
        try:
            dingtalk.wait_connected(2)
            yield dingtalk, bots
        except Exception as error:
            for bot in bots:
                error.add_note(f"log of {bot.workdir.name}:\n{bot.log()}")
            raise
        finally:
            for bot in bots:
                if bot.running:
                    bot.stop()


def stored(url: str, query: str) -> int:
    """One number from the database the bots share."""
    engine = sa.create_engine(normalize_url(url))
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text(query)).scalar_one())
    finally:
        engine.dispose()


def stored_numbers(url: str) -> list[int]:
    """The numbers the stored opinions carry, in order."""
    engine = sa.create_engine(normalize_url(url))
    try:
        with engine.connect() as connection:
            return list(
                connection.execute(sa.text("SELECT number FROM opinion ORDER BY 1")).scalars()
            )
    finally:
        engine.dispose()


def acked(dingtalk: FakeDingTalk, frames: list[str]) -> int:
    """How many of `frames` the bots acknowledged so far."""
    known = [dingtalk.frames.get(frame) for frame in frames]
    return sum(frame is not None and frame.acked_at is not None for frame in known)


def test_a_bot_killed_mid_burst_loses_and_doubles_nothing_and_the_other_fires_the_deadline(
    pair: tuple[FakeDingTalk, list[BotProcess]], postgres_url: str
) -> None:
    dingtalk, bots = pair
    rng = random.Random(8)
    choices = {f"委员{i:03d}": rng.randint(1, 3) for i in range(200)}
    delivered_twice = set(rng.sample(sorted(choices), 20))
    dingtalk.wait_until(
        lambda: [bot for bot in bots if ELECTED in bot.log()], 20, "a scheduler leader"
    )
    leader, survivor = sorted(bots, key=lambda bot: ELECTED not in bot.log())
    group = dingtalk.group()
    group.say_and_wait(MODERATOR, "/协商 开始 夜市延长营业时间", admin=True)
    group.say_and_wait(MODERATOR, f"{POLL} 截止 20秒", admin=True)

    votes = [
        (ROBOT_TOPIC, group.message(name, f"/投 {choice}"), 2 if name in delivered_twice else 1)
        for name, choice in choices.items()
    ]
    opinions = [
        (ROBOT_TOPIC, group.message(f"列席{i:02d}", f"/意见 第{i}条：夜市噪音要管"), 1 + i % 2)
        for i in range(40)
    ]
    burst = votes + opinions
    rng.shuffle(burst)
    frames = dingtalk.push_spread(burst, over=3.0)
    dingtalk.wait_until(lambda: acked(dingtalk, frames) >= 80, 30, "a third of the burst acked")
    leader.kill()
    dingtalk.wait_acked(frames, timeout=60)  # the gateway redelivers what the dead one held
    result = group.wait_for("投票 #1 结果", timeout=40)  # the deadline, fired by the survivor
    survivor.stop()  # sends what is left, so every acknowledgement is out
    posts = group.posts()

    expected = Counter(choices.values())
    assert ELECTED in survivor.log()
    assert stored(postgres_url, "SELECT count(*) FROM ballot") == 200
    assert stored(postgres_url, "SELECT count(*) FROM inbound_event") == 242
    # Numbered by both processes, the dead one's batch taken up again: #1 to #40, no gaps.
    assert stored_numbers(postgres_url) == list(range(1, 41))
    assert tally_from(result.text) == {
        "支持": expected[1],
        "反对": expected[2],
        "弃权": expected[3],
    }
    assert "共 200 人投票" in result.text
    assert sum("投票 #1 结果" in post.text for post in posts) == 1
    # At least once: a send the dead process made but had not yet recorded goes again.
    assert acknowledged_votes(posts) >= 200
    assert most_in_one_minute(posts) <= 20


def test_while_the_database_is_unreachable_nothing_is_acknowledged_and_nothing_lost(
    postgres_url: str, tmp_path: Path
) -> None:
    address = make_url(postgres_url)
    with TcpProxy(address.host or "127.0.0.1", address.port or 5432) as proxy:
        through_proxy = address.set(port=proxy.port).render_as_string(hide_password=False)
        with FakeDingTalk(redeliver_after=1) as dingtalk:
            bot = BotProcess(tmp_path, bot_env(dingtalk, through_proxy)).start()
            try:
                dingtalk.wait_connected()
                group = dingtalk.group()
                group.say_and_wait(MODERATOR, "/协商 开始 老旧小区加装电梯", admin=True)

                proxy.cut()
                frames = [group.say(f"委员{i}", f"/意见 第{i}条：楼道先装扶手") for i in range(20)]
                dingtalk.wait_until(
                    lambda: all(dingtalk.frames[f].deliveries >= 3 for f in frames),
                    30,
                    "every frame offered three times",
                )
                acked_while_down = acked(dingtalk, frames)
                proxy.restore()
                dingtalk.wait_acked(frames, timeout=60)
                group.wait_for("条意见")
            except Exception as error:
                error.add_note(f"xieshang's log:\n{bot.log()}")
                raise
            finally:
                bot.stop()
            texts = list(group.texts())

    assert acked_while_down == 0
    assert stored(postgres_url, "SELECT count(*) FROM opinion") == 20
    assert not [text for text in texts if "稍后再试" in text or "出错" in text]
