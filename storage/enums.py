"""Domain vocabularies stored in the database; the bot shows their Chinese labels."""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum
from typing import NamedTuple


class Role(StrEnum):
    """What a person may do in a group. Everyone in a group is a member."""

    MEMBER = "member"
    MODERATOR = "moderator"
    SECRETARY = "secretary"
    LIAISON = "liaison"

    @property
    def label(self) -> str:
        """The Chinese name shown in the group."""
        return _ROLE_LABELS[self]

    @property
    def rank(self) -> int:
        """Position in the order roles are listed in."""
        return _ROLE_RANKS[self]


_ROLE_RANKS = {role: rank for rank, role in enumerate(Role)}
_ROLE_LABELS = {
    Role.MEMBER: "委员",
    Role.MODERATOR: "主持人",
    Role.SECRETARY: "秘书",
    Role.LIAISON: "部门联络员",
}


class Stage(StrEnum):
    """The seven steps of a consultation (海宁 七步协商法), in order."""

    TOPIC = "topic"
    PLAN = "plan"
    RESEARCH = "research"
    CONSULT = "consult"
    REFER = "refer"
    REPLY = "reply"
    EVALUATE = "evaluate"

    @property
    def label(self) -> str:
        """The Chinese name shown in the group."""
        return _STAGE_LABELS[self]

    @property
    def rank(self) -> int:
        """Position among the seven steps, from 0."""
        return list(Stage).index(self)

    @classmethod
    def from_label(cls, text: str) -> Stage | None:
        """Find a stage by its Chinese label or English value."""
        for stage, label in _STAGE_LABELS.items():
            if text in (label, stage.value):
                return stage
        return None


_STAGE_LABELS = {
    Stage.TOPIC: "选题定题",
    Stage.PLAN: "制订方案",
    Stage.RESEARCH: "组织调研",
    Stage.CONSULT: "开展协商",
    Stage.REFER: "报送意见",
    Stage.REPLY: "办理反馈",
    Stage.EVALUATE: "结果评价",
}


ALL_STAGES = frozenset(Stage)


def labels(items: Iterable[Role | Stage], *, quote: bool = False) -> str:
    """Chinese labels in their natural order, joined by 、 (stages optionally in 「」)."""
    ordered = sorted(items, key=lambda item: item.rank)
    return "、".join(f"「{item.label}」" if quote else item.label for item in ordered)


class OpinionKind(StrEnum):
    """What a statement is: an opinion (意见), a suggestion (建议), or a remark (发言), i.e.
    plain text a member addressed to the bot while the consultation was under way."""

    OPINION = "opinion"
    SUGGESTION = "suggestion"
    REMARK = "remark"

    @property
    def label(self) -> str:
        """The Chinese name shown in the group."""
        return _KIND_LABELS[self]


_KIND_LABELS = {
    OpinionKind.OPINION: "意见",
    OpinionKind.SUGGESTION: "建议",
    OpinionKind.REMARK: "发言",
}


class StanceValue(IntEnum):
    """A member's mark on another member's statement (as in Pol.is): 赞同, 反对 or 弃权."""

    AGREE = 1
    DISAGREE = -1
    PASS = 0

    @property
    def label(self) -> str:
        """The Chinese name shown in the group."""
        return _STANCE_LABELS[self]


_STANCE_LABELS = {
    StanceValue.AGREE: "赞同",
    StanceValue.DISAGREE: "反对",
    StanceValue.PASS: "弃权",
}


class PollStatus(StrEnum):
    """A poll takes ballots while open."""

    OPEN = "open"
    CLOSED = "closed"


class OutboxStatus(StrEnum):
    """An outbox row stays pending until the platform took it."""

    PENDING = "pending"
    SENT = "sent"


class ReplyClass(StrEnum):
    """How a department answered a referral (办理答复的分类)."""

    SOLVED = "solved"
    IN_PROGRESS = "in_progress"
    PLANNED = "planned"
    DECLINED = "declined"

    @property
    def label(self) -> str:
        """The Chinese name shown in the group, with its letter where it has one."""
        return _REPLY_LABELS[self]

    @property
    def adopted(self) -> bool:
        """Whether the answer takes the suggestion up (A, B or C), as the adoption rate counts."""
        return self is not ReplyClass.DECLINED

    @classmethod
    def from_text(cls, text: str) -> ReplyClass | None:
        """`A`, `A类`, `已解决`, `A 已解决` … or None."""
        word = text.strip().upper().removesuffix("类")
        for reply_class, label in _REPLY_LABELS.items():
            letter, _, name = label.rpartition(" ")
            if word in (letter, name, label.upper(), reply_class.value.upper()) and word:
                return reply_class
        return None


_REPLY_LABELS = {
    ReplyClass.SOLVED: "A 已解决",
    ReplyClass.IN_PROGRESS: "B 正在解决",
    ReplyClass.PLANNED: "C 列入计划",
    ReplyClass.DECLINED: "未采纳",
}


class UnitLevel(StrEnum):
    """The level of a CPPCC unit, from the province down to the townships it covers."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"

    @property
    def label(self) -> str:
        """The Chinese name, as the CPPCC's tables write it."""
        return _LEVEL_LABELS[self].label

    @property
    def short(self) -> str:
        """`县级`: short enough for a sheet's name."""
        return _LEVEL_LABELS[self].short

    @property
    def rank(self) -> int:
        """0 for the province, 3 for a township: a parent always ranks above its children."""
        return list(UnitLevel).index(self)

    @classmethod
    def from_text(cls, text: str) -> UnitLevel | None:
        """`省`, `市`, `县`, `区`, `县（市、区）`, `乡镇`, `街道`, `县级`… or the English value."""
        word = text.strip().replace("(", "（").replace(")", "）").lower()
        for level, names in _LEVEL_NAMES.items():
            if word in names or word == level.value:
                return level
        return None


class _LevelLabels(NamedTuple):
    label: str
    short: str


_LEVEL_LABELS = {
    UnitLevel.PROVINCE: _LevelLabels("省", "省级"),
    UnitLevel.CITY: _LevelLabels("市", "市级"),
    UnitLevel.COUNTY: _LevelLabels("县（市、区）", "县级"),
    UnitLevel.TOWNSHIP: _LevelLabels("乡镇（街道）", "乡镇级"),
}
_LEVEL_NAMES = {
    UnitLevel.PROVINCE: frozenset({"省", "省级"}),
    UnitLevel.CITY: frozenset({"市", "市级", "设区市"}),
    UnitLevel.COUNTY: frozenset({"县", "县级", "区", "县（市、区）", "县市区", "县级市"}),
    UnitLevel.TOWNSHIP: frozenset({"乡镇", "乡镇级", "乡镇（街道）", "乡", "镇", "街道"}),
}


class DocumentIssuer(StrEnum):
    """Who issued a policy document that came out of a consultation (发文机关)."""

    PARTY = "party"
    PARTY_OFFICE = "party_office"
    GOVERNMENT = "gov"
    GOVERNMENT_OFFICE = "gov_office"
    DEPARTMENT = "department"

    @property
    def label(self) -> str:
        """The Chinese name shown in the group."""
        return _ISSUER_LABELS[self]

    @property
    def party(self) -> bool:
        """Whether the year's table counts it as 党委（办）发文."""
        return self in (DocumentIssuer.PARTY, DocumentIssuer.PARTY_OFFICE)

    @classmethod
    def from_text(cls, text: str) -> DocumentIssuer | None:
        """`党委`, `党委办`, `党委办公室`, `政府`, `政府办`, `政府办公室`, `部门`, or None."""
        word = text.strip().removesuffix("公室")
        for issuer, label in _ISSUER_LABELS.items():
            if word in (label, issuer.value):
                return issuer
        return None


_ISSUER_LABELS = {
    DocumentIssuer.PARTY: "党委",
    DocumentIssuer.PARTY_OFFICE: "党委办",
    DocumentIssuer.GOVERNMENT: "政府",
    DocumentIssuer.GOVERNMENT_OFFICE: "政府办",
    DocumentIssuer.DEPARTMENT: "部门",
}


class LetterKind(StrEnum):
    """A letter to a department: the referral itself, or a reply sent back to be redone."""

    REFERRAL = "referral"
    REOPEN = "reopen"

    @property
    def label(self) -> str:
        """`报送函` or `重办函`."""
        return "报送函" if self is LetterKind.REFERRAL else "重办函"
