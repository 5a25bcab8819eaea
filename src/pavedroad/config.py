"""The one settings object: environment (``PAVEDROAD_`` prefix), an optional YAML file, defaults.

Nothing else in pavedroad reads ``os.environ``. Precedence, highest first: values passed in code,
environment variables, the YAML file named by ``PAVEDROAD_CONFIG_FILE``, the defaults below.
Nested settings use ``__`` in environment names: ``PAVEDROAD_CATALOG__REFRESH_INTERVAL_SECONDS=60``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

BUILTIN_KINDS = (
    "Component",
    "API",
    "Resource",
    "System",
    "Domain",
    "Group",
    "User",
    "Location",
    "Template",
)


class CatalogSettings(BaseModel):
    """How the catalog reads locations and keeps them fresh."""

    refresh_interval_seconds: int = Field(
        300,
        ge=0,
        description="How often every location is read again; 0 turns scheduled refresh off.",
    )
    allowed_kinds: list[str] = Field(
        default_factory=lambda: list(BUILTIN_KINDS),
        description="Kinds locations may hold (Backstage's catalog.rules); plugin kinds are added.",
    )
    max_file_bytes: int = Field(
        10 * 1024 * 1024, gt=0, description="Descriptor files larger than this are refused unread."
    )
    max_location_depth: int = Field(
        16, gt=0, description="How deep Location entities may point to further Location entities."
    )
    descriptor_glob: str = Field(
        "**/catalog-info.y*ml",
        description="Which files a directory or git repository location reads.",
    )
    git_timeout_seconds: int = Field(120, gt=0)


class PortalSettings(BaseModel):
    """The web portal."""

    title: str = Field("pavedroad", description="Shown in the top bar and page titles.")
    default_user_ref: str = Field(
        "user:default/guest",
        description="Who the portal acts as until sign-in exists (a User entity ref).",
    )


class Settings(BaseSettings):
    """Everything an operator can set. Read once per process through :func:`get_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="PAVEDROAD_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    data_dir: Path = Field(Path("data"), description="Where the embedded database and caches live.")
    database_url: str = Field(
        "", description="SQLAlchemy URL; empty means SQLite in data_dir/pavedroad.db."
    )
    host: str = Field("127.0.0.1", description="Address the server binds; loopback by default.")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(
        0, ge=0, description="Server processes; 0 means one per CPU core, at most four."
    )
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    base_url: str = Field("", description="Public URL of the portal; defaults to http://host:port.")
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    plugins_disabled: list[str] = Field(
        default_factory=list, description="Entry-point names of plugins not to load."
    )
    plugin_settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Each plugin's own settings, by entry-point name (usually from the YAML file).",
    )

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        return value.upper()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get("PAVEDROAD_CONFIG_FILE")
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                raise FileNotFoundError(
                    f"PAVEDROAD_CONFIG_FILE names {path}, which is not a file; "
                    "create it or unset the variable"
                )
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=path))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'pavedroad.db').resolve()}"

    @property
    def resolved_workers(self) -> int:
        return self.workers or max(1, min(os.cpu_count() or 1, 4))

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with some values replaced, validated like the original."""
        return Settings.model_validate({**self.model_dump(), **values})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
