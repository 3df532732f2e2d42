"""The notify service's settings: where mail, Digital Post letters and webhook calls go, and how often to retry."""

from collections.abc import Iterator
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from contracts.common import Language
from jobbro.settings import ServiceSettings


class NotifySettings(ServiceSettings):
    """Built once by `__main__` (or a test) and passed down; env prefix `NOTIFY_`."""

    model_config = SettingsConfigDict(env_prefix="NOTIFY_", frozen=True)

    service: str = "notify"
    http_port: int = 8104
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_start_tls: bool | None = Field(None, description="Upgrade with STARTTLS; default: if the server offers it.")
    mail_from: str = "Jobbro <no-reply@jobbro.example>"
    message_id_domain: str = Field("notify.jobbro.example", description="Right-hand side of every Message-ID.")
    caseworker_mailbox: str = Field(
        "jobcenter@kommune.example", description="The municipal team mailbox told of referrals waiting."
    )
    caseworker_language: Language = Language.DA
    portal_url: str = Field("https://jobbro.example", description="Base of the links to the employer portal.")
    representative_link_url: str | None = Field(
        None,
        description="Where the representative's mailed link points (its token added as `?token=`); default:"
        " `<portal_url>/representative`, the portal's page for it.",
    )
    link_seal_keys: SecretStr = Field(
        SecretStr("development-only-seal:development-only-link-sealing-key"),
        description="`kid:secret` keys shared with subsidy only (its SUBSIDY_LINK_SEAL_KEYS), comma-separated: any"
        " listed key opens the link token sealed into the approval event.",
    )
    digital_post_dir: Path = Field(
        Path(".local/digital-post"), description="Where the file-drop stand-in for Digital Post writes letters."
    )
    delivery_backoff_seconds: float = Field(5.0, gt=0, description="Wait after the first failed attempt; doubles.")
    delivery_backoff_max_seconds: float = Field(3600.0, gt=0, description="The longest wait between two attempts.")
    delivery_give_up_seconds: float = Field(
        86400.0, gt=0, description="How long after its first failed attempt a delivery is retried before it fails."
    )
    delivery_jitter: float = Field(
        0.2, ge=0, le=1, description="The part of each wait taken off at random, so retries do not come in waves."
    )
    delivery_max_attempts: int | None = Field(
        None, ge=1, description="A limit on attempts as well as on time (`delivery_give_up_seconds`); none: time alone."
    )
    webhook_probe_seconds: float = Field(
        3600.0, gt=0, description="How often a paused webhook subscription is tried again with its dead letter."
    )
    delivery_lease_seconds: float = Field(
        60.0, gt=0, description="How long a claimed delivery is one sender's; longer than an attempt may take."
    )
    delivery_poll_seconds: float = 1.0
    delivery_concurrency: int = Field(4, ge=1, description="Deliveries sent at the same time.")
    send_timeout_seconds: float = Field(10.0, gt=0, description="How long one attempt (SMTP, webhook) may take.")
    webhook_require_https: bool = Field(
        True, description="Refuse subscriptions to plain-HTTP URLs; production refuses to turn it off."
    )
    webhook_allowed_targets: tuple[str, ...] = Field(
        (),
        description="Development only: exact `host:port` webhook targets called although they are not public "
        "(the demo's loopback receiver), over http too. Production refuses any.",
    )

    def insecure_settings(self) -> Iterator[tuple[str, str]]:
        yield from super().insecure_settings()
        if not self.webhook_require_https:
            yield "webhook_require_https", "production calls https webhooks only: true"
        if self.webhook_allowed_targets:
            yield "webhook_allowed_targets", "an allowlist of non-public targets is for development: none"

    @property
    def link_url(self) -> str:
        """The base of the representative's mailed link."""
        return self.representative_link_url or self.portal_url.rstrip("/") + "/representative"
