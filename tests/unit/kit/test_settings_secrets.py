"""Production refuses missing and development secrets: a deployment that forgets a key never runs on a public one."""

from pathlib import Path
from typing import Any

import pytest
from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from jobbro.settings import ServiceSettings
from services.benefits.settings import BenefitsSettings
from services.notify.settings import NotifySettings

PRODUCTION_DSN = "postgresql://jobbro_benefits@db.internal:5432/jobbro_benefits"


class _KeyRingSettings(ServiceSettings):
    """A service with secrets in containers, as a key ring holds them."""

    model_config = SettingsConfigDict(env_prefix="RING_", frozen=True)

    service: str = "ring"
    keys: tuple[SecretStr, ...] = (SecretStr("development-only-ring-key"),)
    named_keys: dict[str, SecretStr] = Field(default_factory=lambda: {"k1": SecretStr("a-real-secret-k1")})
    optional_key: SecretStr | None = None


def _production(**secrets: Any) -> dict[str, Any]:
    """Everything the kit asks for in production, set to real-looking values; `secrets` change or add to it."""
    kit = {"environment": "production", "pg_dsn": PRODUCTION_DSN, "pg_password": "a-real-database-password"}
    kafka = {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_password": "a-real-kafka-password"}
    return kit | kafka | {"oidc_issuer": "https://login.jobbro.example/realms/jobbro"} | secrets


def _refusal(cls: type[ServiceSettings], **values: Any) -> str:
    with pytest.raises(ValidationError) as refused:
        cls(**values)
    return str(refused.value)


def test_a_process_not_told_it_runs_in_development_is_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JOBBRO_ENVIRONMENT", raising=False)

    message = _refusal(BenefitsSettings)

    for variable in (
        "BENEFITS_PSEUDONYM_KEY",
        "BENEFITS_CPR_KEYS",
        "BENEFITS_DATA_KEY_KEKS",
        "BENEFITS_PAYEE_KEY_KEKS",
        "BENEFITS_PG_PASSWORD",
        "BENEFITS_PG_DSN",
    ):
        assert variable in message
    assert "development-only-" not in message  # names the variables, never shows a value


def test_the_shared_or_the_service_variable_says_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBRO_ENVIRONMENT", "development")
    assert BenefitsSettings().environment == "development"
    monkeypatch.setenv("JOBBRO_ENVIRONMENT", "production")
    monkeypatch.setenv("BENEFITS_ENVIRONMENT", "development")
    assert BenefitsSettings().environment == "development"


def test_production_settings_with_every_secret_set_build() -> None:
    settings = BenefitsSettings(
        **_production(
            cpr_keys={"2026-12": "a-real-cpr-key"},
            pseudonym_key="a-real-key",
            data_key_keks="2026-12:a-real-key-encryption-key-of-the-registry",
            payee_key_keks="2026-12:a-real-key-encryption-key-of-the-payee-keys",
        )
    )

    assert settings.production and settings.database_password == "a-real-database-password"
    assert "a-real" not in repr(settings)  # secrets are not shown by the settings either


@pytest.mark.parametrize(
    ("secrets", "variable", "why"),
    [
        ({"pseudonym_key": ""}, "BENEFITS_PSEUDONYM_KEY", "empty"),
        ({"pseudonym_key": "development-only-pseudonym-key"}, "BENEFITS_PSEUDONYM_KEY", "development-only"),
        (
            {"cpr_keys": {"2026-12": "a-real-cpr-key", "initial": "development-only-cpr-key"}},
            "BENEFITS_CPR_KEYS",
            "development",
        ),
        ({"pg_password": None}, "BENEFITS_PG_PASSWORD", "missing"),
        ({"pg_password": "jobbro"}, "BENEFITS_PG_PASSWORD", "development database"),
        ({"pg_dsn": "postgresql://u:secret@db/jobbro"}, "BENEFITS_PG_DSN", "carries a password"),
    ],
)
def test_production_refuses_a_missing_empty_or_development_secret_naming_its_variable(
    secrets: dict[str, Any], variable: str, why: str
) -> None:
    benefits = {"cpr_keys": {"2026-12": "a-real-cpr-key"}, "pseudonym_key": "a-real-pseudonym-key"}
    message = _refusal(BenefitsSettings, **_production(**(benefits | secrets)))

    assert variable in message and why in message
    assert "secret@" not in message and "a-real" not in message


def test_secrets_inside_tuples_dicts_and_optional_fields_are_checked_too() -> None:
    message = _refusal(_KeyRingSettings, **_production())

    assert "RING_KEYS (a development-only value)" in message
    assert "RING_OPTIONAL_KEY (missing)" in message
    assert "RING_NAMED_KEYS" not in message
    assert _KeyRingSettings(environment="development").keys  # development keeps its defaults


def test_notify_in_production_calls_https_webhooks_only_and_no_allowlisted_target() -> None:
    message = _refusal(
        NotifySettings,
        **_production(webhook_require_https=False, webhook_allowed_targets=("127.0.0.1:8126",)),
    )

    assert "NOTIFY_WEBHOOK_REQUIRE_HTTPS" in message and "NOTIFY_WEBHOOK_ALLOWED_TARGETS" in message


def test_secrets_can_come_from_files_named_like_their_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """How compose and Kubernetes mount secrets: /run/secrets/BENEFITS_PG_PASSWORD and so on."""
    (tmp_path / "BENEFITS_PG_PASSWORD").write_text("a-password-from-a-file")
    (tmp_path / "BENEFITS_CPR_KEYS").write_text('{"2026-12": "a-cpr-key-from-a-file"}')
    monkeypatch.setenv("JOBBRO_SECRETS_DIR", str(tmp_path))

    settings = BenefitsSettings(environment="development")

    assert settings.database_password == "a-password-from-a-file"
    assert settings.cpr_keys["2026-12"].get_secret_value() == "a-cpr-key-from-a-file"


def test_production_reaches_kafka_over_sasl_ssl_and_the_identity_provider_over_https() -> None:
    message = _refusal(
        BenefitsSettings,
        **_production(kafka_security_protocol="PLAINTEXT", oidc_issuer="http://login.jobbro.example/realms/jobbro"),
    )

    assert "BENEFITS_KAFKA_SECURITY_PROTOCOL" in message and "BENEFITS_OIDC_ISSUER" in message
