"""Titles: a phrase members wrote that sets the theme apart, never a list of keywords."""

from __future__ import annotations

from minutes import ConsultationInfo, Statement, summarize
from minutes.titles import ThemeText, choose_titles, phrases
from tests.minutes.support import StatementFactory


def test_titles_are_phrases_of_the_theme_and_no_two_are_alike(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    minutes = summarize(info, statements)
    titles = [theme.title for theme in minutes.themes]
    assert len(set(titles)) == len(titles)
    for theme in minutes.themes:
        assert "、" not in theme.title  # not a list of keywords
        said = " ".join(q.text for q in theme.opinions)
        for part in theme.title.split("与"):
            assert part in said, (theme.title, said)


def test_a_title_never_leans_on_a_word_that_names_no_matter(
    info: ConsultationInfo, statement_factory: StatementFactory
) -> None:
    said = statement_factory(
        [
            (f"m{i:02d}", text, "opinion")
            for i, text in enumerate(
                [
                    "夜市垃圾这个问题，东西扔得满地都是，垃圾桶太少",
                    "夜市垃圾问题很大，地方上要多放垃圾桶",
                    "夜市垃圾桶不够，同志们说这个问题好几年了",
                    "垃圾桶要加，夜市那个地方东西太乱",
                    "夜市停车问题，车位太少，东西都没地方放",
                    "停车位不够，夜市那个地方车停得乱",
                    "建议增加停车位，这个问题代表们反映很多",
                    "夜市停车位要规划，问题拖了很久",
                ]
            )
        ]
    )
    minutes = summarize(info, said)
    for theme in minutes.themes:
        for vague in ("问题", "东西", "地方", "同志", "代表"):
            assert vague not in theme.title
        assert vague not in theme.keywords


def test_phrases_are_runs_of_words_naming_a_matter() -> None:
    found = {"".join(p) for p in phrases("建议县里设立柑橘品种改良专项资金，对老果园改造按亩补助")}
    assert "专项资金" in found
    assert "老果园改造" in found or "果园改造" in found
    assert not any(p.startswith(("建议", "设立", "对")) for p in found)


def test_two_themes_never_share_a_title() -> None:
    said = ["夜市停车位不够，停车位要规划", "停车位太少了，停车位乱停"] * 2
    themes = [ThemeText(said, {"停车位": 1.0, "规划": 0.2}) for _ in range(2)]
    first, second = choose_titles(themes, set(), ["甲", "乙"])
    assert first != second


def test_a_word_that_is_part_of_the_topic_or_holds_it_names_no_theme() -> None:
    # The topic is 湖州市老字号: "湖州" (part of 湖州市) and "老字号店" (holding 老字号) say
    # nothing the reader does not know; the theme is about the stories told.
    said = ["湖州老字号店的故事要讲好", "老字号店的故事拍成短视频", "湖州的故事进课堂"] * 2
    scores = {"湖州": 2.0, "老字号店": 1.5, "故事": 1.0, "短视频": 0.2, "课堂": 0.2}
    [title] = choose_titles([ThemeText(said, scores)], {"湖州市", "老字号"}, ["甲"])
    assert title == "故事"
