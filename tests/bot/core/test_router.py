"""Commands are found the way members type them."""

from __future__ import annotations

import pytest

from bot.core.router import CommandTable
from handlers import ROUTERS

TABLE = CommandTable(ROUTERS)


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("/意见 路灯太暗", "意见", "路灯太暗"),
        ("／意见 路灯太暗", "意见", "路灯太暗"),
        ("  /意见路灯太暗", "意见", "路灯太暗"),
        ("/投2", "投", "2"),
        ("/投 ２", "投", "２"),
        ("/投票 问题 | 甲 | 乙", "投票", "问题 | 甲 | 乙"),
        ("/投票是否同意？|是|否", "投票", "是否同意？|是|否"),
        ("/协商 开始 夜市", "协商 开始", "夜市"),
        ("/协商开始夜市", "协商 开始", "夜市"),
        ("/consult start night market", "协商 开始", "night market"),
        ("/OPINION lights", "意见", "lights"),
        ("/vote 1", "投", "1"),
        ("/ｖｏｔｅ 1", "投", "1"),
        ("/结束投票 #2", "结束投票", "#2"),
        ("/help", "帮助", ""),
        ("/选题投票", "选题 投票", ""),
        ("/选题 投票#1 #3", "选题 投票", "#1 #3"),
        ("/选题 投票，截止 30分钟", "选题 投票", "，截止 30分钟"),
        ("/评价 汇总", "评价 汇总", ""),
        ("/意见：夜市要配套公厕", "意见", "夜市要配套公厕"),
        ("/意见:夜市要配套公厕", "意见", "夜市要配套公厕"),
        ("/协商 开始：夜市", "协商 开始", "夜市"),
        ("/suggestion 多设公厕", "建议", "多设公厕"),
    ],
)
def test_commands_are_matched_as_typed(text: str, command: str, args: str) -> None:
    match = TABLE.match(text)

    assert match is not None
    assert match.command is not None
    assert match.command.name == command
    assert match.raw_args == args


def test_plain_text_is_not_a_command() -> None:
    assert TABLE.match("大家好") is None
    assert TABLE.match("#12 说得好") is None


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("/选题 投票方式改革", "投票方式改革"),
        ("/选题投票方式改革", "投票方式改革"),
    ],
)
def test_a_subcommand_word_that_starts_the_text_of_its_parent_is_the_text(
    text: str, args: str
) -> None:
    match = TABLE.match(text)

    assert match is not None
    assert match.command is not None
    assert match.command.name == text[1:3]
    assert match.raw_args == args


def test_a_family_without_a_command_of_its_own_still_takes_a_glued_subcommand() -> None:
    match = TABLE.match("/协商 阶段下一步")

    assert match is not None
    assert match.command is not None
    assert match.command.name == "协商 阶段"
    assert match.raw_args == "下一步"


def test_an_ascii_alias_needs_a_word_boundary() -> None:
    match = TABLE.match("/voter 1")

    assert match is not None
    assert match.command is None


def test_a_family_without_subcommand_lists_its_members() -> None:
    match = TABLE.match("/协商")

    assert match is not None
    assert match.command is None
    assert match.family_name == "协商"
    assert {c.name for c in match.family} == {"协商 开始", "协商 状态", "协商 阶段", "协商 结束"}


def test_every_command_has_usage_summary_and_chinese_name() -> None:
    for command in TABLE.commands:
        assert command.usage.startswith("/" + command.name.split()[0])
        assert command.summary
        assert not command.name.isascii()
        assert command.handler.__doc__


@pytest.mark.parametrize(
    ("text", "command", "args"),
    [
        ("投 1", "投", "1"),
        ("选题 养老服务", "选题", "养老服务"),
        ("意见：夜市要配套公厕", "意见", "夜市要配套公厕"),
        ("协商 开始 夜市", "协商 开始", "夜市"),
        ("help", "帮助", ""),
    ],
)
def test_addressed_to_the_bot_a_command_may_be_typed_without_its_slash(
    text: str, command: str, args: str
) -> None:
    match = TABLE.match(text, bare=True)

    assert TABLE.match(text) is None  # group chatter is never a command
    assert match is not None
    assert match.command is not None
    assert (match.command.name, match.raw_args) == (command, args)


@pytest.mark.parametrize("text", ["意见很多，大家说说", "投票是个好办法", "大家好", "#12 说得好"])
def test_a_remark_that_only_starts_with_a_command_word_is_not_a_command(text: str) -> None:
    assert TABLE.match(text, bare=True) is None


@pytest.mark.parametrize(
    ("typed", "nearest"),
    [
        ("/意建 夜市", "意见"),
        ("/意建夜市要配套", "意见"),
        ("/sugest 公厕", "建议"),
        ("/纪有", "纪要"),
    ],
)
def test_an_unknown_command_is_answered_with_the_nearest(typed: str, nearest: str) -> None:
    assert TABLE.suggest(typed)[0].name == nearest
