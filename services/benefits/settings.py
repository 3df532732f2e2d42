"""Settings of the benefits service, read once at start-up from `BENEFITS_*` variables."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from jobbro.rulebook import REPOSITORY_RULES_DIR
from jobbro.settings import ServiceSettings


class BenefitsSettings(ServiceSettings):
    """The kit's settings plus the CPR encryption key, the rule data and the payment run's batch size."""

    model_config = SettingsConfigDict(env_prefix="BENEFITS_", frozen=True)

    service: str = "benefits"
    http_port: int = 8102
    cpr_key: SecretStr = Field(
        SecretStr("development-only-cpr-key"),
        description="Secret from which the key encrypting CPR numbers at rest is derived; losing it loses them.",
    )
    rules_dir: Path = Field(REPOSITORY_RULES_DIR, description="Dated rule data (subsidy rates, prior unemployment…).")
    import_max_bytes: int = Field(
        64 * 1024 * 1024, ge=1, description="Largest registry import (CSV or JSON Lines, streamed; 413 over it)."
    )
    import_json_max_bytes: int = Field(
        4 * 1024 * 1024, ge=1, description="Largest registry import as one JSON array (read whole; 413 over it)."
    )
    import_timeout_seconds: float = Field(300.0, gt=0, description="A registry import's body must arrive within this.")
    payment_batch_size: int = Field(
        1000, ge=1, description="Citizens per transaction in a payment run: memory and a crash's redo are one batch."
    )
