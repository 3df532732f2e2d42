"""Settings of the subsidy service: the kit's (with the identity provider), trust in signatures, the deadlines."""

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from jobbro.settings import DataKeySettings, PseudonymKeySettings, ServiceSettings
from rules import REPOSITORY_RULES_DIR


class SubsidySettings(ServiceSettings, PseudonymKeySettings, DataKeySettings):
    """Built once at start-up (environment prefix `SUBSIDY_`) and passed down."""

    model_config = SettingsConfigDict(env_prefix="SUBSIDY_", frozen=True)

    service: str = "subsidy"
    rules_dir: Path = Field(REPOSITORY_RULES_DIR, description="The dated rule data (`rules/` of the repository).")
    trust_anchors: Path = Field(description="PEM bundle of the CAs whose employer signatures are accepted.")
    trust_intermediates: Path | None = Field(None, description="PEM bundle of intermediate CAs, if any.")
    trust_crls: tuple[Path, ...] = Field((), description="PEM CRLs of the trusted CAs; read again once changed.")
    link_keys: SecretStr = Field(
        SecretStr("development-only-link:development-only-link-signing-key"),
        description="Key ring of the HMAC that signs representative links: comma-separated `kid:secret` (secrets of"
        " 32 characters or more). The first signs new links, every listed key verifies; a removed key voids its links.",
    )
    link_seal_keys: SecretStr = Field(
        SecretStr("development-only-seal:development-only-link-sealing-key"),
        description="`kid:secret` key(s) shared with notify only (its NOTIFY_LINK_SEAL_KEYS): the first seals the link"
        " token into the approval event, so that the topic never carries a usable link.",
    )
    representative_deadline: timedelta = Field(
        timedelta(days=14), description="How long the representative's link holds; then the case is referred."
    )
    answer_timeout: timedelta = Field(
        timedelta(days=3),
        description="How long the decision waits for benefits and activation before referring to a caseworker.",
    )
    timer_poll_seconds: float = Field(5.0, gt=0, description="How often due deadlines are looked for.")
