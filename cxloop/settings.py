"""One frozen settings object, from the environment (prefix CXLOOP_). Bad values fail at start, naming the field."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_TOKEN_KEYS = "dev:cxloop-development-key-change-me"


class ConfigError(ValueError):
    """Raised at start for bad configuration; the message names every offending field."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CXLOOP_", frozen=True, extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    # Kafka
    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", validation_alias=AliasChoices("CXLOOP_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP")
    )
    topic_prefix: str = Field("", description="Prepended to every topic name, e.g. 'acme.'")
    topic_partitions: int = Field(4, ge=1, le=1024)
    topic_replication: int = Field(1, ge=1)
    app_id: str = Field("cxloop", min_length=1, description="Faust app id: consumer group and changelog prefix")
    schema_registry_url: str | None = None
    stream_buffer_events: int = Field(
        50_000, ge=1_000, description="Events a worker may hold in memory per stream before pausing its partitions"
    )
    stall_exit_seconds: float = Field(
        300.0, ge=10.0, description="A worker with work waiting that handles nothing this long exits (code 70)"
    )
    session_timeout_seconds: float = Field(
        30.0, ge=6.0, le=300.0, description="How soon the group notices a dead worker and moves its partitions"
    )

    # Local state (RocksDB tables, outbox, embedded ClickHouse)
    data_dir: Path = Path("var")

    # Survey web tier
    web_host: str = "127.0.0.1"
    web_port: int = Field(8080, ge=0, le=65535)
    public_url: str = Field("http://127.0.0.1:8080", description="Base of the links in survey emails")
    token_keys: SecretStr = Field(
        SecretStr(DEV_TOKEN_KEYS), description="'id:secret,id2:secret2'; the first signs, all verify"
    )
    response_ack_timeout_seconds: float = Field(10.0, gt=0)

    # Surveys
    programs_file: Path | None = Field(None, description="Survey programs YAML; default: the shipped programs")
    company_name: str = "Example Co"
    themes_file: Path | None = Field(None, description="Theme taxonomy YAML; default: the shipped taxonomy")
    theme_model: str = Field(
        "auto", description="Learned theme model (.npz): 'auto' = the shipped one with the shipped taxonomy, "
        "'off' = the taxonomy's rules only, or a path to a model trained for your taxonomy"
    )

    # Follow-up cases
    directory_file: Path | None = Field(None, description="People, teams, routing and SLAs YAML; default: shipped")
    webhook_signing_secret: SecretStr = Field(
        SecretStr("cxloop-development-webhook-secret"), description="Signs the owner notifications' webhook calls"
    )
    cases_api_token: SecretStr | None = Field(
        None, description="Bearer token for POST /cases/{case_id}; unset: that endpoint is disabled"
    )
    notify_attempts: int = Field(6, ge=1, le=20, description="Tries of an owner notification before dead-letter")

    # Email
    email_from: str = "surveys@example.com"
    outbox_dir: Path | None = Field(None, description="Default: <data_dir>/outbox")
    sendgrid_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("CXLOOP_SENDGRID_API_KEY", "SENDGRID_API_KEY")
    )
    sendgrid_host: str = "https://api.sendgrid.com"
    sendgrid_webhook_public_key: str | None = Field(
        None, description="Event Webhook verification key (base64, as SendGrid shows it); unset: webhook disabled"
    )
    webhook_max_age_seconds: float = Field(600.0, gt=0, description="Older signed webhook timestamps are refused")

    # ClickHouse
    clickhouse_url: str | None = Field(
        None, validation_alias=AliasChoices("CXLOOP_CLICKHOUSE_URL", "CLICKHOUSE_URL")
    )
    clickhouse_database: str = Field("cxloop", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    chdb_path: Path | None = Field(None, description="Default: <data_dir>/chdb")
    pseudonym_key: SecretStr = Field(SecretStr("cxloop-development-pseudonym-key"))
    sink_batch_size: int = Field(500, ge=1)
    sink_flush_seconds: float = Field(1.0, gt=0)
    dashboard_port: int = Field(8081, ge=0, le=65535, description="The sink serves /dashboard here; 0: any free port")
    dashboard_enabled: bool = True
    drivers_refresh_seconds: float = Field(900.0, ge=0, description="The sink refreshes driver analysis; 0: never")

    log_level: str = Field("INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @field_validator("token_keys")
    @classmethod
    def _token_keys_parse(cls, value: SecretStr) -> SecretStr:
        _parse_keys(value.get_secret_value())
        return value

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_has_port(cls, value: str) -> str:
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value

    def topic(self, contract: str) -> str:
        return f"{self.topic_prefix}{contract}"

    @cached_property
    def signing_keys(self) -> tuple[dict[str, bytes], str]:
        return _parse_keys(self.token_keys.get_secret_value())

    @property
    def outbox(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    @property
    def chdb_dir(self) -> Path:
        return self.chdb_path or self.data_dir / "chdb"


def _parse_keys(text: str) -> tuple[dict[str, bytes], str]:
    keys: dict[str, bytes] = {}
    active = ""
    for item in text.split(","):
        key_id, sep, secret = item.strip().partition(":")
        if not sep or not key_id or len(secret) < 16:
            raise ValueError("each key must be 'id:secret' with a secret of at least 16 characters")
        keys[key_id] = secret.encode()
        active = active or key_id
    return keys, active


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; raises ConfigError naming each bad field."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(f"{_env_name(err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"bad configuration: {problems}") from None


def _env_name(loc: tuple[int | str, ...]) -> str:
    """The variable to fix: an alias is reported as given (KAFKA_BOOTSTRAP), a field by its CXLOOP_ name."""
    name = str(loc[0]) if loc else ""
    return f"CXLOOP_{name.upper()}" if name in Settings.model_fields else name
