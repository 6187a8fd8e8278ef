"""Loading the settings: `config.yaml`, overridden by `XIESHANG_*` environment variables
(`__` nests), with a one-line Chinese answer naming the key when one is wrong."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot.core.settings import Settings

DEFAULT_CONFIG = Path("config.yaml")


class ConfigError(Exception):
    """A setting is wrong; the message is one line naming the key."""


# Variables with our prefix that are not settings: secrets (read by bot.core.secrets) and the
# test suite's database; console tokens may be kept under the prefix below.
NOT_SETTINGS = frozenset(
    {
        "XIESHANG_BALLOT_SECRET",
        "XIESHANG_CONSOLE_SECRET",
        "XIESHANG_EMBEDDINGS_API_KEY",
        "XIESHANG_LLM_API_KEY",
        "XIESHANG_TEST_DATABASE_URL",
    }
)
SECRET_PREFIXES = ("XIESHANG_CONSOLE_TOKEN_",)

_MESSAGES = {
    "extra_forbidden": "没有这个配置项",
    "missing": "缺少这个配置项",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字",
    "list_type": "应为列表",
    "model_type": "应为键值表",
    "greater_than_equal": "不能小于 {ge}",
    "less_than_equal": "不能大于 {le}",
    "literal_error": "只能是 {expected}",
}


def _env_names(model: type[BaseModel], prefix: str) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        env = f"{prefix}{name.upper()}"
        names.add(env)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names |= _env_names(field.annotation, env + "__")
    return names


def _check_environment() -> None:
    """A misspelt XIESHANG_ variable would be silently ignored; refuse it instead."""
    known = _env_names(Settings, "XIESHANG_") | NOT_SETTINGS
    for name in sorted(os.environ):
        upper = name.upper()
        if upper.startswith(SECRET_PREFIXES):
            continue
        if upper.startswith("XIESHANG_") and upper not in known:
            raise ConfigError(f"环境变量 {name} 不是已知的配置项，请检查拼写（见 config.yaml）")


def load_settings(path: Path | None = None) -> Settings:
    """Read `path` (default ./config.yaml, optional) under the environment's overrides."""
    source = path or DEFAULT_CONFIG
    data: dict[str, Any] = {}
    if source.exists():
        try:
            loaded = yaml.safe_load(source.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise ConfigError(f"配置文件 {source} 不是合法的 YAML：{error}") from error
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"配置文件 {source} 的顶层应是键值表")
        data = loaded or {}
    elif path is not None:
        raise ConfigError(f"找不到配置文件 {source}")

    _check_environment()
    try:
        return Settings(**data)
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        env = "XIESHANG_" + "__".join(str(part).upper() for part in first["loc"])
        template = _MESSAGES.get(first["type"])
        detail = (
            template.format(**first.get("ctx", {}))
            if template
            else first["msg"].removeprefix("Value error, ")
        )
        raise ConfigError(f"配置项 {key} 有误：{detail}（见 {source} 或环境变量 {env}）") from error
