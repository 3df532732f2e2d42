"""How Kafka clients connect: the settings, the environment and the clients' keyword arguments agree."""

import pytest
from pydantic import SecretStr

from jobbro.infra import InfrastructureUnavailable, infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbro.settings import ServiceSettings


def test_sasl_ssl_without_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="username and password"):
        KafkaAccess("kafka:9092", "SASL_SSL")


def test_settings_name_the_principal_its_clients_authenticate_as() -> None:
    access = KafkaAccess("kafka:9092", "SASL_SSL", "benefits", SecretStr("pw"), None)
    settings = ServiceSettings(service="benefits", **access.settings())
    kwargs = settings.kafka.client_kwargs()
    assert (kwargs["security_protocol"], kwargs["sasl_mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")
    assert (kwargs["sasl_plain_username"], kwargs["sasl_plain_password"]) == ("benefits", "pw")
    assert "pw" not in repr(settings) and "pw" not in repr(access)
    assert access.environment("BENEFITS_")["BENEFITS_KAFKA_SASL_PASSWORD"] == "pw"


def test_a_sasl_ssl_broker_without_the_super_users_password_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBRO_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("JOBBRO_PG_SERVER", "postgresql://jobbro:jobbro@127.0.0.1:1")
    monkeypatch.setenv("JOBBRO_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.delenv("JOBBRO_KAFKA_SASL_PASSWORD", raising=False)
    with pytest.raises(InfrastructureUnavailable, match="username and password"), infrastructure():
        pass
