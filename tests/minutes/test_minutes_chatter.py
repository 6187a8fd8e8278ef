"""Chatter: the moderator's running of the meeting and members' greetings are set aside."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from minutes import ConsultationInfo, Statement, summarize
from minutes.chatter import role_prior
from minutes.embed import E5Embedder
from tests.minutes.support import NIGHT_MARKET, StatementFactory

RUNNING_THE_MEETING = [
    "各位委员大家好！今天的请你来协商正式开始，议题是夜市延长营业时间，欢迎大家踊跃发言",
    "今天讨论夜市延长营业时间，大家围绕这个发言，不要跑题",
    "请大家发言时注明是意见还是建议，一次说一个点，方便会后汇总",
    "时间关系，今天先到这里，感谢各位的参与，意见建议会后整理报送",
]


def themed_ids(minutes_themes: object) -> set[int]:
    return {q.id for theme in minutes_themes for q in theme.opinions}  # type: ignore[attr-defined]


def test_the_moderator_running_the_meeting_is_chatter_even_naming_the_topic(
    info: ConsultationInfo, statement_factory: StatementFactory
) -> None:
    rows = [*NIGHT_MARKET, *(("m99", text, "remark") for text in RUNNING_THE_MEETING)]
    said = [
        replace(s, role="moderator") if s.author_id == "m99" else s for s in statement_factory(rows)
    ]
    minutes = summarize(info, said, embedder=E5Embedder())
    procedure = {s.id for s in said if s.author_id == "m99"}
    assert procedure <= set(minutes.chatter_ids)
    assert not procedure & themed_ids(minutes.themes)
    # The members' opinions are still themes.
    assert {1, 2, 5, 6, 9, 10} <= themed_ids(minutes.themes)


def test_a_moderator_who_argues_matters_stays_in_the_minutes(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    # The community's own staff chair this one and argue like everyone else.
    staff = {"m01", "m05", "m09"}
    said = [replace(s, role="moderator") if s.author_id in staff else s for s in statements]
    minutes = summarize(info, said, embedder=E5Embedder())
    argued = {s.id for s in said if s.author_id in staff}
    assert argued <= themed_ids(minutes.themes)
    assert not argued & set(minutes.chatter_ids)


def test_a_roles_prior_follows_what_its_lines_look_like() -> None:
    roles = ["moderator"] * 10 + ["member"] * 30
    chatty = np.asarray([3.0] * 10 + [-3.0] * 30, dtype=np.float32)
    prior = role_prior(chatty, roles)
    assert prior[0] > 1  # this moderator only runs the meeting: the role leans to chatter
    assert prior[-1] < -1
    arguing = np.asarray([-3.0] * 10 + [-3.0] * 30, dtype=np.float32)
    assert role_prior(arguing, roles)[0] < 0  # one who argues matters earns no chatter prior


def test_a_moderator_with_few_lines_is_presumed_to_run_the_meeting() -> None:
    prior = role_prior(
        np.asarray([0.0, 0.0, -3.0], dtype=np.float32), ["moderator", "member", "member"]
    )
    assert prior[0] > 0


def test_thanks_are_chatter_unless_the_line_goes_on_to_argue(
    info: ConsultationInfo, statement_factory: StatementFactory
) -> None:
    rows = [
        *NIGHT_MARKET,
        ("m30", "谢谢大家，区商务局会认真研究吸收", "remark"),
        (
            "m31",
            "感谢政府支持夜市，但是夜市烧烤摊要统一安装油烟净化设备，垃圾清运也要跟上",
            "opinion",
        ),
    ]
    said = statement_factory(rows)
    minutes = summarize(info, said)
    thanks, argued = said[-2].id, said[-1].id
    assert thanks in minutes.chatter_ids
    assert argued in themed_ids(minutes.themes)
