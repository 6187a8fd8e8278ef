"""Units and levels: the CPPCC offices (省, 市, 县（市、区）, 乡镇（街道）) the groups belong
to, and the year's table that rolls each unit's figures up to the units above it.

The tree comes from config as plain `UnitSpec`s; the database keeps only the groups a
secretary attached with /本群 单位. A group config names stays where config puts it.
Figures follow a group's unit now: a group moved to another unit takes its figures along.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from storage.enums import UnitLevel
from storage.models import ChatGroup, Consultation
from storage.sql import insert
from storage.stats import Figures, PrincipalRule, consultation_figures, opened_in, total
from storage.step_tables import GroupUnit


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """One unit as config describes it; `groups` are `platform:conversation_id`."""

    name: str
    level: UnitLevel
    parent: str
    quota: int
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class UnitTree:
    """The units, parents before their children (config checks that the tree is one)."""

    units: tuple[UnitSpec, ...] = ()

    def find(self, name: str) -> UnitSpec | None:
        """The unit of this name."""
        return next((unit for unit in self.units if unit.name == name), None)

    def children(self, name: str) -> tuple[UnitSpec, ...]:
        """The units directly under `name`, in config's order (roots for "")."""
        return tuple(unit for unit in self.units if unit.parent == name)

    def path(self, name: str) -> tuple[UnitSpec, ...]:
        """From the root down to the unit."""
        found: list[UnitSpec] = []
        unit = self.find(name)
        while unit is not None:
            found.insert(0, unit)
            unit = self.find(unit.parent) if unit.parent else None
        return tuple(found)

    def subtree(self, name: str | None = None) -> list[tuple[UnitSpec, int]]:
        """The unit and everything under it, depth-first, with its depth below the start
        (every root when `name` is None)."""
        starts = self.roots() if name is None else tuple(u for u in (self.find(name),) if u)
        found: list[tuple[UnitSpec, int]] = []

        def walk(unit: UnitSpec, depth: int) -> None:
            found.append((unit, depth))
            for child in self.children(unit.name):
                walk(child, depth + 1)

        for unit in starts:
            walk(unit, 0)
        return found

    def roots(self) -> tuple[UnitSpec, ...]:
        """The units with no parent."""
        return self.children("")

    def configured_unit(self, platform: str, conversation_id: str) -> UnitSpec | None:
        """The unit whose config lists this group."""
        key = f"{platform}:{conversation_id}"
        return next((unit for unit in self.units if key in unit.groups), None)


def attached_unit(session: Session, *, group_id: int) -> str | None:
    """The unit a secretary attached the group to, by name."""
    return session.exec(select(GroupUnit.unit).where(GroupUnit.group_id == group_id)).first()


def attach_group(
    session: Session, *, group_id: int, unit: str, member_id: int, now: datetime
) -> None:
    """Attach the group to `unit`, moving it from the unit it was in."""
    statement = insert(session, GroupUnit).values(
        group_id=group_id, unit=unit, attached_by=member_id, attached_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["group_id"],
            set_={"unit": unit, "attached_by": member_id, "attached_at": now},
        )
    )


def unit_of_group(session: Session, *, tree: UnitTree, group_id: int) -> UnitSpec | None:
    """The group's unit: the one config lists it under, else the one it was attached to
    (None when neither, or when the attached unit left config)."""
    group = session.get(ChatGroup, group_id)
    if group is None:
        return None
    configured = tree.configured_unit(group.platform, group.conversation_id)
    if configured is not None:
        return configured
    attached = attached_unit(session, group_id=group_id)
    return tree.find(attached) if attached else None


def group_units(session: Session, *, tree: UnitTree) -> dict[int, str]:
    """The unit of every group that has one, by group id."""
    units: dict[int, str] = {}
    rows = session.exec(
        select(
            ChatGroup.id, ChatGroup.platform, ChatGroup.conversation_id, GroupUnit.unit
        ).outerjoin(GroupUnit, col(GroupUnit.group_id) == col(ChatGroup.id))
    ).all()
    for group_id, platform, conversation_id, attached in rows:
        assert group_id is not None
        configured = tree.configured_unit(platform, conversation_id)
        if configured is not None:
            units[group_id] = configured.name
        elif attached is not None and tree.find(attached) is not None:
            units[group_id] = attached
    return units


@dataclass(frozen=True, slots=True)
class UnitFigures:
    """One unit's line of the year's table: its own groups' figures and, in `total`, those
    of everything under it too. The quota counts the sessions it held itself."""

    unit: UnitSpec
    depth: int
    groups: int
    own: Figures
    total: Figures

    @property
    def held(self) -> int:
        """Sessions the unit held itself (in its own groups)."""
        return self.own.consultations

    @property
    def shortfall(self) -> int:
        """Sessions still missing to reach the quota (0 when reached)."""
        return max(self.unit.quota - self.held, 0)

    @property
    def met(self) -> bool:
        """Whether the unit held its quota of sessions."""
        return self.shortfall == 0


@dataclass(frozen=True, slots=True)
class YearTable:
    """The year's table of a unit (or of every unit): its rows depth-first, the total of
    the scope, and, for every unit, the consultations of groups that belong to none."""

    year: int | None
    scope: str
    rows: tuple[UnitFigures, ...]
    total: Figures
    unattached: Figures
    level: UnitLevel | None = None

    def at_level(self, level: UnitLevel) -> tuple[UnitFigures, ...]:
        """The rows of one level."""
        return tuple(row for row in self.rows if row.unit.level is level)

    @property
    def levels(self) -> tuple[UnitLevel, ...]:
        """The levels that have rows, from the province down."""
        return tuple(level for level in UnitLevel if self.at_level(level))


ALL_UNITS = "全部单位"


def held_by_unit(
    session: Session, *, tree: UnitTree, unit: str, year: int | None, zone: ZoneInfo
) -> int:
    """Sessions opened in `year` in the unit's own groups (what its quota counts)."""
    ids = [group_id for group_id, name in group_units(session, tree=tree).items() if name == unit]
    return session.exec(
        select(func.count())
        .select_from(Consultation)
        .where(col(Consultation.group_id).in_(ids), *opened_in(year, zone))
    ).one()


def year_table(
    session: Session,
    *,
    tree: UnitTree,
    now: datetime,
    zone: ZoneInfo,
    year: int | None,
    principal: PrincipalRule,
    unit: str | None = None,
    level: UnitLevel | None = None,
) -> YearTable:
    """The figures of the consultations opened in `year` (all years if None) by unit, each
    with everything under it; only `unit`'s subtree when given, only `level`'s rows when
    given. Raises LookupError for a unit not in the tree."""
    if unit is not None and tree.find(unit) is None:
        raise LookupError(f"no unit {unit}")
    units_of = group_units(session, tree=tree)
    statement = select(Consultation).where(*opened_in(year, zone))
    if unit is not None:
        # Only the consultations the unit's table counts: a county's secretary asking in
        # the group should not make the bot count the whole province's year.
        inside = {spec.name for spec, _ in tree.subtree(unit)}
        ids = [group_id for group_id, name in units_of.items() if name in inside]
        statement = statement.where(col(Consultation.group_id).in_(ids))
    consultations = list(session.exec(statement.order_by(col(Consultation.id))))
    per_consultation = consultation_figures(
        session, consultations=consultations, today=now.astimezone(zone).date(), principal=principal
    )
    own: defaultdict[str, Figures] = defaultdict(Figures)
    unattached = Figures()
    for consultation in consultations:
        assert consultation.id is not None
        figures = per_consultation[consultation.id]
        name = units_of.get(consultation.group_id)
        if name is None:
            unattached += figures
        else:
            own[name] += figures
    groups: defaultdict[str, int] = defaultdict(int)
    for name in units_of.values():
        groups[name] += 1
    totals: dict[str, Figures] = {}

    def roll_up(spec: UnitSpec) -> Figures:
        totals[spec.name] = own[spec.name] + total(roll_up(c) for c in tree.children(spec.name))
        return totals[spec.name]

    scope = tree.roots() if unit is None else tuple(u for u in (tree.find(unit),) if u)
    for start in scope:
        roll_up(start)
    rows = tuple(
        UnitFigures(spec, depth, groups[spec.name], own[spec.name], totals[spec.name])
        for spec, depth in tree.subtree(unit)
        if level is None or spec.level is level
    )
    scope_total = total(totals[start.name] for start in scope)
    return YearTable(
        year=year,
        scope=unit or ALL_UNITS,
        rows=rows,
        total=scope_total,
        unattached=unattached if unit is None else Figures(),
        level=level,
    )
