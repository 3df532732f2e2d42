"""Each service, started for real as `python -m …` without being told it runs in development, refuses to start on
the development secrets, saying which variables to set (and never a secret's value)."""

import os
import subprocess
import sys

import pytest

from jobbro.infra import REPO

MODULES = {
    "subsidy": "services.subsidy",
    "benefits": "services.benefits",
    "activation": "services.activation",
    "notify": "services.notify",
    "backoffice": "demo.backoffice",
}


@pytest.mark.parametrize("name", MODULES)
def test_a_service_in_production_refuses_to_start_on_development_secrets_naming_them(name: str) -> None:
    env = {key: value for key, value in os.environ.items() if not key.endswith("_ENVIRONMENT")}
    prefix = name.upper() + "_"
    env |= {
        prefix + "PG_DSN": "postgresql://jobbro@127.0.0.1:1/unreachable",  # it must refuse before connecting
        prefix + "STARTUP_PATIENCE_SECONDS": "1",  # and one that would try gives up at once
        "SUBSIDY_TRUST_ANCHORS": "/nonexistent/ca.pem",  # subsidy's required settings, so secrets are judged
        "SUBSIDY_TOKEN_ISSUER_KEY": "not-a-key",
    }

    done = subprocess.run(
        [sys.executable, "-m", MODULES[name]], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode != 0
    assert f"{name} runs in production" in done.stderr
    if name in ("subsidy", "benefits"):  # the services meeting CPR numbers, and only they, hold the pseudonym key
        assert f"{prefix}PSEUDONYM_KEY (a development-only value)" in done.stderr
    else:
        assert "PSEUDONYM_KEY" not in done.stderr
    assert f"{prefix}PG_PASSWORD (missing)" in done.stderr
    assert "development-only-pseudonym-key" not in done.stderr + done.stdout
    assert "service_started" not in done.stderr + done.stdout
