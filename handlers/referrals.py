"""/报送 /反馈 /重办 /督办: suggestions go to departments, replies come back on time or
are chased (限期答复, 督办), and unsatisfying replies are sent back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Self
from zoneinfo import ZoneInfo

from bot.core.args import NoArgs
from bot.core.context import Context
from bot.core.dates import DAY_FORMS, Day
from bot.core.errors import UsageError, UserError
from bot.core.files import FileRef, FileSource, console_url
from bot.core.router import Router
from bot.core.settings import ReferralSettings
from bot.core.text import fold, format_refs, format_time, one_line, parse_refs
from handlers.shared.followup import local_today, short_date
from reports.letter import (
    Issue,
    Reopening,
    letter_number,
    render_letter_docx,
    render_letter_markdown,
)
from storage.consultations import get_consultation
from storage.enums import LetterKind, ReplyClass, Role, Stage
from storage.groups import KnownMember, grant_role
from storage.opinions import get_opinions
from storage.referrals import (
    create_referral,
    fill_letter,
    find_referral,
    get_referral_by_id,
    list_overdue_referrals,
    mark_reminder_sent,
    record_reply,
    referral_dossier,
    referral_letters,
    referrals_awaiting_reply,
    referrals_to_department,
    reopen_reply,
    reserve_letter,
    sent_reminder_keys,
    standing_reply,
    unrendered_letters,
)
from storage.step_tables import Referral, ReferralLetter, ReferralReply

router = Router("referrals")

DEPARTMENT_LIMIT = 64
CO_DEPARTMENT_LIMIT = 10
_SEPARATORS = re.compile(r"[、，,;；\s]+")
_REFS_HEAD = re.compile(r"\s*((?:[#＃]\s*\d+\s*[,，、]?\s*)+)")
_KEYWORDS = re.compile(r"(协办|期限|联络员)")
_DEADLINE_AT_END = re.compile(r"\s*期限\s*(\S+)\s*$")


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    """`30天` (days from today, the last day included), a date (`12月31日`, `2026-12-31`)
    or a day as people say it (`下周五`, `3天后`, `明天`)."""

    days: int | None
    month_day: tuple[int | None, int, int] | None
    spoken: Day | None = None

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Whole days, or a calendar date."""
        text = fold(raw).replace(" ", "")
        days = re.fullmatch(r"(\d{1,3})天", text)
        if days:
            count = int(days.group(1))
            if not 1 <= count <= 366:
                raise UsageError("期限应在 1 到 366 天之间。")
            return cls(count, None)
        day = re.fullmatch(r"(?:(\d{4})[-/年.])?(\d{1,2})[-/月.](\d{1,2})日?", text)
        if day:
            year = int(day.group(1)) if day.group(1) else None
            return cls(None, (year, int(day.group(2)), int(day.group(3))))
        spoken = Day.parse(raw)
        if spoken is not None:
            return cls(None, None, spoken)
        raise UsageError(f"无法识别期限「{one_line(raw, 12)}」，可写 30天 或 {DAY_FORMS}。")

    def last_day(self, today: date) -> date:
        """The last day to answer, counted from `today`."""
        if self.days is not None:
            return today + timedelta(days=self.days)
        if self.spoken is not None:
            chosen = self.spoken.after(today)
        else:
            assert self.month_day is not None
            year, month, day = self.month_day
            try:
                chosen = date(year or today.year, month, day)
                if year is None and chosen <= today:
                    chosen = date(today.year + 1, month, day)
            except ValueError as error:
                raise UsageError(f"没有 {month}月{day}日 这一天。") from error
        if chosen <= today:
            raise UsageError(f"期限 {chosen:%Y-%m-%d} 已过，请写一个今天之后的日期。")
        if chosen > today + timedelta(days=366):
            raise UsageError("期限不能超过一年。")
        return chosen


def due_date(spec: DeadlineSpec | None, *, default_days: int, today: date) -> date:
    """The deadline: the last day (local) on which a reply is on time. It is the one date
    the chat, the letters, the console and the exports show, and reminders count to."""
    return (spec or DeadlineSpec(default_days, None)).last_day(today)


def _departments(text: str) -> list[str]:
    names = [name for name in _SEPARATORS.split(text.strip()) if name]
    if any(len(name) > DEPARTMENT_LIMIT for name in names):
        raise UsageError(f"单位名称最多 {DEPARTMENT_LIMIT} 字。")
    return list(dict.fromkeys(names))


@dataclass(frozen=True, slots=True)
class ReferralSpec:
    """`#12 #15 市民政局 [协办 市财政局、市住建局] [期限 30天] [联络员 @李华]`."""

    numbers: tuple[int, ...]
    lead: str
    co: tuple[str, ...]
    deadline: DeadlineSpec | None
    # The department's liaison as written after 联络员 (an @ names a member of the group).
    liaison: str = ""

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Opinion numbers first, then one lead department, then the optional parts."""
        head = _REFS_HEAD.match(raw)
        if not head:
            raise UsageError("请先写出要报送的意见建议编号，如 #12 #15。")
        numbers = tuple(dict.fromkeys(parse_refs(head.group(1))))
        if len(numbers) > 20:
            raise UsageError("一次最多报送 20 条。")
        pieces = _KEYWORDS.split(raw[head.end() :])
        lead = _departments(pieces[0])
        if not lead:
            raise UsageError("请写出主办单位，如 市民政局。")
        if len(lead) > 1:
            raise UsageError("主办单位只能写一个，其他单位请写在「协办」之后。")
        co: list[str] = []
        deadline = None
        liaison = ""
        seen: set[str] = set()
        for keyword, value in zip(pieces[1::2], pieces[2::2], strict=True):
            if keyword in seen:
                raise UsageError(f"「{keyword}」只能写一次。")
            seen.add(keyword)
            if keyword == "协办":
                co = [name for name in _departments(value) if name != lead[0]]
                if not co:
                    raise UsageError("请在「协办」后写出协办单位。")
            elif keyword == "联络员":
                liaison = value.strip().lstrip("@＠").strip()
                if not liaison or len(liaison) > DEPARTMENT_LIMIT:
                    raise UsageError("请在「联络员」后 @ 部门联络员，如 联络员 @李华。")
            else:
                deadline = DeadlineSpec.parse(value)
        if len(co) > CO_DEPARTMENT_LIMIT:
            raise UsageError(f"协办单位最多 {CO_DEPARTMENT_LIMIT} 个。")
        return cls(numbers, lead[0], tuple(co), deadline, liaison)


@router.command(
    "报送",
    "refer",
    usage=(
        "/报送 #编号… <主办单位> [协办 <单位、单位>] [期限 30天｜12月31日｜下周五] [联络员 @姓名]"
    ),
    summary="把意见建议报送部门办理，并生成报送函",
    roles=[Role.SECRETARY],
    stages=[Stage.REFER],
)
async def refer_suggestions(ctx: Context, args: ReferralSpec) -> None:
    """Refer suggestions to a department with a deadline, post the letter, arm reminders."""
    consultation = ctx.require_consultation()
    assert consultation.id is not None
    assert ctx.message is not None
    found = get_opinions(ctx.session, consultation_id=consultation.id, numbers=list(args.numbers))
    missing = [n for n in args.numbers if n not in found]
    if missing:
        raise UserError(f"没有找到 {format_refs(missing)}，请核对编号。")
    withdrawn = [n for n in args.numbers if found[n].retracted_at is not None]
    if withdrawn:
        raise UserError(f"{format_refs(withdrawn)} 已被撤回，不能报送。")
    opinion_ids = [opinion_id for n in args.numbers if (opinion_id := found[n].id) is not None]
    earlier = referrals_to_department(
        ctx.session, opinion_ids=opinion_ids, lead_department=args.lead
    )
    if earlier:
        again = [o.number for o in found.values() if o.id in earlier]
        raise UserError(
            f"{format_refs(again)} 已报送{args.lead}（报送 {format_refs(earlier.values())}）。"
        )
    due_on = due_date(
        args.deadline,
        default_days=ctx.settings.referrals.default_deadline_days,
        today=local_today(ctx),
    )
    referral = create_referral(
        ctx.session,
        consultation_id=consultation.id,
        opinion_ids=opinion_ids,
        lead_department=args.lead,
        co_departments=list(args.co),
        due_on=due_on,
        member_id=ctx.member_id,
        message_id=ctx.message.message_id,
        now=ctx.now,
    )
    assert referral.id is not None
    arm_next_reminder(ctx, referral)
    co = f"，{'、'.join(args.co)}协办" if args.co else ""
    liaison = _appoint_liaison(ctx, args.liaison)
    ctx.post(
        f"报送 #{referral.number}：{format_refs(args.numbers)} 已报送{args.lead}{co}，"
        f"请于 {short_date(due_on)} 前答复。"
        + (f"联络员 @{liaison.name} 可发送 /反馈 #{referral.number} 录入答复。" if liaison else ""),
        mentions=(liaison.user_id,) if liaison else (),
    )
    letter = issue_letter(ctx, referral)
    ctx.post(letter.markdown, markdown=True)
    post_letter_file(ctx, referral, letter)


def _appoint_liaison(ctx: Context, written: str) -> KnownMember | None:
    """The department's liaison named with `联络员 @李华`, given the liaison's role in the
    group (so they may record the reply); UserError when the @ names no member the group
    knows (they must have written in it once)."""
    if not written:
        return None
    member = next(
        (m for m in ctx.mentioned_members() if m is not None and written in (m.name, m.user_id)),
        None,
    )
    if member is None:
        raise UserError(f"群里还没有「{written}」的发言记录：请联络员先在群里说一句话，再 @ 他。")
    grant_role(
        ctx.session,
        member_id=member.id,
        group_id=ctx.group_id,
        role=Role.LIAISON,
        granted_by=ctx.member_id,
        now=ctx.now,
    )
    return member


def issue_letter(
    ctx: Context, referral: Referral, *, reopening: ReferralReply | None = None
) -> ReferralLetter:
    """Issue and store the referral's 报送函, or with `reopening` (the reply sent back) a
    重办函 that refers to it. Stored as issued: later changes to the referral never reach
    a letter already sent."""
    assert referral.id is not None
    assert ctx.message is not None
    zone = ctx.settings.zone
    today = local_today(ctx)
    earlier = referral_letters(ctx.session, referral_id=referral.id)
    first = next((letter for letter in earlier if letter.kind is LetterKind.REFERRAL), None)
    kind = LetterKind.REFERRAL if reopening is None else LetterKind.REOPEN
    letter = reserve_letter(
        ctx.session,
        referral_id=referral.id,
        kind=kind,
        refers_to=first.id if first is not None and reopening is not None else None,
        issued_on=today,
        due_on=referral.due_on,
        message_id=ctx.message.message_id,
        now=ctx.now,
    )
    assert letter.id is not None
    why = None
    if reopening is not None:
        # Every referral has its 报送函 (the upgrade reserved those of older referrals);
        # the fallback only keeps a 重办函 sensible should one be missing.
        why = Reopening(
            first_number=first.number if first else f"报送 #{referral.number}",
            first_issued_on=first.issued_on
            if first
            else referral.referred_at.astimezone(zone).date(),
            reply_class=reopening.reply_class,
            replied_on=reopening.replied_at.astimezone(zone).date(),
            reason=reopening.reopen_reason,
        )
    issue = Issue(letter_number(kind, today, letter.id), today, referral.due_on)
    filled = render(ctx, letter, issue, why)
    assert filled, "a letter reserved in this transaction has no text yet"
    return letter


def post_letter_file(ctx: Context, referral: Referral, letter: ReferralLetter) -> None:
    """The letter's DOCX, as issued, posted to the group as a file (named as the console
    names it); where the platform takes no files, a link to the console's copy."""
    assert letter.id is not None
    name = f"{letter.kind.label}-{letter.id}.docx"
    path = f"/console/consultations/{referral.consultation_id}/letters/{letter.id}.docx"
    ctx.post_file(
        FileRef(FileSource.LETTER, letter.id, name),
        fallback=(
            f"{letter.kind.label}（{letter.number}，Word）：{console_url(ctx.settings, path)}"
            "（秘书登录协商助手后台后下载）"
        ),
    )


def render(ctx: Context, letter: ReferralLetter, issue: Issue, why: Reopening | None) -> bool:
    """Give a letter its text and DOCX, once (False: it had them already)."""
    zone = ctx.settings.zone
    dossier = referral_dossier(ctx.session, referral_id=letter.referral_id)
    return fill_letter(
        ctx.session,
        letter=letter,
        number=issue.number,
        markdown=render_letter_markdown(dossier, issue, zone, reopening=why),
        docx=render_letter_docx(dossier, issue, zone, reopening=why),
    )


@router.on_startup
async def render_letters_issued_before_storage(ctx: Context) -> None:
    """Letters posted before letters were stored were reserved by the upgrade with their
    number, date and deadline; render them once from the record, then keep them as they
    are (a referral reopened before the upgrade has lost its first deadline: the
    reserved one is the deadline then in force)."""
    for letter in unrendered_letters(ctx.session):
        assert letter.id is not None
        issue = Issue(
            letter_number(letter.kind, letter.issued_on, letter.id),
            letter.issued_on,
            letter.due_on,
        )
        render(ctx, letter, issue, None)


def _referral(ctx: Context, number: int) -> Referral:
    """The group's referral #number. Replies come weeks after the letter, perhaps once the
    consultation has closed and another has opened; the number, kept per group, still names
    the one the letter asked about."""
    referral = find_referral(ctx.session, group_id=ctx.group_id, number=number)
    if referral is None:
        raise UserError(f"本群没有报送 #{number}，请核对编号（/督办 列出逾期未答复的报送）。")
    return referral


@dataclass(frozen=True, slots=True)
class ReplySpec:
    """`#3 A <答复内容>`; the class is A, B, C or 未采纳 (or the class's name)."""

    number: int
    reply_class: ReplyClass
    text: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Referral number, class, and the reply's words."""
        # The # may be left out, as with /附议 3: a phone keyboard hides it.
        match = re.match(r"\s*[#＃]?\s*(\d{1,9})\s+(\S+)\s*(.*)$", raw, re.DOTALL)
        if not match:
            raise UsageError("请写出报送编号、答复分类和答复内容。")
        reply_class = ReplyClass.from_text(match.group(2))
        if reply_class is None:
            raise UsageError(
                f"无法识别答复分类「{one_line(match.group(2), 8)}」，应为 A、B、C 或 未采纳。"
            )
        text = match.group(3).strip()
        name = reply_class.label.rpartition(" ")[2]
        if text.split(maxsplit=1)[:1] == [name]:  # `A 已解决 …`: the name repeats the letter
            text = text[len(name) :].strip()
        if not text:
            raise UsageError("请写出答复内容。")
        return cls(int(match.group(1)), reply_class, text)


@router.command(
    "反馈",
    "reply",
    usage="/反馈 #报送编号 <A|B|C|未采纳> <答复内容>",
    summary="录入部门的办理答复（A 已解决 / B 正在解决 / C 列入计划 / 未采纳）",
    roles=[Role.LIAISON, Role.SECRETARY],
    stages=None,  # a reply may come after the consultation closed
    listed_in=[Stage.REPLY],
)
async def record_department_reply(ctx: Context, args: ReplySpec) -> None:
    """Keep a department's reply and tell the proposers and seconders, by name."""
    referral = _referral(ctx, args.number)
    assert referral.id is not None
    standing = standing_reply(ctx.session, referral_id=referral.id)
    if standing is not None:
        raise UserError(
            f"报送 #{referral.number} 已于 {format_time(standing.replied_at, ctx.settings.zone)}"
            f" 答复（{standing.reply_class.label}）。如委员不满意，"
            f"秘书或主持人可发送 /重办 #{referral.number} <理由>。"
        )
    reply = record_reply(
        ctx.session,
        referral=referral,
        reply_class=args.reply_class,
        text=args.text,
        member_id=ctx.member_id,
        now=ctx.now,
        today=local_today(ctx),
    )
    if reply.on_time:
        timing = "按期答复"
    else:
        late = (local_today(ctx) - referral.due_on).days
        timing = f"逾期 {late} 天答复"
    dossier = referral_dossier(ctx.session, referral_id=referral.id)
    people = dossier.people
    refs = format_refs(i.number for i in dossier.items)
    current = ctx.consultation
    head = f"报送 #{referral.number} 收到{referral.lead_department}的答复"
    if current is None or current.id != referral.consultation_id:
        # Opinion numbers are kept per consultation: in another one, #7 is another opinion.
        refs = f"「{dossier.topic}」协商中的 {refs}"
        head = f"「{dossier.topic}」的{head}"
    lines = [
        f"{head}（{args.reply_class.label}，{timing}）：",
        args.text,
        f"{'、'.join(p.name for p in people)}：你们提出或附议的 {refs} 有了答复，"
        f"可发送 /评价 #{referral.number} 办理 5 结果 4 <意见> 评价。",
    ]
    ctx.post("\n".join(lines), mentions=tuple(p.user_id for p in people))


@dataclass(frozen=True, slots=True)
class ReopenSpec:
    """`#3 <理由> [期限 15天]`."""

    number: int
    reason: str
    deadline: DeadlineSpec | None

    @classmethod
    def parse(cls, raw: str) -> Self:
        """Referral number, why, and optionally a new deadline."""
        match = re.match(r"\s*[#＃]?\s*(\d{1,9})\s*(.*)$", raw, re.DOTALL)
        if not match:
            raise UsageError("请写出报送编号和重办理由。")
        rest = match.group(2)
        deadline = None
        at_end = _DEADLINE_AT_END.search(rest)
        if at_end:
            deadline = DeadlineSpec.parse(at_end.group(1))
            rest = rest[: at_end.start()]
        reason = rest.strip()
        if not reason:
            raise UsageError("请写出重办理由，如 委员认为答复没有回应夜间噪音问题。")
        return cls(int(match.group(1)), reason, deadline)


@router.command(
    "重办",
    "reopen",
    usage="/重办 #报送编号 <理由> [期限 15天]",
    summary="委员不满意时退回答复，要求重新办理",
    roles=[Role.SECRETARY, Role.MODERATOR],
    stages=None,  # as /反馈: the referral outlives its consultation
    listed_in=[Stage.REPLY, Stage.EVALUATE],
)
async def reopen_referral(ctx: Context, args: ReopenSpec) -> None:
    """Send a reply back to the department with a new deadline; reminders start again."""
    referral = _referral(ctx, args.number)
    assert referral.id is not None
    reply = standing_reply(ctx.session, referral_id=referral.id)
    if reply is None:
        raise UserError(f"报送 #{referral.number} 还没有答复，无需重办。")
    due_on = due_date(
        args.deadline,
        default_days=ctx.settings.referrals.reopen_deadline_days,
        today=local_today(ctx),
    )
    reopen_reply(
        ctx.session,
        referral=referral,
        reply=reply,
        reason=args.reason,
        due_on=due_on,
        member_id=ctx.member_id,
        now=ctx.now,
    )
    arm_next_reminder(ctx, referral)
    ctx.post(
        f"报送 #{referral.number} 的答复（{reply.reply_class.label}）退回重办：{args.reason}\n"
        f"请{referral.lead_department}于 {short_date(due_on)} 前重新答复。"
    )
    # A new letter with its own number and date; the first one stays as it was sent.
    letter = issue_letter(ctx, referral, reopening=reply)
    ctx.post(letter.markdown, markdown=True)
    post_letter_file(ctx, referral, letter)


@router.command(
    "督办", "overdue", usage="/督办", summary="查看逾期未答复的报送", listed_in=[Stage.REPLY]
)
async def list_overdue(ctx: Context, args: NoArgs) -> None:
    """List the group's referrals past their deadline without a reply."""
    today = local_today(ctx)
    overdue = list_overdue_referrals(ctx.session, today=today, group_id=ctx.group_id)
    if not overdue:
        ctx.reply("目前没有逾期未答复的报送。", mention=False)
        return
    lines = [f"逾期未答复的报送 {len(overdue)} 件："]
    for item in overdue:
        referral = item.referral
        final = referral.due_on
        late = (today - final).days
        closed = "" if item.consultation_open else "（协商已结束）"
        lines.append(
            f"报送 #{referral.number}「{one_line(item.topic, 20)}」{referral.lead_department}："
            f"期限 {short_date(final)}，逾期 {late} 天{closed}"
        )
    ctx.reply("\n".join(lines), mention=False)


# Reminders: 7 and 1 days before the last day, then every week once it has passed. Each
# has a key naming its deadline, kept when sent, so it goes out once however often its job
# runs (a restart re-arms jobs) and a reopened referral's new deadline starts a fresh set.


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder of one deadline."""

    key: str
    at: datetime
    days_before: int | None


def reminder_schedule(
    final: date, settings: ReferralSettings, zone: ZoneInfo
) -> Iterator[Reminder]:
    """The reminders of a deadline (its last day) in time order; endless, since overdue
    ones repeat from the day after it."""
    stamp = f"{final:%Y%m%d}"
    hour = time(settings.reminder_hour)

    def at(day: date) -> datetime:
        return datetime.combine(day, hour, tzinfo=zone).astimezone(UTC)

    for days in settings.reminder_days_before:
        yield Reminder(f"{stamp}:before{days}", at(final - timedelta(days=days)), days)
    week = 0
    while True:
        day = final + timedelta(days=1 + week * settings.overdue_reminder_every_days)
        yield Reminder(f"{stamp}:overdue{week}", at(day), None)
        week += 1


def arm_next_reminder(ctx: Context, referral: Referral) -> None:
    """Schedule the referral's next reminder not yet sent (in the past after downtime)."""
    assert referral.id is not None
    sent = sent_reminder_keys(ctx.session, referral_id=referral.id)
    for reminder in reminder_schedule(referral.due_on, ctx.settings.referrals, ctx.settings.zone):
        if reminder.at <= referral.deadline_set_at or reminder.key in sent:
            continue
        ctx.schedule(
            f"referral-{referral.id}-{reminder.key}",
            remind_about_referral,
            run_at=reminder.at,
            args=(referral.id, reminder.key),
        )
        return


@router.job("referral.remind")
async def remind_about_referral(ctx: Context, referral_id: int, key: str) -> None:
    """Scheduled: post the reminder due now (one message, however many fell due while the
    bot was down), unless the department answered. The close of the consultation does not
    stop them: replies are still taken, and chased, after it."""
    referral = get_referral_by_id(ctx.session, referral_id=referral_id)
    if referral is None or standing_reply(ctx.session, referral_id=referral_id) is not None:
        return
    consultation = get_consultation(ctx.session, consultation_id=referral.consultation_id)
    sent = sent_reminder_keys(ctx.session, referral_id=referral_id)
    due: list[Reminder] = []
    for reminder in reminder_schedule(referral.due_on, ctx.settings.referrals, ctx.settings.zone):
        if reminder.at > ctx.now:
            break
        if reminder.at > referral.deadline_set_at and reminder.key not in sent:
            due.append(reminder)
    if not due:
        return
    for reminder in due:
        mark_reminder_sent(ctx.session, referral_id=referral_id, key=reminder.key, now=ctx.now)
    ctx.use_group(consultation.group_id)
    final = referral.due_on
    latest = due[-1]
    where = (
        f"报送 #{referral.number}（{one_line(consultation.topic, 20)}）{referral.lead_department}"
    )
    if latest.days_before is not None:
        ctx.post(
            f"督办提醒：{where}的答复期限是 {short_date(final)}，还有 {latest.days_before} 天。"
            f"答复后请发送 /反馈 #{referral.number} <A|B|C|未采纳> <答复内容>。"
        )
    else:
        late = (local_today(ctx) - final).days
        ctx.post(
            f"督办：{where}已逾期 {late} 天（期限 {short_date(final)}），尚未答复。"
            f"发送 /督办 查看全部逾期报送。"
        )
    arm_next_reminder(ctx, referral)


@router.on_startup
async def rearm_referral_reminders(ctx: Context) -> None:
    """After a restart, make sure every referral still awaiting a reply has its next reminder."""
    for referral in referrals_awaiting_reply(ctx.session):
        arm_next_reminder(ctx, referral)
