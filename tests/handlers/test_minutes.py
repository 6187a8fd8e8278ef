"""/纪要 as the secretary uses it: built off the message path, posted as Markdown, stored as
numbered versions whose every quote is what a member said."""

from __future__ import annotations

import io
import json
from typing import Any

from docx import Document
from markdown_it import MarkdownIt

from storage.enums import Role
from tests.support import MODERATOR, Group

SECRETARY = "秘书"
PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])

SAID = [
    ("张三", "/意见 加装电梯的费用应当按楼层高低分摊，高层多出一些"),
    ("李四", "/意见 电梯费用分摊要照顾一楼住户，一楼可以不出钱"),
    ("王五", "高层住户出资比例高一些比较公平，低层少出"),
    ("赵六", "/建议 设立老旧小区加装电梯专项补贴，减轻居民负担"),
    ("钱七", "/建议 政府补贴应覆盖电梯后期维护保养费用"),
    ("孙八", "电梯施工期间的噪音和扬尘要管住，晚上不能施工"),
    ("周九", "/意见 施工时间要避开午休和夜间，噪音扰民问题突出"),
    ("吴十", "一楼住户的采光和通风会受影响，设计时要考虑"),
    ("郑一", "/意见 低层住户的采光问题要在方案里专门论证"),
    ("冯二", "# 标题 [链接](http://evil.example) @所有人 **强调** <b>粗</b> `代码`"),
    ("陈三", "/意见 这条意见我要撤回，不应出现在纪要里"),
]


async def consultation_with_statements(group: Group) -> None:
    """A consultation with opinions, remarks, suggestions, a retraction, marks and a poll."""
    await group.say(MODERATOR, "/协商 开始 老旧小区加装电梯")
    for who, text in SAID:
        await group.say(who, text)
    await group.say("陈三", "/撤回 #11")
    for who in ("李四", "王五", "赵六"):
        await group.say(who, "/赞同 #1")
    await group.say("钱七", "/反对 #1")
    await group.say("张三", "/附议 #4")
    await group.say(MODERATOR, "/投票 是否支持按楼层分摊？| 支持 | 反对 | 弃权")
    for who, choice in [("张三", 1), ("李四", 1), ("王五", 2), ("赵六", 3), ("钱七", 1)]:
        await group.say(who, f"/投 {choice}")
    await group.say(MODERATOR, "/结束投票")
    await group.group_sees()


async def ask_for_minutes(group: Group) -> str:
    """The secretary sends /纪要; the worker builds it; the minutes the group then sees."""
    answer = await group.answer(SECRETARY, "/纪要", role=Role.SECRETARY)
    assert answer == f"{SECRETARY}：正在生成纪要…完成后发到群里。"
    await group.app.minutes.drain()
    seen = await group.group_sees()
    assert seen[0] == answer
    assert len(seen) == 3  # the answer, the minutes, their Word file
    return seen[1]


def stored_body(group: Group, number: int) -> dict[str, Any]:
    [(body,)] = group.rows("SELECT body FROM minutes_version WHERE number = :n", n=number)
    parsed: dict[str, Any] = json.loads(body)
    return parsed


async def test_a_member_who_is_not_secretary_is_refused(group: Group) -> None:
    await group.say(MODERATOR, "/协商 开始 老旧小区加装电梯")

    answer = await group.answer("张三", "/纪要")

    assert answer.startswith("张三：/纪要 仅限秘书使用。")
    assert group.count("minutes_request") == 0


async def test_minutes_are_posted_as_markdown_and_stored_as_new_versions(group: Group) -> None:
    await consultation_with_statements(group)

    first = await ask_for_minutes(group)
    second = await ask_for_minutes(group)

    assert first.startswith("### 会议纪要：老旧小区加装电梯")
    assert first.endswith("\n\n（纪要第 1 版）")
    assert second.endswith("\n\n（纪要第 2 版）")
    # Members have no command line: the full text follows as a file, and stays in the console.
    assert "完整纪要（Word 版）随后发送，秘书也可在协商助手后台下载" in first
    assert "xieshang" not in first
    assert [m.kind for m in group.sender.sent[-2:]] == ["markdown", "file"]
    assert group.rows(
        "SELECT number, method, created_by IS NOT NULL FROM minutes_version ORDER BY number"
    ) == [(1, "tfidf", True), (2, "tfidf", True)]
    assert group.count("minutes_request", "done_at IS NULL") == 0


async def test_each_version_follows_as_its_docx_file_linked_where_files_cannot_go(
    group: Group,
) -> None:
    await consultation_with_statements(group)
    await ask_for_minutes(group)
    await ask_for_minutes(group)

    files = [m for m in group.sender.sent if m.kind == "file"]
    [(first_id, first_docx), (second_id, _)] = group.rows(
        "SELECT id, docx FROM minutes_version ORDER BY number"
    )
    assert [(f.file.source, f.file.id) for f in files if f.file] == [
        ("minutes", first_id),
        ("minutes", second_id),
    ]
    assert files[0].file is not None
    assert files[0].file.name == "会议纪要-协商1-第1版.docx"
    # The text is what a platform without files shows: the console's copy of that version.
    assert files[0].body == (
        "纪要第 1 版（Word）：http://127.0.0.1:8080/console/consultations/1/minutes/1.docx"
        "（秘书登录协商助手后台后下载）"
    )
    assert Document(io.BytesIO(bytes(first_docx))).paragraphs
    # The outbox names the version; the bytes stay in minutes_version.
    stored = group.rows("SELECT payload FROM outbox WHERE kind = 'file' ORDER BY id")
    payloads = [p if isinstance(p, dict) else json.loads(p) for (p,) in stored]
    assert [p["file"] for p in payloads] == [
        {"source": "minutes", "id": first_id, "name": "会议纪要-协商1-第1版.docx"},
        {"source": "minutes", "id": second_id, "name": "会议纪要-协商1-第2版.docx"},
    ]


async def test_a_second_request_while_one_waits_is_answered_not_queued(group: Group) -> None:
    await consultation_with_statements(group)
    await group.say(SECRETARY, "/纪要", role=Role.SECRETARY)

    again = await group.answer(SECRETARY, "/纪要", role=Role.SECRETARY)

    assert again == f"{SECRETARY}：纪要正在生成，稍候会发到群里。"
    assert group.count("minutes_request") == 1


async def test_every_quote_is_a_statement_verbatim_and_retracted_ones_never_appear(
    group: Group,
) -> None:
    await consultation_with_statements(group)
    markdown = await ask_for_minutes(group)

    body = stored_body(group, 1)
    said = dict(group.rows("SELECT number, text FROM opinion WHERE retracted_at IS NULL"))
    quotes = [q for theme in body["themes"] for q in [*theme["opinions"], theme["representative"]]]
    quotes += [*body["suggestions"], *body["consensus"], *body["divisive"]]
    assert quotes
    for quote in quotes:
        assert said[quote["id"]] == quote["text"]
    assert "撤回" not in json.dumps(body, ensure_ascii=False)
    assert "撤回" not in markdown
    assert body["participation"]["remarks"] == 4


async def test_member_markup_never_becomes_structure(group: Group) -> None:
    await consultation_with_statements(group)
    markdown = await ask_for_minutes(group)

    [(stored,)] = group.rows("SELECT markdown FROM minutes_version")
    for text in (markdown, stored):
        tokens = [t for block in PARSER.parse(text) for t in [block, *(block.children or [])]]
        kinds = {t.type for t in tokens}
        assert not kinds & {"link_open", "image", "html_inline", "html_block", "code_inline"}
        assert [t.tag for t in tokens if t.type == "heading_open"] == ["h3"]
        strong = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "strong_open"]
        assert "强调" not in strong
        assert "@所有人" not in text


async def test_a_polls_numbers_in_the_minutes_are_its_ballots(group: Group) -> None:
    await consultation_with_statements(group)
    await ask_for_minutes(group)

    [poll] = stored_body(group, 1)["polls"]
    ballots = [choices for _, choices in group.ballots()]
    assert poll["voters"] == len(ballots) == 5
    assert [o["votes"] for o in poll["options"]] == [
        sum(option in choices for choices in ballots) for option in (1, 2, 3)
    ]
    assert [o["votes"] for o in poll["options"]] == [3, 1, 1]


async def test_the_stored_docx_opens_and_carries_the_five_sections(group: Group) -> None:
    await consultation_with_statements(group)
    await ask_for_minutes(group)

    [(docx,)] = group.rows("SELECT docx FROM minutes_version")
    paragraphs = Document(io.BytesIO(bytes(docx))).paragraphs
    text = "\n".join(p.text for p in paragraphs)
    assert [p.text for p in paragraphs if p.style is not None and p.style.name == "Heading 1"] == [
        "一、概况",
        "二、主要意见",
        "三、表决情况",
        "四、共识与分歧",
        "五、建议事项",
    ]
    assert "设立老旧小区加装电梯专项补贴" in text


async def test_the_header_names_the_moderator_and_lists_members_and_staff_apart(
    group: Group,
) -> None:
    await consultation_with_statements(group)
    await ask_for_minutes(group)

    consultation = stored_body(group, 1)["consultation"]
    assert consultation["moderators"] == [MODERATOR]
    assert MODERATOR not in consultation["attendees"]
    assert SECRETARY not in consultation["attendees"]
    assert {"张三", "李四", "郑一"} <= set(consultation["attendees"])
    assert f"{SECRETARY}（秘书）" in consultation["observers"]


async def test_the_plan_and_research_notes_reach_the_minutes_with_their_authors(
    group: Group,
) -> None:
    await group.say(MODERATOR, "/协商 开始")
    await group.say(MODERATOR, "/定题 老旧小区加装电梯")
    await group.say(MODERATOR, "/协商 阶段 下一步")
    await group.say(MODERATOR, "/方案 时间 12月10日下午 地点 社区会议室 邀请部门 区住建局")
    await group.say(MODERATOR, "/协商 阶段 下一步")
    await group.say("李四", "/调研 走访了3个小区，八成住户支持加装")
    await group.say(MODERATOR, "/协商 阶段 下一步")
    await group.say("张三", "/意见 加装电梯的费用应当按楼层高低分摊")
    await group.say("王五", "/意见 一楼住户可以少出一些")
    await group.group_sees()

    minutes = await ask_for_minutes(group)
    [(stored,)] = group.rows("SELECT body FROM minutes_version")

    assert "时间：12月10日下午" in minutes
    assert "邀请部门：区住建局" in minutes
    assert "走访了3个小区，八成住户支持加装" in minutes
    notes = json.loads(stored)["overview"]["research_notes"]
    assert [(note["text"], note["author"]) for note in notes] == [
        ("走访了3个小区，八成住户支持加装", "李四")
    ]


async def test_the_final_minutes_are_built_after_the_close(group: Group) -> None:
    await consultation_with_statements(group)
    await group.say(MODERATOR, "/协商 结束")
    await group.group_sees()

    answer = await group.answer(SECRETARY, "/纪要", role=Role.SECRETARY)
    await group.app.minutes.drain()
    seen = await group.group_sees()

    assert answer == f"{SECRETARY}：正在生成已结束的协商「老旧小区加装电梯」的纪要…完成后发到群里。"
    assert any(text.startswith("### 会议纪要：老旧小区加装电梯") for text in seen)
    assert group.rows("SELECT consultation_id, number FROM minutes_version") == [(1, 1)]


async def test_once_a_new_consultation_opens_the_minutes_wait_for_its_discussion(
    group: Group,
) -> None:
    await consultation_with_statements(group)
    await group.say(MODERATOR, "/协商 结束")
    await group.say(MODERATOR, "/协商 开始")  # 选题定题: nothing said yet

    answer = await group.answer(SECRETARY, "/纪要", role=Role.SECRETARY)

    assert "当前是「选题定题」阶段" in answer
    assert group.count("minutes_request") == 0
