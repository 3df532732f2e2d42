"""The alert rules are valid Prometheus rules and each fires on the failure it names (promtool's rule unit tests)."""

import subprocess

from tests.prometheus import ALERTS, binary


def test_the_alert_rules_are_valid() -> None:
    checked = subprocess.run([binary("promtool"), "check", "rules", str(ALERTS)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 8 rules found" in checked.stdout


def test_each_alert_fires_on_its_failure_and_not_when_healthy() -> None:
    tested = subprocess.run(
        [binary("promtool"), "test", "rules", ALERTS.with_name("alerts.test.yml").name],
        cwd=ALERTS.parent,
        capture_output=True,
        text=True,
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout
