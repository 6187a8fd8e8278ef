"""The console's lists read every consultation's counts at once: each row holds its own."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage.console import group_figures, list_consultation_overviews
from storage.consultations import consultation_counts
from storage.enums import Role
from tests.support import MODERATOR, Group


async def test_each_row_of_the_list_and_of_the_group_figures_holds_its_own_counts(
    group: Group,
) -> None:
    other = Group(group.app, group.clock, group.sender, conversation="社区群")
    await group.say(MODERATOR, "/协商 开始 夜市延长营业时间")
    await group.say("张三", "/意见 噪音要管")
    await group.say("李四", "/建议 设置降噪屏障")
    await group.say("李四", "/建议 错开收摊时间")
    await group.say("李四", "/撤回 #3")
    await group.say(MODERATOR, "/投票 延长到23点？| 支持 | 反对")
    await group.say(MODERATOR, "/协商 阶段 报送意见")
    await group.answer("秘书", "/报送 #2 市城管局", role=Role.SECRETARY)
    await group.say(MODERATOR, "/协商 结束")
    await other.say(MODERATOR, "/协商 开始 社区食堂")
    await other.say("王五", "/意见 要照顾老人口味")
    await group.say(MODERATOR, "/协商 开始 公交站点")

    with Session(group.app.engine) as session:
        listed = list_consultation_overviews(session)
        one_by_one = {o.id: consultation_counts(session, consultation_id=o.id) for o in listed}
        by_group = group_figures(session, zone=ZoneInfo("Asia/Shanghai"), year=None)

    assert [
        (o.id, o.topic, o.opinions, o.suggestions, o.participants, o.polls, o.referrals)
        for o in listed
    ] == [
        (3, "公交站点", 0, 0, 0, 0, 0),
        (2, "社区食堂", 1, 0, 1, 0, 0),
        (1, "夜市延长营业时间", 1, 1, 2, 1, 1),
    ]
    for overview in listed:
        counts = one_by_one[overview.id]
        assert (counts.opinions, counts.suggestions, counts.participants, counts.polls) == (
            overview.opinions,
            overview.suggestions,
            overview.participants,
            overview.polls,
        )
    assert [
        (f.label, f.consultations, f.opinions, f.suggestions, f.referrals) for f in by_group
    ] == [
        ("社区群", 1, 1, 0, 0),
        (group.conversation, 2, 1, 1, 1),
    ]
