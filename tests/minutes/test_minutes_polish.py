"""A language model may retitle themes and rewrite the overview, within strict bounds."""

from __future__ import annotations

from minutes import ConsultationInfo, Statement, apply_polish, polish_prompt, summarize
from tests.minutes.support import all_quotes


def test_plain_titles_and_overview_are_taken(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    count = len(minutes.themes)
    result = apply_polish(minutes, {0: "夜市油烟扰民"}, f"委员们围绕{count}个方面提出了意见。")
    assert result.rejected == ()
    assert result.minutes.themes[0].title == "夜市油烟扰民"
    assert result.minutes.overview == f"委员们围绕{count}个方面提出了意见。"
    assert result.minutes.polished
    assert list(all_quotes(result.minutes)) == list(all_quotes(minutes))


def test_markup_links_mentions_and_long_text_are_refused(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    titles = {0: "# 标题", 1: "[点我](http://x)", 2: "@所有人 看这里", 3: "很" * 40, 99: "无此主题"}
    result = apply_polish(minutes, titles, "第一行\n第二行")
    assert result.minutes == minutes
    assert len(result.rejected) == 6


def test_an_overview_with_invented_figures_is_refused(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    result = apply_polish(minutes, {}, "共有9999名委员参加，意见高度一致。")
    assert result.minutes.overview == minutes.overview
    assert "9999" in result.rejected[0]


def test_the_prompt_carries_each_theme(info: ConsultationInfo, statements: list[Statement]) -> None:
    minutes = summarize(info, statements)
    prompt = polish_prompt(minutes)
    assert info.topic in prompt
    for index in range(len(minutes.themes)):
        assert f"主题{index}" in prompt
