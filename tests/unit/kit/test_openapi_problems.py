"""Every service's OpenAPI document advertises the one `Problem` schema for its 4xx and 5xx answers, and routes
are versioned: built in process, no broker or database is needed to read a document."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from jobbro.problems import MEDIA_TYPE, ProblemDetails
from services.activation.app import create_app as activation_app
from services.activation.settings import ActivationSettings
from services.benefits.app import create_app as benefits_app
from services.benefits.settings import BenefitsSettings
from services.notify.app import create_app as notify_app
from services.notify.settings import NotifySettings
from services.subsidy.app import create_app as subsidy_app
from services.subsidy.settings import SubsidySettings

UNVERSIONED = {"/health/live", "/health/ready"}


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    directory = tmp_path_factory.mktemp("apps")
    anchors = directory / "anchors.pem"
    anchors.write_text("")
    apps: dict[str, FastAPI] = {
        "subsidy": subsidy_app(SubsidySettings(trust_anchors=anchors)),
        "benefits": benefits_app(BenefitsSettings()),
        "activation": activation_app(ActivationSettings()),
        "notify": notify_app(NotifySettings(digital_post_dir=Path(directory) / "post")),
    }
    return {name: app.openapi() for name, app in apps.items()}


def _error_responses(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if status[0] in "45":
                    yield f"{method.upper()} {path} {status}", response


def test_every_service_advertises_the_same_problem_schema_and_no_fastapi_validation_error(
    documents: dict[str, dict[str, Any]],
) -> None:
    schemas = {name: document["components"]["schemas"]["Problem"] for name, document in documents.items()}

    assert len({json.dumps(schema, sort_keys=True) for schema in schemas.values()}) == 1, "one schema everywhere"
    problem = schemas["subsidy"]
    assert set(problem["required"]) == {"type", "title", "status", "code", "detail"}
    assert {"errors", "errors_total"} <= set(problem["properties"])
    for name, document in documents.items():
        assert "HTTPValidationError" not in json.dumps(document), name


def test_every_error_answer_of_every_route_is_a_problem(documents: dict[str, dict[str, Any]]) -> None:
    expected = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for name, document in documents.items():
        answers = dict(_error_responses(document))
        assert any(key.endswith(" 422") for key in answers), f"{name} documents invalid requests"
        wrong = [key for key, response in answers.items() if response.get("content") != expected]
        assert not wrong, f"{name}: {wrong}"
        paths = document["paths"].items()
        unexplained = [path for path, item in paths for op in item.values() if "500" not in op["responses"]]
        assert not unexplained, f"{name} documents no 500 for {unexplained}"


def test_every_route_but_health_is_under_v1(documents: dict[str, dict[str, Any]]) -> None:
    for name, document in documents.items():
        unversioned = [path for path in document["paths"] if not path.startswith("/v1/") and path not in UNVERSIONED]
        assert not unversioned, f"{name}: {unversioned}"


def test_the_schema_describes_the_problems_the_kit_answers() -> None:
    body = {"type": "urn:jobbro:problem:request_invalid", "title": "Unprocessable Entity", "status": 422}
    invalid = {**body, "code": "request_invalid", "detail": "The request is not valid: body.x: missing."}
    parsed = ProblemDetails.model_validate(
        {**invalid, "errors": [{"location": ["body", "x"], "message": "missing"}], "errors_total": 1}
    )

    assert parsed.errors and parsed.errors[0].location == ["body", "x"]
    assert ProblemDetails.model_validate({**invalid, "current_state": "approved"}).model_extra == {
        "current_state": "approved"
    }
