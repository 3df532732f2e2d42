"""The local stack tells every process it runs in development, and lets notify call only the demo's receiver."""

import json
from pathlib import Path

from jobbro.infra import Infrastructure
from jobbro.kafka_access import KafkaAccess
from jobbroctl.stack import PORTS, Layout, free_ports, local_layout, prepare

INFRA = Infrastructure(KafkaAccess("127.0.0.1:19092"), "postgresql://jobbro:jobbro@127.0.0.1:15432", "test")


def test_every_process_of_the_stack_is_told_it_runs_in_development(tmp_path: Path) -> None:
    layout = Layout(local=tmp_path, ports=free_ports())
    prepare(layout)  # the development PKI subsidy's settings point at
    for service in layout.services:
        if service.has_health:
            assert service.env(INFRA, "")[service.name.upper() + "_ENVIRONMENT"] == "development"


def test_notify_may_call_exactly_the_demo_receivers_loopback_port_and_nothing_else() -> None:
    layout = Layout(ports=free_ports())

    env = layout.service("notify").env(INFRA, "")

    assert json.loads(env["NOTIFY_WEBHOOK_ALLOWED_TARGETS"]) == [f"127.0.0.1:{layout.ports['webhooks']}"]
    assert "NOTIFY_WEBHOOK_REQUIRE_HTTPS" not in env  # https stays required for every other target


def test_replicas_of_a_service_share_its_database_but_not_a_port_log_or_pid_file(tmp_path: Path) -> None:
    layout = Layout(local=tmp_path, ports=free_ports(3), replicas=3)
    prepare(layout)

    subsidies = layout.replicas_of("subsidy")
    envs = [replica.env(INFRA, "chaos.") for replica in subsidies]

    assert len(subsidies) == 3 and layout.service("subsidy") == subsidies[0]
    assert len({env["SUBSIDY_PG_DSN"] for env in envs}) == 1
    assert len({env["SUBSIDY_HTTP_PORT"] for env in envs}) == 3
    assert len({replica.pid_file for replica in subsidies} | {replica.log_file for replica in subsidies}) == 6
    assert len(layout.replicas_of("backoffice")) == len(layout.replicas_of("portal")) == 1
    assert len({service.port for service in layout.services}) == len(layout.services)


def test_the_developers_stack_puts_each_further_replica_100_ports_above_the_first() -> None:
    layout = local_layout(3)

    assert [replica.port for replica in layout.replicas_of("notify")] == [PORTS["notify"] + n for n in (0, 100, 200)]
    assert len({service.port for service in layout.services}) == len(layout.services) == len(PORTS) - 1 + 8
