"""The lines in which a consultation's status and its close describe the plan, the
referrals and their ratings (each feature's own handler module uses them too)."""

from __future__ import annotations

from datetime import date

from bot.core.context import Context
from reports.cells import score_text
from storage.followup import follow_up
from storage.ratings import rating_averages
from storage.referrals import list_referrals, standing_reply
from storage.step_tables import ConsultationPlan, Referral

# The fields in the order they are shown, with the names they are shown under.
PLAN_FIELDS = {
    "schedule": "时间",
    "place": "地点/形式",
    "departments": "邀请部门",
    "leaders": "邀请领导",
    "notes": "说明",
}


def describe_plan(plan: ConsultationPlan) -> list[str]:
    """The plan as lines for the group (fields left empty are left out)."""
    values = {
        "schedule": plan.schedule,
        "place": plan.place,
        "departments": "、".join(plan.departments),
        "leaders": "、".join(plan.leaders),
        "notes": plan.notes,
    }
    return [f"{label}：{values[name]}" for name, label in PLAN_FIELDS.items() if values[name]]


def local_today(ctx: Context) -> date:
    """Today in the bot's zone: deadlines are local dates."""
    return ctx.now.astimezone(ctx.settings.zone).date()


def short_date(day: date) -> str:
    """`12月24日`, as deadlines are shown in the group."""
    return f"{day.month}月{day.day}日"


def referral_state(ctx: Context, referral: Referral) -> str:
    """One line on where a referral stands: answered, waiting, or overdue; and what came of
    it (leaders' 签批, documents issued)."""
    assert referral.id is not None
    return _reply_state(ctx, referral) + _outcome(ctx, referral)


def _reply_state(ctx: Context, referral: Referral) -> str:
    assert referral.id is not None
    final = referral.due_on
    head = f"报送 #{referral.number} {referral.lead_department}："
    reply = standing_reply(ctx.session, referral_id=referral.id)
    if reply is not None:
        state = f"已答复（{reply.reply_class.label}，{'按期' if reply.on_time else '逾期'}）"
        average = rating_averages(ctx.session, referral_ids=[referral.id]).get(referral.id)
        if average is not None:
            state += (
                f"，{average.raters} 人评价：办理 {score_text(average.handling)}，"
                f"结果 {score_text(average.result)}"
            )
        return head + state
    today = local_today(ctx)
    if final < today:
        late = (today - final).days
        return head + f"逾期 {late} 天未答复（期限 {short_date(final)}）"
    return head + f"待答复，期限 {short_date(final)}"


def _outcome(ctx: Context, referral: Referral) -> str:
    """`；签批 1 次，发文 1 件` when there is any."""
    records = follow_up(
        ctx.session, consultation_id=referral.consultation_id, referral_id=referral.id
    )
    parts = [
        f"{label} {count} {unit}"
        for label, count, unit in (
            ("签批", len(records.signoffs), "次"),
            ("发文", len(records.documents), "件"),
        )
        if count
    ]
    return "；" + "，".join(parts) if parts else ""


def rating_lines(ctx: Context, consultation_id: int) -> list[str]:
    """Average scores of each replied referral of the consultation."""
    referrals = [
        r
        for r in list_referrals(ctx.session, consultation_id=consultation_id)
        if r.id is not None and standing_reply(ctx.session, referral_id=r.id) is not None
    ]
    averages = rating_averages(ctx.session, referral_ids=[r.id for r in referrals if r.id])
    lines = []
    for referral in referrals:
        average = averages.get(referral.id or 0)
        if average is None:
            lines.append(f"报送 #{referral.number} {referral.lead_department}：尚无评价")
        else:
            lines.append(
                f"报送 #{referral.number} {referral.lead_department}：{average.raters} 人评价，"
                f"办理 {score_text(average.handling)} 分，结果 {score_text(average.result)} 分"
            )
    return lines
