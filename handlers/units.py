"""/本群 单位: the CPPCC unit (省, 市, 县, 乡镇) this group belongs to, so that its
consultations count in that unit's year table and in every unit above it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from bot.core.context import Context
from bot.core.errors import UsageError, UserError
from bot.core.router import Router
from bot.core.text import one_line
from storage.enums import Role
from storage.groups import get_group
from storage.units import UnitSpec, UnitTree, attach_group, unit_of_group

router = Router("units")

UNIT_NAME_LIMIT = 64
LISTED_UNITS = 12
NO_UNITS = "还没有配置单位：请在 config.yaml 的 units.tree 中列出单位，再发送 /本群 单位 <单位名>。"


@dataclass(frozen=True, slots=True)
class UnitName:
    """A unit's name as config writes it, or nothing to see the group's unit."""

    name: str

    @classmethod
    def parse(cls, raw: str) -> Self:
        """The name, trimmed; at most UNIT_NAME_LIMIT characters."""
        name = raw.strip()
        if len(name) > UNIT_NAME_LIMIT:
            raise UsageError(f"单位名称最多 {UNIT_NAME_LIMIT} 字。")
        return cls(name)


def describe_unit(tree: UnitTree, unit: UnitSpec) -> str:
    """`西湖区（县（市、区），浙江省 › 杭州市 › 西湖区）`."""
    path = tree.path(unit.name)
    where = f"，{' › '.join(u.name for u in path)}" if len(path) > 1 else ""
    return f"{unit.name}（{unit.level.label}{where}）"


def unknown_unit(tree: UnitTree, name: str) -> str:
    """The answer to a name config does not know, with the names it does."""
    names = [unit.name for unit in tree.units]
    listed = "、".join(names[:LISTED_UNITS]) + (
        f" 等 {len(names)} 个" if len(names) > LISTED_UNITS else ""
    )
    return f"没有单位「{one_line(name, 20)}」。config.yaml 中的单位有：{listed}。"


@router.command(
    "本群 单位",
    "group unit",
    usage="/本群 单位 [单位名]",
    summary="查看或设置本群所属的单位（统计按单位逐级汇总）",
    roles=[Role.SECRETARY],
)
async def set_group_unit(ctx: Context, args: UnitName) -> None:
    """Show the group's unit, or attach the group to a unit of config's tree (moving it)."""
    tree = ctx.settings.units.tree_spec()
    if not tree.units:
        raise UserError(NO_UNITS)
    group = get_group(ctx.session, group_id=ctx.group_id)
    configured = tree.configured_unit(group.platform, group.conversation_id)
    current = unit_of_group(ctx.session, tree=tree, group_id=ctx.group_id)
    if not args.name:
        if current is None:
            ctx.reply(
                "本群还没有归属单位。请发送 /本群 单位 <单位名>，"
                f"如 /本群 单位 {tree.units[-1].name}。"
            )
        else:
            source = "（在 config.yaml 中设置）" if configured is not None else ""
            ctx.reply(f"本群属于{describe_unit(tree, current)}{source}。")
        return
    unit = tree.find(args.name)
    if unit is None:
        raise UserError(unknown_unit(tree, args.name))
    if current is not None and current.name == unit.name:
        ctx.reply(f"本群已属于{describe_unit(tree, unit)}，无需更改。")
        return
    if configured is not None:
        # Config is where an office keeps its groups; a chat command must not quietly
        # disagree with it until the next start.
        raise UserError(
            f"本群在 config.yaml 中归属{configured.name}，如需改归{unit.name}，请修改配置文件。"
        )
    attach_group(
        ctx.session, group_id=ctx.group_id, unit=unit.name, member_id=ctx.member_id, now=ctx.now
    )
    if current is None:
        ctx.reply(f"本群已归属{describe_unit(tree, unit)}，本群的协商计入该单位及其上级的统计。")
    else:
        ctx.reply(
            f"本群已由{current.name}改归{describe_unit(tree, unit)}，"
            f"本群的协商统计随之从{current.name}移到{unit.name}。"
        )
