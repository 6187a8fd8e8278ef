"""The group message: short, faithful, and immune to members' markup."""

from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt

from minutes import ConsultationInfo, PollSummary, Stance, Statement, render_markdown, summarize
from minutes.markdown_export import escape_markdown
from tests.minutes.support import StatementFactory

INJECTIONS = [
    "# 标题 大家注意停车位要规划到夜市周边",
    "[链接](http://x) 夜市停车位不够，点这里看规划",
    "![图](http://x/a.png) 夜市停车位的规划图",
    "<b>加粗</b> 夜市周边停车位不够用，车辆乱停",
    "@所有人 夜市停车位太少，车辆都停到人行道上了",
    "@all 停车位规划 `code` **粗体** _斜体_ ~~删除~~ | 表格 |",
]
PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace("＠", "@")


@pytest.mark.parametrize("text", INJECTIONS)
def test_member_markup_is_text_not_structure(
    text: str, info: ConsultationInfo, statement_factory: StatementFactory
) -> None:
    said = statement_factory([("m01", text, "opinion")])
    markdown = render_markdown(summarize(info, said))
    tokens = [t for block in PARSER.parse(markdown) for t in [block, *(block.children or [])]]
    kinds = {t.type for t in tokens}
    assert "link_open" not in kinds
    assert "image" not in kinds
    assert not kinds & {"html_inline", "html_block", "code_inline", "s_open", "table_open"}
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h3"]  # only our title
    assert sum(1 for t in tokens if t.type == "strong_open") == 2  # our two bold labels
    assert "@所有人" not in markdown
    assert "@all" not in markdown


def test_escaping_keeps_the_words_of_the_quote(
    info: ConsultationInfo, statements: list[Statement]
) -> None:
    markdown = render_markdown(summarize(info, statements))
    for line in markdown.splitlines():
        for quoted, ident in re.findall(r"“(.+?)”——\S+ #(\d+)", line):
            original = next(s for s in statements if s.id == int(ident)).text
            assert unescape(quoted) == " ".join(original.split())


def test_escape_markdown_round_trip() -> None:
    text = "a*b_c [x](y) <i> #1 @所有人 \\ 4.5万"
    escaped = escape_markdown(text)
    assert unescape(escaped) == text
    assert "4.5万" in escaped  # decimals stay readable


def test_poll_numbers_in_the_message_equal_the_ballots(
    info: ConsultationInfo, statements: list[Statement], poll: PollSummary
) -> None:
    markdown = render_markdown(summarize(info, statements, polls=[poll]))
    line = next(line for line in markdown.splitlines() if "表决#3" in line)
    for option in poll.options:
        assert f"{option.text} {option.votes}票" in line
    assert f"{poll.voters}人投票" in line


def test_the_message_is_short_and_says_where_the_full_text_is(
    info: ConsultationInfo, statements: list[Statement], stances: list[Stance], poll: PollSummary
) -> None:
    markdown = render_markdown(
        summarize(info, statements * 1, stances, [poll]), full_text_hint="发送 /纪要 word 获取全文"
    )
    assert len(markdown) < 2000
    assert markdown.rstrip().endswith("发送 /纪要 word 获取全文")
    assert "**主要意见**" in markdown


def test_empty_minutes_render(info: ConsultationInfo) -> None:
    markdown = render_markdown(summarize(info, []))
    assert markdown.startswith("### 会议纪要")


def test_the_plan_and_research_notes_are_in_the_overview(
    planned_info: ConsultationInfo, statements: list[Statement]
) -> None:
    markdown = render_markdown(summarize(planned_info, statements))
    overview = markdown.split("**主要意见**")[0]
    assert "区商务局、区城管局" in unescape(overview)
    assert "**调研材料**（2份）" in overview
    assert "- 调研#1 走访夜市摊主32户，其中21户愿意延长到23点。（委员03）" in overview
    assert "- 调研#2 城管部门提供：去年夜市油烟投诉47件，集中在烧烤区。" in overview


def test_an_open_poll_is_in_progress_and_shows_no_result(
    info: ConsultationInfo, statements: list[Statement], poll: PollSummary, open_poll: PollSummary
) -> None:
    markdown = render_markdown(summarize(info, statements, polls=[poll, open_poll]))
    line = next(line for line in markdown.splitlines() if "表决#5" in line)
    assert "进行中" in line
    assert "截至纪要生成时11人投票（同意 8票，不同意 3票）" in line
    assert "%" not in line  # a share would read as the result
    closed = next(line for line in markdown.splitlines() if "表决#3" in line)
    assert "进行中" not in closed
    assert "另有1项表决进行中" in markdown


def test_a_long_statement_is_quoted_as_an_excerpt_with_its_id(
    info: ConsultationInfo, long_statement: list[Statement]
) -> None:
    markdown = render_markdown(summarize(info, long_statement))
    [quote] = re.findall(r"“(.+?)”——", markdown)
    assert quote.endswith("……（全文见 #12）")
    assert len(quote) < 200
    assert long_statement[0].text.startswith(quote.removesuffix("……（全文见 #12）"))
