"""Settings shared by every service; each service subclasses with its own env prefix.

Secrets are `SecretStr` fields (alone, or in a tuple, list or dict of them for a key ring). A process is in
production unless told it runs in development (`JOBBRO_ENVIRONMENT=development`, or `<PREFIX>ENVIRONMENT`): in
production it refuses to build settings whose secrets are missing, empty or development defaults (values starting
with `development-only-`), naming the environment variable to set, so a service never runs on a public key.
"""

import os
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SecretsSettingsSource, SettingsConfigDict

from jobbro.kafka_access import KafkaAccess, SecurityProtocol

DEVELOPMENT_PREFIX = "development-only-"
"""How every development default of a secret begins; refused in production."""
DEVELOPMENT_DATABASE_PASSWORD = "jobbro"
"""The password of the local PostgreSQL (`deploy/local/infra`); refused in production."""

Environment = Literal["development", "production"]


def deployment_environment() -> str:
    """The shared `JOBBRO_ENVIRONMENT`; a process not told it runs in development is in production."""
    return os.environ.get("JOBBRO_ENVIRONMENT", "production")


class InsecureSettings(ValueError):
    """Production settings that hold a missing or development secret; the message names the variables to set."""


class ServiceSettings(BaseSettings):
    """What every service process needs to reach Kafka and its own PostgreSQL database.

    Built once at start-up and passed down; nothing else reads the environment.
    """

    model_config = SettingsConfigDict(env_prefix="JOBBRO_", frozen=True, hide_input_in_errors=True)

    service: str = Field(description="Service name: CloudEvents source, consumer-group and log prefix.")
    environment: Environment = Field(
        default_factory=deployment_environment,  # type: ignore[arg-type]
        description="`development` allows development secrets; anything else is production (the default).",
    )
    kafka_bootstrap: str = "127.0.0.1:19092"
    kafka_security_protocol: SecurityProtocol = Field(
        "PLAINTEXT", description="SASL_SSL (SCRAM-SHA-512 over TLS) on every broker Jobbro deploys; it has no other."
    )
    kafka_sasl_username: str = Field("", description="This process's own Kafka principal (its ACLs say what it may).")
    kafka_sasl_password: SecretStr = Field(SecretStr(""), description="The principal's SCRAM password.")
    kafka_ca_file: Path | None = Field(
        None, description="PEM CA that signed the broker's certificate (else system CAs)."
    )
    topic_prefix: str = Field("", description="Namespace before every topic name: one deployment or test each.")
    pg_dsn: str = Field(
        "postgresql://jobbro:jobbro@127.0.0.1:15432/jobbro",
        description="DSN of this service's own database; in production without a password (see `pg_password`).",
    )
    pg_password: SecretStr | None = Field(
        None, description="Password of the database user; overrides the DSN's. Required in production."
    )
    pg_pool_size: int = 10
    outbox_batch_size: int = 500
    outbox_poll_seconds: float = Field(
        10.0, description="The relay's look at the outbox when no NOTIFY woke it: a safety net, not its pace."
    )
    consume_batch_size: int = Field(
        200, description="Records a consumer handles in one transaction at most (as many as have arrived)."
    )
    consume_wait_ms: int = Field(
        5000,
        gt=0,
        description="How long an idle consumer's fetch waits before it asks again; it returns as soon as a record "
        "arrives, so a longer wait adds no latency, only fewer wake-ups.",
    )
    max_record_bytes: int = Field(
        256 * 1024, description="Larger records are dead-lettered unread: no event of the catalog comes near it."
    )
    retry_attempts: int = Field(5, description="Tries of a transient failure before the record is redelivered.")
    retry_base_seconds: float = 0.1
    readiness_timeout_seconds: float = Field(
        2.0, gt=0, description="How long a readiness check waits for each dependency (a pool connection included)."
    )
    startup_patience_seconds: float = Field(
        300.0, description="How long a starting service waits for PostgreSQL and Kafka before it gives up and exits."
    )
    retention_interval_seconds: float = Field(
        3600.0, gt=0, description="How often the retention job deletes data older than jobbro/retention.toml allows."
    )
    retention_batch_size: int = Field(1000, ge=1, description="Rows (or files) one retention batch deletes at most.")
    retention_max_batches: int = Field(
        100, ge=1, description="Batches per data class in one run at most: a backlog is caught up over several runs."
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_max_body_bytes: int = Field(
        1024 * 1024, ge=1, description="Largest request body a route takes (one that streams a file states its own)."
    )
    http_body_timeout_seconds: float = Field(
        10.0, gt=0, description="A request body must arrive within this; a slower one is cut (408)."
    )
    http_max_json_depth: int = Field(32, ge=1, description="Deeper nested JSON bodies are refused before parsing.")
    http_max_header_bytes: int = Field(16 * 1024, ge=1024, description="Largest request line and headers (uvicorn).")
    http_keep_alive_seconds: float = Field(5.0, gt=0, description="An idle kept-alive connection is closed after.")
    http_max_connections: int = Field(
        500, ge=1, description="Connections and requests in flight at once; more are answered 503 (uvicorn)."
    )
    otlp_traces_endpoint: str | None = Field(
        None,
        description="OTLP/HTTP endpoint spans are exported to (`http://collector:4318/v1/traces`); none: no export, "
        "and no cost beyond passing an incoming `traceparent` on.",
    )
    log_json: bool | None = Field(None, description="JSON logs; default: JSON unless stderr is a terminal.")
    log_level: str = "INFO"
    oidc_issuer: str = Field(
        default_factory=lambda: os.environ.get("JOBBRO_OIDC_ISSUER", "http://127.0.0.1:18080/realms/jobbro"),
        description="The identity provider's issuer (`iss`); its discovery document and JWKS are fetched from it. "
        "Default: the deployment-wide `JOBBRO_OIDC_ISSUER`, else the development realm of deploy/local/keycloak.",
    )
    oidc_audience: str = Field(
        default_factory=lambda data: f"jobbro-{data['service']}",
        description="The `aud` this service accepts in access tokens; default `jobbro-<service>`.",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then environment variables, then (given `JOBBRO_SECRETS_DIR`) one file per secret named like
        its variable (`/run/secrets/SUBSIDY_PG_PASSWORD`): how Docker and Kubernetes mount secrets as files."""
        secrets_dir = os.environ.get("JOBBRO_SECRETS_DIR")
        files = (SecretsSettingsSource(settings_cls, secrets_dir=secrets_dir),) if secrets_dir else ()
        return init_settings, env_settings, *files

    @property
    def kafka(self) -> KafkaAccess:
        """How this process's Kafka clients connect, as its own principal."""
        return KafkaAccess(
            self.kafka_bootstrap,
            self.kafka_security_protocol,
            self.kafka_sasl_username or None,
            self.kafka_sasl_password if self.kafka_sasl_password.get_secret_value() else None,
            self.kafka_ca_file,
        )

    @property
    def source(self) -> str:
        """CloudEvents `source` of everything this service publishes."""
        return f"/jobbro/{self.service}"

    @property
    def production(self) -> bool:
        return self.environment != "development"

    @property
    def database_password(self) -> str | None:
        """The password to connect with: `pg_password` if set; None leaves the DSN's (development only)."""
        if self.pg_password is not None:
            return self.pg_password.get_secret_value()
        return None

    def env_name(self, field: str) -> str:
        """The environment variable that sets `field` (`SUBSIDY_LINK_KEYS`)."""
        return (str(self.model_config.get("env_prefix", "")) + field).upper()

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> "ServiceSettings":
        if not self.production:
            return self
        problems = [f"{self.env_name(name)} ({why})" for name, why in self.insecure_settings()]
        if problems:
            raise InsecureSettings(
                f"{self.service} runs in production (JOBBRO_ENVIRONMENT=development for a development machine) and "
                f"refuses to start on missing secrets or development settings; set: {'; '.join(problems)}"
            )
        return self

    def insecure_settings(self) -> Iterator[tuple[str, str]]:
        """Each field that production refuses, and why; subclasses add their own checks after the kit's."""
        for name in secret_fields(type(self)):
            if (why := _secret_problem(getattr(self, name))) is not None:
                yield name, why
        dsn_password = urlsplit(self.pg_dsn).password
        if dsn_password is not None:
            yield "pg_dsn", f"it carries a password: give it in {self.env_name('pg_password')}, a secret, instead"
        if self.pg_password is not None and self.pg_password.get_secret_value() == DEVELOPMENT_DATABASE_PASSWORD:
            yield "pg_password", "it is the development database's password"
        if self.kafka_security_protocol != "SASL_SSL":
            yield "kafka_security_protocol", "production brokers are reached over SASL_SSL only"
        if urlsplit(self.oidc_issuer).scheme != "https":
            yield "oidc_issuer", "the identity provider is reached over https only"


def secret_fields(settings: type[BaseSettings]) -> list[str]:
    """The fields of a settings class that hold secrets (`SecretStr`, alone or in containers), in order."""
    return [name for name, info in settings.model_fields.items() if _holds_secrets(info.annotation)]


def _holds_secrets(annotation: Any) -> bool:
    """Whether a field's type is `SecretStr` or contains one (`SecretStr | None`, `tuple[SecretStr, ...]`, dicts)."""
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return False
    return any(_holds_secrets(arg) for arg in typing.get_args(annotation))


def _secret_problem(value: Any) -> str | None:
    """Why production refuses a secret field's value (a key ring: its first refused key), or None."""
    if value is None:
        return "missing"
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        if not secret.strip():
            return "empty"
        if secret.startswith(DEVELOPMENT_PREFIX):
            return "a development-only value"
        return None
    if isinstance(value, dict):
        if not value:
            return "no key"
        return next((why for why in map(_secret_problem, value.values()) if why), None)
    if isinstance(value, (tuple, list, set, frozenset)):
        if not value:
            return "no key"
        return next((why for why in map(_secret_problem, value) if why), None)
    return None


class PseudonymKeySettings(BaseSettings):
    """The key of `citizen_ref`, mixed into the settings of the services that meet CPR numbers (subsidy, benefits)
    and only those: a service that never needs the key is never given it."""

    pseudonym_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_PREFIX + "pseudonym-key"),
        description="Secret of the keyed hash that turns a CPR number into a citizen reference; the same in every "
        "service that meets CPR numbers. Changing it changes every citizen_ref (docs/security.md).",
    )
    pseudonym_key_id: str = Field(
        "development",
        min_length=1,
        description="Names the pseudonym key in force (logged at start): the services meeting CPR numbers must "
        "show the same one.",
    )


class DataKeySettings(BaseSettings):
    """The key-encryption keys of citizens' data keys (`jobbro.shredding.KeyWrap`), mixed into the settings of the
    services that keep data keys (subsidy, benefits): a copy of their database opens nothing without them."""

    data_key_keks: SecretStr = Field(
        SecretStr(DEVELOPMENT_PREFIX + "kek:" + DEVELOPMENT_PREFIX + "data-key-encryption-key"),
        description="`kid:secret` key(s) wrapping every citizen's data key: the first wraps, each listed one unwraps."
        " Rotated by listing a new one first, rewrapping, and removing the old one once the backups made while it"
        " was listed have expired (docs/privacy.md: backups and erasure).",
    )
