"""Settings of the portal: where it is reached, the identity provider and its client, the services it calls."""

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobbro.settings import Environment, deployment_environment

DEVELOPMENT_SECRET = "development-only-portal-secret"
"""The `jobbro-portal` client's secret in the development realm (deploy/keycloak/jobbro-realm.json)."""


class PortalSettings(BaseSettings):
    """Built once at start-up (environment prefix `PORTAL_`) and passed down. The portal has no database and no
    broker: it holds no domain data, only each signed-in user's tokens for the length of the session."""

    model_config = SettingsConfigDict(env_prefix="PORTAL_", frozen=True)

    service: str = "portal"
    http_host: str = "127.0.0.1"
    http_port: int = 8100
    public_url: str = Field(
        "http://127.0.0.1:8100", description="Where browsers reach the portal: the base of the login's redirect URI."
    )
    environment: Environment = Field(
        default_factory=deployment_environment,  # type: ignore[arg-type]
        description="`development` (`JOBBRO_ENVIRONMENT` or `PORTAL_ENVIRONMENT`): the session cookie may travel over"
        " plain HTTP and the development client secret is accepted. Anything else is production, the default.",
    )
    oidc_issuer: str = Field(
        "http://127.0.0.1:18080/realms/jobbro", description="The identity provider (deploy/local/keycloak's realm)."
    )
    oidc_client_id: str = "jobbro-portal"
    oidc_audience: str = Field(
        "jobbro-subsidy",
        description="An audience the user's access tokens carry: the portal reads the user's roles from them to pick "
        "the pages (the services themselves decide what each user may do).",
    )
    oidc_client_secret: SecretStr = Field(
        SecretStr(DEVELOPMENT_SECRET), description="The confidential client's secret at the identity provider."
    )
    subsidy_url: str = Field("http://127.0.0.1:8101", description="The subsidy service's HTTP API.")
    activation_url: str = Field("http://127.0.0.1:8103", description="The activation service's HTTP API.")
    session_idle_seconds: int = Field(1800, gt=0, description="A session unused this long is forgotten.")
    http_timeout_seconds: float = 10.0
    otlp_traces_endpoint: str | None = Field(
        None, description="OTLP/HTTP traces endpoint (`http://collector:4318/v1/traces`); unset: no export."
    )
    log_json: bool | None = None
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _no_development_secret_outside_development(self) -> Self:
        if not self.development and self.oidc_client_secret.get_secret_value().startswith("development-only-"):
            raise ValueError("PORTAL_OIDC_CLIENT_SECRET must be set outside development")
        if not self.development and not self.public_url.startswith("https://"):
            raise ValueError("PORTAL_PUBLIC_URL must be https outside development")
        return self

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def redirect_uri(self) -> str:
        return f"{self.public_url.rstrip('/')}/auth/callback"

    @property
    def secure_cookies(self) -> bool:
        """Secure cookies outside development (and in development too when reached over HTTPS)."""
        return not self.development or self.public_url.startswith("https://")
