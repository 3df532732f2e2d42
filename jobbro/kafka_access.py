"""How a Kafka client reaches the broker and who it is there: the one place every client's connection comes from.

Every client (the services' broker, admin clients, the relay's reachability check, tests, the CLI, the demo and
the benchmarks) takes `client_kwargs()` from a `KafkaAccess`, so a broker that wants SASL_SSL gets it everywhere.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLScram512
from pydantic import SecretStr

SecurityProtocol = Literal["PLAINTEXT", "SASL_SSL"]
SASL_MECHANISM = "SCRAM-SHA-512"


@dataclass(frozen=True)
class KafkaAccess:
    """The broker's address, and (for SASL_SSL) the principal's SCRAM credentials and the CA that signed the
    broker's certificate."""

    bootstrap: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None

    def __post_init__(self) -> None:
        if self.security_protocol not in ("PLAINTEXT", "SASL_SSL"):
            raise ValueError(f"security protocol {self.security_protocol!r}: PLAINTEXT or SASL_SSL")
        if self.security_protocol == "SASL_SSL" and not (self.username and self.password):
            raise ValueError("SASL_SSL needs a SASL username and password")

    def as_principal(self, username: str, password: SecretStr | str) -> KafkaAccess:
        """The same broker, as another principal."""
        secret = password if isinstance(password, SecretStr) else SecretStr(password)
        return replace(self, username=username, password=secret)

    def client_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for any aiokafka client: producer, consumer, admin, bare client."""
        kwargs: dict[str, Any] = {"bootstrap_servers": self.bootstrap, "security_protocol": self.security_protocol}
        if self.security_protocol == "SASL_SSL":
            assert self.password is not None  # checked in __post_init__
            kwargs |= {
                "sasl_mechanism": SASL_MECHANISM,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password.get_secret_value(),
                "ssl_context": self.ssl_context(),
            }
        return kwargs

    def faststream_security(self) -> BaseSecurity | None:
        """The same connection as FastStream's broker takes it (it builds its aiokafka clients from this)."""
        if self.security_protocol == "PLAINTEXT":
            return None
        assert self.username is not None and self.password is not None  # checked in __post_init__
        return SASLScram512(self.username, self.password.get_secret_value(), ssl_context=self.ssl_context())

    def ssl_context(self) -> ssl.SSLContext:
        """TLS that verifies the broker's certificate and name against `ca_file` (else the system's CAs)."""
        return create_ssl_context(cafile=str(self.ca_file) if self.ca_file else None)

    def settings(self) -> dict[str, Any]:
        """The `ServiceSettings` fields that name this access (`Settings(**access.settings(), ...)`)."""
        return {
            "kafka_bootstrap": self.bootstrap,
            "kafka_security_protocol": self.security_protocol,
            "kafka_sasl_username": self.username or "",
            "kafka_sasl_password": self.password or SecretStr(""),
            "kafka_ca_file": self.ca_file,
        }

    def environment(self, prefix: str) -> dict[str, str]:
        """The same settings as environment variables of a process whose settings read `prefix` (`SUBSIDY_`)."""
        env = {
            "KAFKA_BOOTSTRAP": self.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": self.security_protocol,
            "KAFKA_SASL_USERNAME": self.username or "",
            "KAFKA_SASL_PASSWORD": self.password.get_secret_value() if self.password else "",
        }
        if self.ca_file:
            env["KAFKA_CA_FILE"] = str(self.ca_file)
        return {prefix + name: value for name, value in env.items()}
