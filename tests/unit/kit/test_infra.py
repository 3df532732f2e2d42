import pytest

from jobbro.infra import InfrastructureUnavailable, infrastructure


def test_unreachable_infrastructure_is_an_error_never_a_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBBRO_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("JOBBRO_PG_SERVER", "postgresql://jobbro:jobbro@127.0.0.1:1")
    with (
        pytest.raises(InfrastructureUnavailable, match="environment: Kafka or PostgreSQL unreachable"),
        infrastructure(),
    ):
        pass
