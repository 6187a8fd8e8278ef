"""The referral letter reads as an official letter, in Markdown and in DOCX."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from docx import Document
from docx.oxml.ns import qn
from markdown_it import MarkdownIt

from reports.letter import (
    Issue,
    Reopening,
    chinese_number,
    render_letter_docx,
    render_letter_markdown,
)
from storage.enums import OpinionKind, ReplyClass
from storage.referrals import DossierItem, Person, ReferralDossier

SHANGHAI = ZoneInfo("Asia/Shanghai")
DOSSIER = ReferralDossier(
    referral_id=7,
    number=2,
    topic="夜市延长营业时间",
    group_title="西湖区政协委员群",
    consultation_opened_at=datetime(2026, 11, 24, 9, tzinfo=SHANGHAI),
    lead_department="市民政局",
    co_departments=("市财政局",),
    due_on=date(2026, 12, 24),
    referred_at=datetime(2026, 11, 26, 15, tzinfo=SHANGHAI),
    items=(
        DossierItem(3, OpinionKind.OPINION, "夜市很热闹", Person("王五", "u5"), ()),
        DossierItem(
            1,
            OpinionKind.SUGGESTION,
            "设置降噪屏障",
            Person("张三", "u3"),
            (Person("李四", "u4"), Person("赵六", "u6")),
        ),
    ),
)


ISSUE = Issue("协商报送〔2026〕7号", date(2026, 11, 26), date(2026, 12, 24))


def east_asian_font(run: object) -> str | None:
    properties = run._r.rPr  # type: ignore[attr-defined]
    return None if properties is None else properties.rFonts.get(qn("w:eastAsia"))


def test_sections_are_numbered_the_chinese_way() -> None:
    assert [chinese_number(n) for n in (1, 9, 10, 11, 20, 99)] == [
        "一",
        "九",
        "十",
        "十一",
        "二十",
        "九十九",
    ]


def test_the_markdown_letter_groups_suggestions_before_opinions() -> None:
    letter = render_letter_markdown(DOSSIER, ISSUE, SHANGHAI)

    assert letter.splitlines()[:3] == [
        "协商报送〔2026〕7号",
        "",
        "## 关于报送「夜市延长营业时间」协商意见建议的函",
    ]
    assert "2026年11月24日，委员们在「西湖区政协委员群」就「夜市延长营业时间」开展协商" in letter
    assert "请于2026年12月24日前答复" in letter
    assert letter.index("**一、建议**") < letter.index("**二、意见**")
    assert "（一）#1 设置降噪屏障（提出：张三；附议：李四、赵六，共 2 人）" in letter
    assert letter.endswith("协商助手（西湖区政协委员群）\n2026年11月26日")


def test_the_docx_letter_opens_and_uses_official_fonts() -> None:
    document = Document(BytesIO(render_letter_docx(DOSSIER, ISSUE, SHANGHAI)))
    paragraphs = [p for p in document.paragraphs if p.text]
    texts = [p.text for p in paragraphs]

    assert texts[0] == "协商报送〔2026〕7号"
    assert texts[1] == "关于报送「夜市延长营业时间」协商意见建议的函"
    assert texts[2] == "市民政局："
    assert "一、建议" in texts
    assert "（一）#3 夜市很热闹（提出：王五）" in texts
    assert texts[-1] == "抄送：市财政局（协办）"
    title, body = paragraphs[1].runs[0], paragraphs[3].runs[0]
    assert (east_asian_font(title), title.font.size.pt) == ("黑体", 22)
    assert (east_asian_font(body), body.font.size.pt) == ("仿宋_GB2312", 16)
    assert round(document.sections[0].top_margin.mm) == 37


def test_what_members_typed_never_becomes_structure_in_the_markdown_letter() -> None:
    dossier = replace(
        DOSSIER,
        lead_department="[市园林局](http://evil.example)",
        co_departments=("<b>市财政局</b>",),
        items=(
            DossierItem(
                5,
                OpinionKind.SUGGESTION,
                "增设座椅\n# 紧急通知\n- [点击领取补贴](http://evil.example) @所有人",
                Person("**张三**", "u3"),
                (),
            ),
        ),
    )
    letter = render_letter_markdown(dossier, ISSUE, SHANGHAI)
    tokens = [
        token
        for block in MarkdownIt("commonmark").parse(letter)
        for token in [block, *(block.children or [])]
    ]
    kinds = {token.type for token in tokens}
    assert {"link_open", "html_inline", "html_block", "bullet_list_open"}.isdisjoint(kinds)
    assert [t.tag for t in tokens if t.type == "heading_open"] == ["h2"]  # only the title
    text = MarkdownIt("commonmark").render(letter)
    assert "[市园林局](http://evil.example)：" in text
    assert "增设座椅 # 紧急通知 - [点击领取补贴](http://evil.example) ＠所有人" in text
    assert "**张三**" in text


def test_a_referred_remark_is_listed_in_the_letter() -> None:
    remark = DossierItem(9, OpinionKind.REMARK, "楼道灯坏了很久", Person("钱七", "u7"), ())
    dossier = replace(DOSSIER, items=(remark,))
    for letter in (
        render_letter_markdown(dossier, ISSUE, SHANGHAI),
        "\n".join(
            p.text
            for p in Document(BytesIO(render_letter_docx(dossier, ISSUE, SHANGHAI))).paragraphs
        ),
    ):
        assert "#9 楼道灯坏了很久（提出：钱七）" in letter
        assert "现将其中 1 条意见建议" in letter


def test_a_reopening_letter_has_its_own_number_and_refers_to_the_first() -> None:
    issue = Issue("协商重办〔2026〕9号", date(2026, 12, 29), date(2027, 1, 13))
    why = Reopening(
        first_number="协商报送〔2026〕7号",
        first_issued_on=date(2026, 11, 26),
        reply_class=ReplyClass.IN_PROGRESS,
        replied_on=date(2026, 12, 20),
        reason="没有回应夜间噪音",
    )

    letter = render_letter_markdown(DOSSIER, issue, SHANGHAI, reopening=why)
    document = Document(BytesIO(render_letter_docx(DOSSIER, issue, SHANGHAI, reopening=why)))

    assert letter.splitlines()[:3] == [
        "协商重办〔2026〕9号",
        "",
        "## 关于重新办理「夜市延长营业时间」协商意见建议的函",
    ]
    assert (
        "2026年11月26日，《关于报送「夜市延长营业时间」协商意见建议的函》（协商报送〔2026〕7号）"
        "将 2 条意见建议转请贵单位研究办理，贵单位于2026年12月20日答复（B 正在解决）。"
        "委员对答复不满意：没有回应夜间噪音。现退回重新办理，市财政局协办，"
        "请于2027年1月13日前重新答复。"
    ) in letter
    assert letter.endswith("2026年12月29日")
    assert document.paragraphs[0].text == "协商重办〔2026〕9号"
