"""Problem documents: an invalid request is answered briefly, whatever its size, and never echoed."""

import json

import httpx
from fastapi import FastAPI
from pydantic import BaseModel

from jobbro.problems import install_defaults

SECRET = "tkn-a81f07c2e95d4b36"


class Line(BaseModel):
    hours: int


async def test_a_200_kb_invalid_body_gets_a_small_problem_naming_the_first_fields_and_the_count() -> None:
    app = FastAPI()
    install_defaults(app)

    @app.post("/lines")
    async def lines(body: list[Line]) -> int:
        return len(body)

    content = json.dumps([{"hours": f"many-{SECRET}"}] * 6000).encode()
    assert len(content) > 200_000

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://subsidy") as client:
        response = await client.post("/lines", content=content, headers={"content-type": "application/json"})

    problem = response.json()
    assert (response.status_code, problem["code"]) == (422, "request_invalid")
    assert len(response.content) < 4096
    assert (len(problem["errors"]), problem["errors_total"]) == (10, 6000)
    assert problem["errors"][0] == {"location": ["body", "0", "hours"], "message": problem["errors"][0]["message"]}
    assert SECRET not in response.text
