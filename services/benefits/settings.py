"""Settings of the benefits service, read once at start-up from `BENEFITS_*` variables."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from jobbro.settings import DEVELOPMENT_PREFIX, DataKeySettings, PseudonymKeySettings, ServiceSettings
from rules import REPOSITORY_RULES_DIR
from services.benefits.cpr import INITIAL_KEY_ID


class BenefitsSettings(ServiceSettings, PseudonymKeySettings, DataKeySettings):
    """The kit's settings plus the CPR encryption keys, the payee keys' KEK, the rule data and the payment run's batch
    size."""

    model_config = SettingsConfigDict(env_prefix="BENEFITS_", frozen=True)

    service: str = "benefits"
    http_port: int = 8102
    cpr_keys: dict[str, SecretStr] = Field(
        {INITIAL_KEY_ID: SecretStr(DEVELOPMENT_PREFIX + "cpr-key")},
        min_length=1,
        description="Key id → secret from which a key encrypting CPR numbers at rest is derived (JSON object). The "
        "first seals; each opens what names it. Rotate by putting a new key first; losing a key loses its values.",
    )
    payee_key_keks: SecretStr = Field(
        SecretStr(DEVELOPMENT_PREFIX + "payee:" + DEVELOPMENT_PREFIX + "payee-key-encryption-key"),
        description="`kid:secret` key(s) shared with the back-office only (its BACKOFFICE_PAYEE_KEY_KEKS): the first"
        " wraps each citizen's payee key on benefits.payee-keys.v1 (JWE), each listed one is still accepted there.",
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
