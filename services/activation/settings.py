"""Settings of the activation service, read once at start-up from `ACTIVATION_*` variables."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from jobbro.settings import ServiceSettings
from rules import REPOSITORY_RULES_DIR


class ActivationSettings(ServiceSettings):
    """The kit's settings plus where the rule data for offer deadlines lives."""

    model_config = SettingsConfigDict(env_prefix="ACTIVATION_", frozen=True)

    service: str = "activation"
    http_port: int = 8003
    rules_dir: Path = Field(REPOSITORY_RULES_DIR, description="Dated rule data (offer deadlines, target groups).")
