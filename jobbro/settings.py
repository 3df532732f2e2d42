"""Settings shared by every service; each service subclasses with its own env prefix."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """What every service process needs to reach Kafka and its own PostgreSQL database.

    Built once at start-up and passed down; nothing else reads the environment.
    """

    model_config = SettingsConfigDict(env_prefix="JOBBRO_", frozen=True)

    service: str = Field(description="Service name: CloudEvents source, consumer-group and log prefix.")
    kafka_bootstrap: str = "127.0.0.1:19092"
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
    log_json: bool | None = Field(None, description="JSON logs; default: JSON unless stderr is a terminal.")
    log_level: str = "INFO"

    @property
    def source(self) -> str:
        """CloudEvents `source` of everything this service publishes."""
        return f"/jobbro/{self.service}"
