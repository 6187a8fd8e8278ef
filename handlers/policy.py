"""/签批 /发文: the loop from suggestion to policy. A secretary records a leader's written
instruction (签批) and the document issued because of a consultation or a referral (发文);
both show in the minutes' follow-up, the console and the year's table. One recorded in error
is withdrawn (/签批 撤销, /发文 撤销) and recorded again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Self

from bot.core.args import Refs
from bot.core.context import Context
from bot.core.dates import Day
from bot.core.errors import UsageError, UserError
from bot.core.router import Router
from bot.core.text import fold, format_refs, one_line
from storage.consultations import get_consultation, last_closed_consultation
from storage.enums import DocumentIssuer, Role, Stage
from storage.followup import (
    Recorded,
    find_document,
    find_signoff,
    numbered_in_group,
    record_document,
    record_signoff,
    remove_recorded,
)
from storage.models import Consultation
from storage.referrals import find_referral
from storage.step_tables import LeaderSignoff, PolicyDocument, Referral

router = Router("policy")

NAME_LIMIT = 64
INSTRUCTION_LIMIT = 1000
DOC_NUMBER_LIMIT = 64
DOC_TITLE_LIMIT = 200
# `#3` or `报送 #3` before the rest: the referral it is about.
_TARGET = re.compile(r"\s*(?:报送\s*)?[#＃]\s*(\d{1,9})(?!\d)\s*")
_WORD = re.compile(r"\s*([^\s:：]+)\s*[:：]?\s*(.*)$", re.DOTALL)
_DATE = re.compile(r"(?:(\d{4})[-/年.])?(\d{1,2})[-/月.](\d{1,2})日?")
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "昨天": 1, "昨日": 1, "前天": 2}


@dataclass(frozen=True, slots=True)
class DaySpec:
    """A day that has passed: `12月1日`, `2026-12-01`, `2026年12月1日`, `今天`, `昨天`,
    `上周五`, `3天前`."""

    year: int | None
    month: int
    day: int
    days_ago: int | None = None
    # A day as people say it (`上周五`, `3天前`).
    spoken: Day | None = None

    @classmethod
    def read(cls, raw: str) -> Self | None:
        """The day, or None when `raw` is no date at all."""
        text = fold(raw).replace(" ", "")
        if text in _RELATIVE_DAYS:
            return cls(None, 0, 0, _RELATIVE_DAYS[text])
        match = _DATE.fullmatch(text)
        if not match:
            spoken = Day.parse(text)
            return None if spoken is None else cls(None, 0, 0, None, spoken)
        year = int(match.group(1)) if match.group(1) else None
        return cls(year, int(match.group(2)), int(match.group(3)))

    def on_or_before(self, today: date) -> date:
        """The day itself; without a year, the latest such day up to today."""
        if self.days_ago is not None:
            return today - timedelta(days=self.days_ago)
        if self.spoken is not None:
            chosen = self.spoken.before(today)
            if chosen > today:
                raise UsageError(f"{chosen:%Y-%m-%d} 还没到，请写已经过去的日期。")
            return chosen
        try:
            chosen = date(self.year or today.year, self.month, self.day)
            if self.year is None and chosen > today:
                chosen = date(today.year - 1, self.month, self.day)
        except ValueError as error:
            raise UsageError(f"没有 {self.month}月{self.day}日 这一天。") from error
        if chosen > today:
            raise UsageError(f"{chosen:%Y-%m-%d} 还没到，请写已经过去的日期。")
        return chosen


def _split_target(raw: str) -> tuple[int | None, str]:
    """The referral number at the start, if written, and the rest."""
    match = _TARGET.match(raw)
    if match:
        return int(match.group(1)), raw[match.end() :]
    if raw.strip().startswith("报送"):
        raise UsageError("请写出报送编号，如 报送 #1。")
    return None, raw


def _limited(text: str, limit: int, what: str) -> str:
    if len(text) > limit:
        raise UsageError(f"{what}最多 {limit} 字。")
    return text


@dataclass(frozen=True, slots=True)
class SignoffSpec:
    """`[#报送编号] <姓名> <职务> [日期] <批示内容>`, e.g. `#1 王明 市委书记 12月1日 请…`."""

    referral: int | None
    leader: str
    title: str
    day: DaySpec | None
    instruction: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Who, in which office, when (today if not written), and the instruction's words."""
        referral, rest = _split_target(raw)
        words = rest.split(maxsplit=1)
        if len(words) < 2:
            raise UsageError(
                "请写出领导姓名、职务和批示内容，如 /签批 #1 王明 市委书记 请抓紧落实。"
            )
        leader = words[0].lstrip("@＠")
        if ":" in leader or "：" in leader:
            raise UsageError("请在姓名后写出领导的职务，如 王明 市委书记：请抓紧落实。")
        title_match = _WORD.match(words[1])
        assert title_match is not None  # words[1] starts with a non-space character
        title, after = title_match.group(1), title_match.group(2)
        if DaySpec.read(title) is not None:
            raise UsageError("请在日期前写出领导的职务，如 王明 市委书记 12月1日。")
        day = None
        date_match = _WORD.match(after)
        if date_match and (found := DaySpec.read(date_match.group(1))) is not None:
            day, after = found, date_match.group(2)
        instruction = after.strip()
        if not leader or not instruction:
            raise UsageError("请写出批示内容，如 /签批 #1 王明 市委书记 请市民政局抓紧研究落实。")
        return cls(
            referral,
            _limited(leader, NAME_LIMIT, "姓名"),
            _limited(title, NAME_LIMIT, "职务"),
            day,
            _limited(instruction, INSTRUCTION_LIMIT, "批示内容"),
        )


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """`[#报送编号] <党委|党委办|政府|政府办|部门> [文号] 《标题》 [日期]`."""

    referral: int | None
    issuer: DocumentIssuer
    doc_number: str
    title: str
    day: DaySpec | None

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Who issued it, its number if known, its title in 《》 and the day (today if none)."""
        referral, rest = _split_target(raw)
        words = rest.split(maxsplit=1)
        if not words:
            raise UsageError("请写出发文机关和文件标题，如 /发文 #1 政府办 《关于…的实施意见》。")
        issuer = DocumentIssuer.from_text(words[0])
        if issuer is None:
            raise UsageError(
                "发文机关应为 党委、党委办、政府、政府办 或 部门，"
                f"而不是「{one_line(words[0], 10)}」。"
            )
        remainder = words[1] if len(words) > 1 else ""
        opening, closing = remainder.find("《"), remainder.rfind("》")
        if opening < 0 or closing < opening:
            raise UsageError(
                "请把文件标题写在《》中，如 《桐乡市既有住宅加装电梯实施意见（试行）》。"
            )
        title = " ".join(remainder[opening + 1 : closing].split())
        if not title:
            raise UsageError("文件标题不能为空。")
        after = remainder[closing + 1 :].strip()
        day = DaySpec.read(after) if after else None
        if after and day is None:
            raise UsageError(
                f"《》之后只能写发文日期，如 6月1日，而不是「{one_line(after, 12)}」。"
            )
        return cls(
            referral,
            issuer,
            _limited(remainder[:opening].strip(), DOC_NUMBER_LIMIT, "文号"),
            _limited(title, DOC_TITLE_LIMIT, "文件标题"),
            day,
        )


def _subject(ctx: Context, referral_number: int | None) -> tuple[Consultation, Referral | None]:
    """The consultation (and referral) a 签批 or document is about: the group's referral
    #n when named, else the open consultation, else the one that closed last (a leader
    often signs off weeks after the session)."""
    if referral_number is not None:
        referral = find_referral(ctx.session, group_id=ctx.group_id, number=referral_number)
        if referral is None:
            raise UserError(f"本群没有报送 #{referral_number}，请核对编号。")
        return get_consultation(ctx.session, consultation_id=referral.consultation_id), referral
    latest = ctx.consultation or last_closed_consultation(ctx.session, group_id=ctx.group_id)
    if latest is None:
        raise UserError("本群还没有协商。签批和发文记在一场协商或它的报送上。")
    return latest, None


def _about(consultation: Consultation, referral: Referral | None) -> str:
    """`报送 #1（市民政局）` or `「夜市延长营业时间」协商`."""
    if referral is not None:
        return f"报送 #{referral.number}（{referral.lead_department}）"
    return f"「{one_line(consultation.topic, 30)}」协商" if consultation.topic else "本场协商"


def _day_text(day: date, today: date) -> str:
    return (
        f"{day.month}月{day.day}日"
        if day.year == today.year
        else f"{day.year}年{day.month}月{day.day}日"
    )


@router.command(
    "签批",
    "signoff",
    usage="/签批 [#报送编号] <领导姓名> <职务> [日期] <批示内容>",
    summary="记录领导对协商成果或报送的签批",
    roles=[Role.SECRETARY],
    listed_in=[Stage.REPLY, Stage.EVALUATE],
)
async def record_leader_signoff(ctx: Context, args: SignoffSpec) -> None:
    """Record a leader's 签批 on a referral or on the consultation, and tell the group."""
    assert ctx.message is not None
    consultation, referral = _subject(ctx, args.referral)
    assert consultation.id is not None
    today = ctx.now.astimezone(ctx.settings.zone).date()
    signed_on = args.day.on_or_before(today) if args.day else today
    referral_id = referral.id if referral is not None else None
    earlier = find_signoff(
        ctx.session,
        consultation_id=consultation.id,
        referral_id=referral_id,
        leader=args.leader,
        signed_on=signed_on,
        instruction=args.instruction,
    )
    if earlier is not None:
        raise UserError(f"这条签批已经记录过（签批 #{earlier.number}），未重复记录。")
    signoff = record_signoff(
        ctx.session,
        consultation_id=consultation.id,
        referral_id=referral_id,
        leader=args.leader,
        title=args.title,
        signed_on=signed_on,
        instruction=args.instruction,
        member_id=ctx.member_id,
        message_id=ctx.message.message_id,
        now=ctx.now,
    )
    ctx.post(
        f"签批 #{signoff.number}：{args.leader}（{args.title}）{_day_text(signed_on, today)}"
        f"对{_about(consultation, referral)}作出批示：“{args.instruction}”"
    )


@router.command(
    "发文",
    "document",
    usage="/发文 [#报送编号] <党委|党委办|政府|政府办|部门> [文号] 《文件标题》 [日期]",
    summary="记录协商成果转化的文件（党委、政府或部门发文）",
    roles=[Role.SECRETARY],
    listed_in=[Stage.REPLY, Stage.EVALUATE],
)
async def record_policy_document(ctx: Context, args: DocumentSpec) -> None:
    """Record a document issued because of a referral or the consultation, and tell the group."""
    assert ctx.message is not None
    consultation, referral = _subject(ctx, args.referral)
    assert consultation.id is not None
    earlier = find_document(ctx.session, consultation_id=consultation.id, title=args.title)
    if earlier is not None:
        raise UserError(f"《{args.title}》已经记录过（发文 #{earlier.number}），未重复记录。")
    today = ctx.now.astimezone(ctx.settings.zone).date()
    issued_on = args.day.on_or_before(today) if args.day else today
    document = record_document(
        ctx.session,
        consultation_id=consultation.id,
        referral_id=referral.id if referral is not None else None,
        issuer=args.issuer,
        doc_number=args.doc_number,
        title=args.title,
        issued_on=issued_on,
        member_id=ctx.member_id,
        message_id=ctx.message.message_id,
        now=ctx.now,
    )
    number = f"（{args.doc_number}）" if args.doc_number else ""
    ctx.post(
        f"发文 #{document.number}：{args.issuer.label}{_day_text(issued_on, today)}印发"
        f"《{args.title}》{number}，源自{_about(consultation, referral)}。"
    )


# A record made in error (the wrong leader, a mistyped title) would count in the year's table
# for good: its secretary takes it out and records it again.
@router.command(
    "签批 撤销",
    "signoff withdraw",
    usage="/签批 撤销 #签批编号",
    summary="撤销记错的签批",
    roles=[Role.SECRETARY],
)
async def withdraw_signoffs(ctx: Context, args: Refs) -> None:
    """Take 签批 recorded in error out of the record, all or none, and tell the group."""
    signoffs = _numbered(ctx, LeaderSignoff, args.numbers, "签批")
    remove_recorded(ctx.session, signoffs)
    _tell_withdrawn(ctx, "签批", [f"#{s.number} {s.leader}（{s.title}）的批示" for s in signoffs])


@router.command(
    "发文 撤销",
    "document withdraw",
    usage="/发文 撤销 #发文编号",
    summary="撤销记错的发文",
    roles=[Role.SECRETARY],
)
async def withdraw_documents(ctx: Context, args: Refs) -> None:
    """Take documents recorded in error out of the record, all or none, and tell the group."""
    documents = _numbered(ctx, PolicyDocument, args.numbers, "发文")
    remove_recorded(ctx.session, documents)
    _tell_withdrawn(ctx, "发文", [f"#{d.number}《{d.title}》" for d in documents])


def _numbered(
    ctx: Context, kind: type[Recorded], numbers: tuple[int, ...], label: str
) -> list[Recorded]:
    """The group's records of these numbers, in the order written; none if one is missing."""
    found = numbered_in_group(ctx.session, kind, group_id=ctx.group_id, numbers=numbers)
    missing = [n for n in numbers if n not in found]
    if missing:
        raise UserError(
            f"本群没有{label} {format_refs(missing)}，请核对编号（记录时回复的 {label} #N）。"
        )
    return [found[n] for n in numbers]


def _tell_withdrawn(ctx: Context, label: str, what: list[str]) -> None:
    ctx.post(
        f"已撤销{label} {'；'.join(what)}。统计和之后的纪要不再计入；已生成的纪要版本保持原样。"
    )
