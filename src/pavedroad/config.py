"""The one settings object: environment (``PAVEDROAD_`` prefix), an optional YAML file, defaults.

Nothing else in pavedroad reads ``os.environ``. Precedence, highest first: values passed in code,
environment variables, the YAML file named by ``PAVEDROAD_CONFIG_FILE``, the defaults below.
Nested settings use ``__`` in environment names: ``PAVEDROAD_CATALOG__REFRESH_INTERVAL_SECONDS=60``.
"""

from __future__ import annotations

import os
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
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


class OidcSettings(BaseModel):
    """Sign-in with an OpenID Connect provider (authorization code flow with PKCE)."""

    issuer: str = Field("", description="The provider's issuer URL; empty turns OIDC sign-in off.")
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    match_claim: str = Field(
        "email", description="The ID token claim that names the person in the catalog."
    )
    match_field: Literal["email", "name"] = Field(
        "email",
        description="What the claim is compared with: a User's spec.profile.email or its name.",
    )
    button_label: str = Field("Sign in with single sign-on", description="On the sign-in page.")
    timeout_seconds: float = Field(10.0, gt=0)


class LdapSettings(BaseModel):
    """Users and groups imported from LDAP or Active Directory into the catalog."""

    url: str = Field("", description="ldap:// or ldaps:// URL; empty turns the sync off.")
    bind_dn: str = ""
    bind_password: SecretStr = SecretStr("")
    start_tls: bool = False
    ca_file: Path | None = Field(
        None,
        description=(
            "CA certificates (PEM) that sign the server's certificate, for ldaps:// or StartTLS; "
            "empty: the system's."
        ),
    )
    page_size: int = Field(
        500,
        ge=1,
        description="Entries per page of a search; at most the server's limit (AD: 1000).",
    )
    users_base_dn: str = ""
    users_filter: str = "(objectClass=inetOrgPerson)"
    user_name_attribute: str = Field("uid", description="Becomes the User's metadata.name.")
    user_display_name_attribute: str = "cn"
    user_email_attribute: str = "mail"
    groups_base_dn: str = ""
    groups_filter: str = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"
    group_name_attribute: str = Field("cn", description="Becomes the Group's metadata.name.")
    group_description_attribute: str = "description"
    group_display_name_attribute: str = Field(
        "cn", description="Becomes the Group's spec.profile.displayName."
    )
    group_member_attribute: str = "member"
    group_type: str = Field("team", description="spec.type of imported groups.")
    namespace: str = "default"
    interval_seconds: int = Field(3600, ge=0, description="How often to sync; 0: only on demand.")
    timeout_seconds: float = Field(10.0, gt=0)


class AuthSettings(BaseModel):
    """Who may sign in, and how."""

    demo_user_ref: str = Field(
        "",
        description=(
            "Sign everyone in as this User automatically. Only for demos and only on a loopback "
            "bind: the server refuses to start otherwise."
        ),
    )
    local_accounts: bool = Field(
        True, description="Sign-in with `pavedroad users create` accounts."
    )
    session_hours: int = Field(12, ge=1, le=24 * 30, description="How long a sign-in lasts.")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Secure session cookies; auto: when the base URL is https or binds loopback.",
    )
    max_failed_sign_ins: int = Field(
        5, ge=1, description="Failures for one account within the window that lock it."
    )
    max_failed_sign_ins_per_ip: int = Field(
        20, ge=1, description="Failures from one address within the window before it must wait."
    )
    failure_window_minutes: int = Field(15, ge=1)
    lockout_minutes: int = Field(15, ge=1)
    oidc: OidcSettings = Field(default_factory=OidcSettings)
    ldap: LdapSettings = Field(default_factory=LdapSettings)


class PermissionSettings(BaseModel):
    """The permission policy."""

    policy_file: Path | None = Field(
        None, description="A YAML policy replacing the default; read again when it changes."
    )
    admins: list[str] = Field(
        default_factory=lambda: ["group:default/admins"],
        description="User or group refs the default policy treats as administrators.",
    )
    public_metrics: bool = Field(True, description="Whether /metrics answers without sign-in.")


class AuditSettings(BaseModel):
    """The audit log."""

    retention_days: int = Field(90, ge=1, description="Older audit rows are deleted daily.")


class ScaffolderSettings(BaseModel):
    """Where templates may publish, and which repository hosts they may name."""

    repositories_root: Path | None = Field(
        None,
        description=(
            "Local bare repositories that publish:git may create (file:// remotes); "
            "empty: data_dir/repositories."
        ),
    )
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["github.com"],
        description="Hosts templates may name in repoUrl (parseRepoUrl) and push to over HTTPS.",
    )


class SecurityGateSettings(BaseModel):
    """What blocks a deployment: the organisation's policy over a run's findings."""

    vulnerability_severities: list[str] = Field(
        default_factory=lambda: ["critical", "high"],
        description="Vulnerabilities of these severities block...",
    )
    vulnerabilities_need_fix: bool = Field(
        True, description="...but only when a fixed version exists to upgrade to."
    )
    block_secrets: bool = Field(True, description="Any detected secret blocks.")
    sast_severities: list[str] = Field(
        default_factory=lambda: ["critical", "high"], description="SAST findings that block."
    )
    dast_severities: list[str] = Field(
        default_factory=lambda: ["critical", "high"], description="DAST findings that block."
    )
    block_failed_scans: bool = Field(
        True, description="A scan that did not run (crashed, timed out, missing) blocks."
    )
    max_exception_days: int = Field(
        180, ge=1, description="The longest an exception to the policy may last."
    )


class SecuritySettings(BaseModel):
    """Security scanning and the gate."""

    gate: SecurityGateSettings = Field(default_factory=SecurityGateSettings)
    notify_urls: list[str] = Field(
        default_factory=list,
        description="Webhooks told when new advisories affect scanned components (Slack JSON).",
    )


class FreezeWindow(BaseModel):
    """No deploys to the environment between ``start`` and ``end`` (ISO 8601, with a zone)."""

    start: datetime
    end: datetime
    reason: str = ""


class EnvironmentSettings(BaseModel):
    """One environment every component can be deployed to, in promotion order."""

    name: str
    target: str = Field(
        "process", description="The deployment target plugin: process, gitops, kubernetes."
    )
    settings: dict[str, Any] = Field(default_factory=dict, description="The target's own settings.")
    freezes: list[FreezeWindow] = Field(default_factory=list)


class AnalysisSettings(BaseModel):
    """Health analysis after each deploy; the seed's rollback triggers by default. A
    component's ``.pavedroad/deploy.yaml`` ``analysis:`` overrides these."""

    mode: Literal["enforce", "shadow"] = Field(
        "enforce", description="shadow: evaluate and report, never roll back."
    )
    interval_seconds: float = Field(10, gt=0)
    window_seconds: float = Field(300, gt=0, description="How long a deploy is watched.")
    warmup_seconds: float = Field(30, ge=0, description="No data before this is not a failure.")
    max_error_rate: float = Field(0.05, ge=0, le=1)
    max_latency_increase: float = Field(
        2.0, ge=0, description="p95 above baseline by this ratio (2.0: +200 %)."
    )
    health_failing_seconds: float = Field(30, gt=0)
    critical_logs_seconds: float = Field(
        300, ge=0, description="Critical log lines in this first window fail it."
    )
    bad_samples_to_fail: int = Field(2, ge=1)
    provider_errors_to_abort: int = Field(4, ge=1)
    prometheus_url: str = Field("", description="Empty: scrape the service's /metrics directly.")


class DeploySettings(BaseModel):
    """Environments, targets and the analysis that decides rollbacks."""

    environments: list[EnvironmentSettings] = Field(
        default_factory=lambda: [
            EnvironmentSettings(name="dev"),
            EnvironmentSettings(name="staging"),
            EnvironmentSettings(name="production"),
        ]
    )
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    lease_seconds: int = Field(
        30, ge=5, description="A deploy whose worker is silent this long has died."
    )
    notify_urls: list[str] = Field(
        default_factory=list,
        description="Webhooks told of rollbacks and failed deploys (Slack JSON).",
    )


class PipelineSettings(BaseModel):
    """How pipelines run."""

    golden_file: Path | None = Field(
        None, description="The organisation's golden pipeline (YAML); empty: the shipped one."
    )
    workers_in_server: int = Field(
        2, ge=0, description="Runs the server itself executes at once; 0: only `pavedroad worker`."
    )
    max_concurrent_runs: int = Field(8, ge=1, description="Runs executing at once, all workers.")
    max_runs_per_repository: int = Field(2, ge=1, description="Runs of one repository at once.")
    executor: str = Field("local", description="The executor plugin that runs steps.")
    step_output_cap_bytes: int = Field(
        2 * 1024 * 1024, gt=0, description="Output kept per step; the rest is cut with a note."
    )
    default_timeout_seconds: int = Field(600, gt=0)
    lease_seconds: int = Field(30, ge=5, description="A worker silent this long has died.")
    artifacts_dir: Path | None = Field(None, description="Empty: data_dir/artifacts.")
    artifact_retention_days: int = Field(30, ge=1)
    poll_interval_seconds: int = Field(
        10, ge=0, description="How often watched repositories are checked; 0 turns polling off."
    )
    webhook_secret: SecretStr = Field(
        SecretStr(""), description="HMAC secret of GitHub, GitLab and Gitea webhooks."
    )
    notify_urls: list[str] = Field(
        default_factory=list, description="Webhooks told of failed runs (Slack-compatible JSON)."
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
    token: SecretStr = Field(
        SecretStr(""),
        description=(
            "An API token the CLI acts with (PAVEDROAD_TOKEN): its owner, under the policy and "
            "the token's scopes. Without one the CLI acts as the operator, who holds the "
            "database credentials and so every permission."
        ),
    )
    credentials_file: Path = Field(
        default_factory=lambda: Path.home() / ".config" / "pavedroad" / "credentials.json",
        description="Where `pavedroad login` keeps the CLI's token (readable by you only).",
    )
    catalog: CatalogSettings = Field(default_factory=CatalogSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    permissions: PermissionSettings = Field(default_factory=PermissionSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    scaffolder: ScaffolderSettings = Field(default_factory=ScaffolderSettings)
    pipelines: PipelineSettings = Field(default_factory=PipelineSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    deploy: DeploySettings = Field(default_factory=DeploySettings)
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
    def resolved_repositories_root(self) -> Path:
        return self.scaffolder.repositories_root or self.data_dir / "repositories"

    @property
    def resolved_artifacts_dir(self) -> Path:
        return self.pipelines.artifacts_dir or self.data_dir / "artifacts"

    @property
    def resolved_workers(self) -> int:
        return self.workers or max(1, min(os.cpu_count() or 1, 4))

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"

    @property
    def binds_loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with some values replaced, validated like the original."""
        return Settings.model_validate({**self.model_dump(), **values})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
