"""The referral letter (报送函): the referred suggestions grouped by kind, each with who
proposed and who seconded it, addressed to the lead department with the deadline; and the
重办函 that sends an unsatisfying reply back, referring to the first letter.

A letter is rendered once, when it is issued, and stored as issued (storage.referrals);
its number, date and deadline are given to it rather than read from the referral, which
moves on (a /重办 sets a new deadline)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from zoneinfo import ZoneInfo

from docx import Document as new_document
from docx.enum.text import WD_ALIGN_PARAGRAPH

from minutes import escape_markdown
from reports.docx_style import HEADING_FONT, TITLE_SIZE, add_line, prepare_document
from storage.enums import LetterKind, OpinionKind, ReplyClass
from storage.referrals import DossierItem, ReferralDossier

SENDER = "协商助手"
REPLY_CLASSES = "A 已解决、B 正在解决、C 列入计划、未采纳"


def chinese_number(n: int) -> str:
    """一 … 九十九, for the 一、（一） numbering of official documents.

    Ours rather than a library's: the numbering needs 1 to 99 only, a few lines.
    """
    digits = "零一二三四五六七八九"
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else digits[tens] + "十")
    return head + (digits[ones] if ones else "")


def chinese_date(moment: date) -> str:
    """`2026年12月24日`."""
    return f"{moment.year}年{moment.month}月{moment.day}日"


@dataclass(frozen=True, slots=True)
class Section:
    """The referred items of one kind (建议, then 意见)."""

    heading: str
    items: tuple[DossierItem, ...]


@dataclass(frozen=True, slots=True)
class Letter:
    """The letter's text, laid out once for both Markdown and DOCX."""

    number: str
    title: str
    addressee: str
    opening: str
    sections: tuple[Section, ...]
    closing: str
    copy_to: str
    sender: str
    issued: str


def letter_number(kind: LetterKind, issued_on: date, letter_id: int) -> str:
    """`协商报送〔2026〕3号` or `协商重办〔2026〕5号`: one series of N for both kinds, so
    `xieshang letter N` names one letter."""
    prefix = "协商报送" if kind is LetterKind.REFERRAL else "协商重办"
    return f"{prefix}〔{issued_on.year}〕{letter_id}号"


@dataclass(frozen=True, slots=True)
class Issue:
    """What a letter says about itself: its number, the day it was issued, and the last
    day on which a reply is on time."""

    number: str
    issued_on: date
    due_on: date


@dataclass(frozen=True, slots=True)
class Reopening:
    """Why a reply goes back: the first letter, the reply, and the members' reason."""

    first_number: str
    first_issued_on: date
    reply_class: ReplyClass
    replied_on: date
    reason: str


def _as_typed(text: str) -> str:
    return text


def compose_letter(
    dossier: ReferralDossier,
    issue: Issue,
    zone: ZoneInfo,
    *,
    reopening: Reopening | None = None,
    escape: Callable[[str], str] = _as_typed,
) -> Letter:
    """Lay the letter out from the referral; `escape` is applied to everything members typed
    (the topic, the group's and departments' names, a reason), not to the letter's own
    words."""
    held = dossier.consultation_opened_at.astimezone(zone).date()
    # Remarks (plain text kept during 开展协商) may be referred too, and must be listed.
    kinds = [OpinionKind.SUGGESTION, OpinionKind.OPINION, OpinionKind.REMARK]
    sections = tuple(
        Section(kind.label, tuple(i for i in dossier.items if i.kind is kind))
        for kind in kinds
        if any(i.kind is kind for i in dossier.items)
    )
    topic = escape(dossier.topic)
    group = escape(dossier.group_title)
    where = f"在「{group}」" if dossier.group_title else ""
    co_names = "、".join(escape(name) for name in dossier.co_departments)
    co = f"，{co_names}协办" if dossier.co_departments else ""
    count = len(dossier.items)
    referral_title = f"关于报送「{topic}」协商意见建议的函"
    if reopening is None:
        title = referral_title
        opening = (
            f"{chinese_date(held)}，委员们{where}就「{topic}」开展协商。"
            f"现将其中 {count} 条意见建议转请贵单位研究办理{co}，"
            f"请于{chinese_date(issue.due_on)}前答复。"
        )
    else:
        title = f"关于重新办理「{topic}」协商意见建议的函"
        opening = (
            f"{chinese_date(reopening.first_issued_on)}，《{referral_title}》"
            f"（{reopening.first_number}）将 {count} 条意见建议转请贵单位研究办理，"
            f"贵单位于{chinese_date(reopening.replied_on)}答复（{reopening.reply_class.label}）。"
            f"委员对答复不满意：{escape(reopening.reason)}。"
            f"现退回重新办理{co}，请于{chinese_date(issue.due_on)}前重新答复。"
        )
    closing = (
        f"答复时请注明办理结果分类（{REPLY_CLASSES}），由部门联络员在协商群内发送"
        f"「/反馈 #{dossier.number} 分类 答复内容」，或交协商秘书代为录入。"
    )
    return Letter(
        number=issue.number,
        title=title,
        addressee=f"{escape(dossier.lead_department)}：",
        opening=opening,
        sections=sections,
        closing=closing,
        copy_to=f"抄送：{co_names}（协办）" if co else "",
        sender=SENDER + (f"（{group}）" if dossier.group_title else ""),
        issued=chinese_date(issue.issued_on),
    )


def item_line(item: DossierItem, escape: Callable[[str], str] = _as_typed) -> str:
    """`#12 设置降噪屏障（提出：李四；附议：王五、赵六，共 2 人）`."""
    people = f"提出：{escape(item.proposer.name)}"
    if item.seconders:
        names = "、".join(escape(p.name) for p in item.seconders)
        people += f"；附议：{names}，共 {len(item.seconders)} 人"
    return f"#{item.number} {escape(item.text)}（{people}）"


def render_letter_markdown(
    dossier: ReferralDossier, issue: Issue, zone: ZoneInfo, *, reopening: Reopening | None = None
) -> str:
    """The letter as Markdown, for the group and for the record. What members typed is
    escaped: a suggestion or a department's name never becomes a heading or a link."""
    letter = compose_letter(dossier, issue, zone, reopening=reopening, escape=escape_markdown)
    lines = [
        letter.number,
        "",
        f"## {letter.title}",
        "",
        letter.addressee,
        "",
        letter.opening,
        "",
    ]
    for index, section in enumerate(letter.sections, start=1):
        lines.append(f"**{chinese_number(index)}、{section.heading}**")
        lines.append("")
        for number, item in enumerate(section.items, start=1):
            lines.append(f"（{chinese_number(number)}）{item_line(item, escape_markdown)}")
        lines.append("")
    lines += [letter.closing, ""]
    if letter.copy_to:
        lines += [letter.copy_to, ""]
    lines += [letter.sender, letter.issued]
    return "\n".join(lines)


def render_letter_docx(
    dossier: ReferralDossier, issue: Issue, zone: ZoneInfo, *, reopening: Reopening | None = None
) -> bytes:
    """The letter as a DOCX in the 公文 layout (仿宋 body, 黑体 title and headings)."""
    letter = compose_letter(dossier, issue, zone, reopening=reopening)
    document = new_document()
    prepare_document(document)
    add_line(document, letter.number, align=WD_ALIGN_PARAGRAPH.CENTER)
    add_line(document, "")
    add_line(
        document,
        letter.title,
        font=HEADING_FONT,
        size=TITLE_SIZE,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    add_line(document, "")
    add_line(document, letter.addressee)
    add_line(document, letter.opening, indent=True)
    for index, section in enumerate(letter.sections, start=1):
        add_line(document, f"{chinese_number(index)}、{section.heading}", font=HEADING_FONT)
        for number, item in enumerate(section.items, start=1):
            add_line(document, f"（{chinese_number(number)}）{item_line(item)}", indent=True)
    add_line(document, letter.closing, indent=True)
    add_line(document, "")
    add_line(document, letter.sender, align=WD_ALIGN_PARAGRAPH.RIGHT)
    add_line(document, letter.issued, align=WD_ALIGN_PARAGRAPH.RIGHT)
    if letter.copy_to:
        add_line(document, "")
        add_line(document, letter.copy_to)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()
