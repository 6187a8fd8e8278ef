"""Settings from config.yaml, overridden by the environment; wrong ones stop start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from bot.core.settings import Settings
from bot.runtime.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[3]


def test_the_shipped_config_is_valid_and_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XIESHANG_TEST_DATABASE_URL", raising=False)
    settings = load_settings(ROOT / "config.yaml")

    assert settings.database.url.startswith("sqlite:///")
    assert settings.web.host == "127.0.0.1"
    assert settings.platforms.local.enabled == "auto"  # on only without real platforms
    assert settings.web.trusted_proxies == []  # X-Forwarded-For believed from nobody
    assert settings.platforms.dingtalk.rate_limit.per_minute == 20
    assert settings.platforms.wecom.rate_limit.per_hour == 1000


def test_environment_overrides_nested_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIESHANG_DATABASE__URL", "postgresql://bot@db/xieshang")
    monkeypatch.setenv("XIESHANG_WEB__PORT", "9000")

    settings = load_settings(ROOT / "config.yaml")

    assert settings.database.url == "postgresql://bot@db/xieshang"
    assert settings.web.port == 9000


def test_a_wrong_value_names_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIESHANG_WEB__PORT", "八千")

    with pytest.raises(ConfigError, match=r"web\.port 有误：应为整数.*XIESHANG_WEB__PORT"):
        load_settings(ROOT / "config.yaml")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("XIESHANG_WEB__TRUSTED_PROXIES", '["nginx"]', "应写成 IP 地址或网段"),
        ("XIESHANG_WEB__PUBLIC_ORIGINS", '["xieshang.example.gov.cn"]', "应写成 https://主机名"),
        ("XIESHANG_WEB__PUBLIC_ORIGINS", '["https://x.example/console"]', "应写成 https://主机名"),
        ("XIESHANG_PLATFORMS__LOCAL__ENABLED", "sometimes", "platforms.local.enabled 有误"),
    ],
)
def test_web_addresses_must_be_addresses(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(ConfigError, match=message):
        load_settings(ROOT / "config.yaml")


def test_a_misspelt_key_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("databse:\n  url: sqlite:///x.db\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="databse 有误：没有这个配置项"):
        load_settings(config)


def test_a_misspelt_environment_variable_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XIESHANG_DATABSE__URL", "sqlite:///x.db")

    with pytest.raises(ConfigError, match="XIESHANG_DATABSE__URL 不是已知的配置项"):
        load_settings(ROOT / "config.yaml")


@pytest.mark.parametrize(
    "secret",
    [
        "XIESHANG_BALLOT_SECRET",
        "XIESHANG_CONSOLE_SECRET",
        "XIESHANG_LLM_API_KEY",
        "XIESHANG_EMBEDDINGS_API_KEY",
        "XIESHANG_CONSOLE_TOKEN_WANG",
    ],
)
def test_the_secrets_variables_are_not_taken_for_misspelt_settings(
    monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv(secret, "a-secret-value-0123456789")

    assert load_settings(ROOT / "config.yaml").web.port == 8080


def test_role_entries_need_their_platform(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("roles:\n  moderators: [alice]\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"roles\.moderators 有误：应写成 平台:用户ID"):
        load_settings(config)


def test_a_missing_config_file_given_explicitly_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_settings(tmp_path / "nope.yaml")


def _leaves(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths = set()
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            paths |= _leaves(field.annotation, f"{prefix}{name}.")
        else:
            paths.add(prefix + name)
    return paths


def _yaml_leaves(data: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for key, value in data.items():
        if isinstance(value, dict):
            paths |= _yaml_leaves(value, f"{prefix}{key}.")
        else:
            paths.add(prefix + key)
    return paths


def test_every_setting_is_in_the_shipped_file_with_a_comment() -> None:
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    # Hourly limits exist only where the platform has one.
    optional = {"platforms.local.rate_limit.per_hour", "platforms.dingtalk.rate_limit.per_hour"}

    assert _yaml_leaves(yaml.safe_load(text)) == _leaves(Settings) - optional
    lines = text.splitlines()
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.endswith(":"):
            continue
        commented = "#" in line or any(
            lines[above].strip().startswith("#") for above in (number - 1, number - 2)
        )
        assert commented, f"config.yaml line {number + 1} has no comment: {line}"


@pytest.mark.parametrize(
    ("tree", "message"),
    [
        ("[{name: 西湖区, level: 县, parent: 杭州市}]", "西湖区 的上级 杭州市 不在 units.tree 中"),
        (
            "[{name: 西湖区, level: 县}, {name: 杭州市, level: 市, parent: 西湖区}]",
            "杭州市（市）的上级 西湖区 应比它高一级以上",
        ),
        ("[{name: 西湖区, level: 国}]", "级别应为 省、市、县 或 乡镇"),
        ("[{name: 西湖区, level: 县, groups: [cid123]}]", "群应写成 平台:群ID"),
        (
            "[{name: A, level: 县, groups: ['x:1']}, {name: B, level: 县, groups: ['x:1']}]",
            "一个群只能属于一个单位",
        ),
    ],
)
def test_a_tree_of_units_that_is_no_tree_is_refused(
    tmp_path: Path, tree: str, message: str
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"units:\n  tree: {tree}\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=message):
        load_settings(config)
