"""The settings every room reads: one pydantic model, `config.yaml` documents each key.

Loading them (the YAML file under `XIESHANG_*` environment overrides) is the runtime's
job (`bot.runtime.config`); secrets never live here: they are read from the environment by
`bot.core.secrets`.
"""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from storage.enums import UnitLevel
from storage.stats import PrincipalRule
from storage.units import UnitSpec, UnitTree


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = "sqlite:///./data/xieshang.db"
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    batch_max: int = Field(default=200, ge=1, le=5000)
    # Transactions one process runs side by side. One: on two cores a second and third
    # lane on PostgreSQL cost more in contention for the interpreter lock and in smaller
    # batches than they won in overlapped round trips (docs/benchmarks.md, stop 14).
    # More may pay off against a distant database and a bot with cores to spare.
    lanes: int = Field(default=1, ge=1, le=32)


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Where browsers reach the pages besides this machine's own addresses (a TLS proxy in
    # front), as scheme://host[:port]. A request naming any other Host, or a form sent
    # from any other Origin, is refused: another site cannot act through a visitor.
    public_origins: list[str] = []
    # Reverse proxies whose X-Forwarded-For names the client (addresses or networks);
    # from anyone else the header is ignored, so it cannot be forged to dodge a limit.
    trusted_proxies: list[str] = []

    @field_validator("public_origins")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        for entry in value:
            parts = urlsplit(entry)
            if (
                parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path not in ("", "/")
                or parts.query
                or parts.fragment
                or parts.username
            ):
                raise ValueError(f"应写成 https://主机名[:端口]，而不是 {entry!r}")
        return [entry.rstrip("/").lower() for entry in value]

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ip_network(entry, strict=False)
            except ValueError as error:
                raise ValueError(
                    f"应写成 IP 地址或网段（如 10.0.0.0/8），而不是 {entry!r}"
                ) from error
        return value


class RateLimit(_Section):
    per_minute: int = Field(default=20, ge=1)
    per_hour: int | None = Field(default=None, ge=1)


class LocalSettings(_Section):
    # auto: on when no real platform (DingTalk, WeCom) is configured, off when one is.
    enabled: bool | Literal["auto"] = "auto"
    # Ignored (always off) while a real platform is configured: its groups are real.
    trust_roles: bool = True
    rate_limit: RateLimit = RateLimit()

    @field_validator("enabled", mode="before")
    @classmethod
    def _auto_or_switch(cls, value: object) -> object:
        # One message for the three choices, rather than pydantic's one per union member.
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        switches = {"auto": "auto", "true": True, "on": True, "false": False, "off": False}
        if text not in switches:
            raise ValueError(f"应为 auto、true 或 false，而不是 {value!r}")
        return switches[text]


class DingTalkSettings(_Section):
    admins_are_moderators: bool = True
    rate_limit: RateLimit = RateLimit()
    card_template_id: str = ""
    # The card template of statements with 赞同 / 反对 / 弃权 buttons (/表态); empty: text.
    statement_card_template_id: str = ""
    throttled_retry_seconds: float = Field(default=60, gt=0, le=600)


class WeComSettings(_Section):
    # "auto" picks the mode whose credentials are in the environment (long connection first).
    mode: Literal["auto", "long_connection", "callback"] = "auto"
    bot_name: str = Field(default="协商助手", min_length=1, max_length=32)
    websocket_url: str = "wss://openws.work.weixin.qq.com"
    heartbeat_seconds: float = Field(default=30, gt=0, le=300)
    reconnect_max_seconds: float = Field(default=30, ge=1, le=600)
    reply_window_seconds: float = Field(default=600, ge=10, le=86400)
    callback_path: str = Field(default="/wecom/callback", pattern=r"^/[A-Za-z0-9/_-]*$")
    response_url_origins: list[str] = ["https://qyapi.weixin.qq.com"]
    max_clock_skew_seconds: float = Field(default=300, ge=1, le=3600)
    vote_cards: bool = True
    # /表态 (and statements, with stances.statement_cards) as button_interaction cards.
    stance_cards: bool = True
    rate_limit: RateLimit = RateLimit(per_minute=30, per_hour=1000)


class PlatformSettings(_Section):
    local: LocalSettings = LocalSettings()
    dingtalk: DingTalkSettings = DingTalkSettings()
    wecom: WeComSettings = WeComSettings()

    def rate_limit(self, platform: str) -> RateLimit:
        """The send limit of a platform (the default for one without settings)."""
        section = getattr(self, platform, None)
        limit = getattr(section, "rate_limit", None)
        return limit if isinstance(limit, RateLimit) else RateLimit()

    def shows_stance_cards(self, platform: str) -> bool:
        """Whether the platform shows cards with stance buttons (else their text goes out)."""
        if platform == "dingtalk":
            return bool(self.dingtalk.statement_card_template_id)
        if platform == "wecom":
            return self.wecom.stance_cards
        return False


class StanceSettings(_Section):
    # Answer each /意见 and /建议 with its own card of stance buttons, where the platform
    # shows them. Off by default: in a group of 200 a card per statement buries the talk,
    # and cards are not folded as acknowledgements are; /表态 deals statements instead.
    statement_cards: bool = False
    # Statements a /表态 card lists (WeCom shows at most 6 lines on a card).
    digest_size: int = Field(default=5, ge=1, le=6)
    # A member's /表态 within this many minutes of the last card points to it instead of
    # posting another (a moderator always posts one); 0: no limit.
    digest_every_minutes: float = Field(default=5, ge=0, le=1440)


class RoleSettings(_Section):
    """Members named as `platform:user_id`, e.g. `local:alice` or `dingtalk:manager0123`."""

    moderators: list[str] = []
    secretaries: list[str] = []
    liaisons: list[str] = []

    @field_validator("moderators", "secretaries", "liaisons")
    @classmethod
    def _platform_prefixed(cls, value: list[str]) -> list[str]:
        for entry in value:
            platform, _, user = entry.partition(":")
            if not platform or not user:
                raise ValueError(f"应写成 平台:用户ID（如 local:alice），而不是 {entry!r}")
        return value


def _platform_user(entry: str) -> str:
    platform, _, user = entry.partition(":")
    if not platform or not user:
        raise ValueError(f"应写成 平台:用户ID（如 local:alice），而不是 {entry!r}")
    return entry


class SectorEntry(_Section):
    """A member's sector (界别), e.g. `{member: "dingtalk:0123", sector: "经济界"}`."""

    member: str
    sector: str = Field(min_length=1, max_length=32)

    _member = field_validator("member")(_platform_user)


class LeaderEntry(_Section):
    """A leader or department representative who may write in the group."""

    member: str
    department: str = Field(min_length=1, max_length=64)
    title: str = Field(default="", max_length=64)

    _member = field_validator("member")(_platform_user)


class AttendanceSettings(_Section):
    sectors: list[SectorEntry] = []
    leaders: list[LeaderEntry] = []


class ReferralSettings(_Section):
    default_deadline_days: int = Field(default=30, ge=1, le=366)
    reopen_deadline_days: int = Field(default=15, ge=1, le=366)
    reminder_days_before: list[int] = [7, 1]
    overdue_reminder_every_days: int = Field(default=7, ge=1, le=90)
    reminder_hour: int = Field(default=9, ge=0, le=23)

    @field_validator("reminder_days_before")
    @classmethod
    def _positive_days(cls, value: list[int]) -> list[int]:
        if any(day < 1 or day > 366 for day in value):
            raise ValueError("提醒天数应在 1 到 366 之间")
        return sorted(set(value), reverse=True)


def _level(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, UnitLevel):
        level = UnitLevel.from_text(value)
        if level is None:
            raise ValueError(f"级别应为 省、市、县 或 乡镇，而不是 {value!r}")
        return level
    return value


class UnitEntry(_Section):
    """A unit (a CPPCC office), its level, the unit above it and the groups it holds."""

    name: str = Field(min_length=1, max_length=64)
    level: UnitLevel
    parent: str = Field(default="", max_length=64)
    # Sessions it is expected to hold in a year; empty: its level's quota.
    quota: int | None = Field(default=None, ge=0, le=366)
    # Groups as platform:conversation_id, e.g. dingtalk:cidAbC123==.
    groups: list[str] = []

    _level = field_validator("level", mode="before")(_level)

    @field_validator("groups")
    @classmethod
    def _platform_prefixed(cls, value: list[str]) -> list[str]:
        for entry in value:
            platform, _, conversation = entry.partition(":")
            if not platform or not conversation:
                raise ValueError(f"群应写成 平台:群ID（如 dingtalk:cid123），而不是 {entry!r}")
        return value


# 党委书记 and 政府主要负责人 at each level; department and title are read together, so
# /出席 王明 市委 书记 is a 市委书记. A title with 副 in it is never one of them.
PRINCIPAL_TITLES = [
    "省委书记",
    "市委书记",
    "州委书记",
    "县委书记",
    "区委书记",
    "党委书记",
    "党工委书记",
    "省长",
    "市长",
    "州长",
    "县长",
    "区长",
    "乡长",
    "镇长",
    "办事处主任",
]


class LevelQuotas(_Section):
    """Sessions a unit of each level is expected to hold itself in a year (6+X)."""

    province: int = Field(default=6, ge=0, le=366)
    city: int = Field(default=6, ge=0, le=366)
    county: int = Field(default=6, ge=0, le=366)
    township: int = Field(default=6, ge=0, le=366)

    def of(self, level: UnitLevel) -> int:
        """The quota of a level."""
        quota: int = getattr(self, level.value)
        return quota


class UnitSettings(_Section):
    """The tree of units the groups belong to, their yearly quota and who counts as 主要领导."""

    quota: LevelQuotas = LevelQuotas()
    principal_titles: list[str] = PRINCIPAL_TITLES
    principals: list[str] = []
    tree: list[UnitEntry] = []

    @model_validator(mode="after")
    def _one_tree(self) -> Self:
        units = {entry.name: entry for entry in self.tree}
        if len(units) < len(self.tree):
            names = [entry.name for entry in self.tree]
            raise ValueError(f"单位重名：{sorted({n for n in names if names.count(n) > 1})}")
        for entry in self.tree:
            parent = units.get(entry.parent) if entry.parent else None
            if entry.parent and parent is None:
                raise ValueError(f"单位 {entry.name} 的上级 {entry.parent} 不在 units.tree 中")
            if parent is not None and parent.level.rank >= entry.level.rank:
                raise ValueError(
                    f"单位 {entry.name}（{entry.level.label}）的上级 {parent.name} 应比它高一级以上"
                )
        groups = [group for entry in self.tree for group in entry.groups]
        repeated = sorted({group for group in groups if groups.count(group) > 1})
        if repeated:
            raise ValueError(f"一个群只能属于一个单位：{repeated}")
        return self

    def quota_of(self, entry: UnitEntry) -> int:
        """The unit's own quota, else its level's."""
        return entry.quota if entry.quota is not None else self.quota.of(entry.level)

    def tree_spec(self) -> UnitTree:
        """The tree as storage reads it, parents before children (a parent is of a higher
        level, so ordering by level keeps config's order among equals)."""
        ordered = sorted(self.tree, key=lambda entry: entry.level.rank)
        return UnitTree(
            tuple(
                UnitSpec(
                    name=entry.name,
                    level=entry.level,
                    parent=entry.parent,
                    quota=self.quota_of(entry),
                    groups=tuple(entry.groups),
                )
                for entry in ordered
            )
        )

    def principal_rule(self) -> PrincipalRule:
        """Who counts as 主要领导 among the leaders present."""
        return PrincipalRule(tuple(self.principal_titles), frozenset(self.principals))


class OutboxSettings(_Section):
    ack_delay_seconds: float = Field(default=1.5, ge=0)
    max_message_chars: int = Field(default=3000, ge=200)
    retry_max_seconds: float = Field(default=300, ge=1)
    update_interval_seconds: float = Field(default=1.0, ge=0)
    concurrent_sends: int = Field(default=4, ge=1, le=64)


class LimitSettings(_Section):
    max_text_chars: int = Field(default=2000, ge=10)
    max_poll_options: int = Field(default=20, ge=2, le=50)
    member_per_minute: int = Field(default=20, ge=1)
    # Minutes before a poll's deadline when members who have not voted are reminded (0: no
    # automatic reminder; /催投 still works).
    nudge_minutes_before_deadline: int = Field(default=30, ge=0, le=7 * 24 * 60)


class SchedulerSettings(_Section):
    election_seconds: float = Field(default=2.0, gt=0, le=60)
    look_seconds: float = Field(default=1.0, gt=0, le=60)


class LogSettings(_Section):
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class SecuritySettings(_Section):
    # Used only when XIESHANG_BALLOT_SECRET is unset: the embedded default generates one.
    ballot_secret_file: Path = Path("data/ballot-secret")


class ConsoleUserEntry(_Section):
    """A console user named in config; the token lives in the environment variable named."""

    name: str = Field(min_length=1, max_length=32)
    role: Literal["secretary", "leader"] = "secretary"
    token_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)


class ConsoleSettings(_Section):
    enabled: bool = True
    users: list[ConsoleUserEntry] = []
    # auto: Secure cookies when the request came over HTTPS (directly, or from a proxy on
    # this machine saying X-Forwarded-Proto: https); always; never.
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    session_hours: float = Field(default=8, gt=0, le=720)
    sign_in_failures_per_minute: int = Field(default=5, ge=1, le=100)


class LLMSettings(_Section):
    """An OpenAI-compatible chat endpoint that may polish the minutes' titles and overview.

    The key is never a setting: it comes from the XIESHANG_LLM_API_KEY variable.
    """

    # Empty: no model; the offline minutes stand. E.g. https://api.deepseek.com/v1
    base_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    model: str = Field(default="", max_length=100)
    timeout_seconds: float = Field(default=20, gt=0, le=300)
    attempts: int = Field(default=2, ge=1, le=5)

    @property
    def enabled(self) -> bool:
        """Whether a model is configured."""
        return bool(self.base_url and self.model)


class VectorSettings(_Section):
    """The background task that computes each statement's sentence vector once."""

    enabled: bool = True
    batch_size: int = Field(default=32, ge=1, le=1000)
    # Longest pause between two looks for new statements when no message wakes it.
    interval_seconds: float = Field(default=30, gt=0, le=3600)
    threads: int = Field(default=1, ge=1, le=64)
    # An OpenAI-compatible embeddings endpoint instead of the bundled model (POST
    # {base_url}/embeddings); its key only from XIESHANG_EMBEDDINGS_API_KEY.
    base_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    # Stored with each vector as "openai-compatible/<model>", in 64 characters at most.
    model: str = Field(default="", max_length=46)
    timeout_seconds: float = Field(default=20, gt=0, le=300)
    attempts: int = Field(default=2, ge=1, le=5)

    @property
    def remote(self) -> bool:
        """Whether an embeddings endpoint replaces the bundled model."""
        return bool(self.base_url and self.model)


class MinutesSettings(_Section):
    llm: LLMSettings = LLMSettings()
    vectors: VectorSettings = VectorSettings()


class Settings(BaseSettings):
    """Every setting of the bot; `config.yaml` documents each one."""

    model_config = SettingsConfigDict(
        env_prefix="XIESHANG_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    timezone: str = "Asia/Shanghai"
    roles: RoleSettings = RoleSettings()
    platforms: PlatformSettings = PlatformSettings()
    outbox: OutboxSettings = OutboxSettings()
    limits: LimitSettings = LimitSettings()
    security: SecuritySettings = SecuritySettings()
    attendance: AttendanceSettings = AttendanceSettings()
    referrals: ReferralSettings = ReferralSettings()
    units: UnitSettings = UnitSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    log: LogSettings = LogSettings()
    console: ConsoleSettings = ConsoleSettings()
    minutes: MinutesSettings = MinutesSettings()
    stances: StanceSettings = StanceSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"未知时区 {value!r}") from error
        return value

    @property
    def zone(self) -> ZoneInfo:
        """The zone times are shown in."""
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The YAML file arrives as init arguments; the environment overrides it.
        return (env_settings, init_settings)
