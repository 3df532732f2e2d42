"""Settings shared by every service; each service subclasses with its own env prefix."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobbro.kafka_access import KafkaAccess, SecurityProtocol


class ServiceSettings(BaseSettings):
    """What every service process needs to reach Kafka and its own PostgreSQL database.

    Built once at start-up and passed down; nothing else reads the environment.
    """

    model_config = SettingsConfigDict(env_prefix="JOBBRO_", frozen=True)

    service: str = Field(description="Service name: CloudEvents source, consumer-group and log prefix.")
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
        description="DSN of this service's own database.",
    )
    pseudonym_key: str = Field(
        "development-only-pseudonym-key",
        description="Shared secret of the keyed hash that turns a CPR number into a citizen reference.",
    )
    pg_pool_size: int = 10
    outbox_batch_size: int = 500
    outbox_poll_seconds: float = 1.0
    consume_batch_size: int = Field(
        200, description="Records a consumer handles in one transaction at most (as many as have arrived)."
    )
    consume_wait_ms: int = Field(
        10, description="How long a consumer's fetch waits for a first record; also its pause after an empty one."
    )
    max_record_bytes: int = Field(
        256 * 1024, description="Larger records are dead-lettered unread: no event of the catalog comes near it."
    )
    retry_attempts: int = Field(5, description="Tries of a transient failure before the record is redelivered.")
    retry_base_seconds: float = 0.1
    startup_patience_seconds: float = Field(
        300.0, description="How long a starting service waits for PostgreSQL and Kafka before it gives up and exits."
    )
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    log_json: bool | None = Field(None, description="JSON logs; default: JSON unless stderr is a terminal.")
    log_level: str = "INFO"

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
