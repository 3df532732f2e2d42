"""The CLI's employer and registry commands against a whole stack of separate processes."""

import json
from datetime import date, timedelta
from pathlib import Path

from typer.testing import CliRunner

from demo import application, citizens
from jobbroctl.cli import app
from jobbroctl.stack import Layout


def test_import_citizens_takes_every_row_or_none_submit_signs_as_the_employer_and_erase_shreds_the_evidence(
    running_stack: Layout, tmp_path: Path
) -> None:
    benefits, subsidy = running_stack.service("benefits").url, running_stack.service("subsidy").url
    person = citizens.citizen("job-ready", "dagpenge", "dagpenge", 1972800, unemployed_since=date(2026, 1, 5))
    good, bad = person.row("751"), {**person.row("751"), "cpr": "12345"}
    (tmp_path / "bad.json").write_text(json.dumps([good, bad]))
    (tmp_path / "good.json").write_text(json.dumps([good]))
    runner = CliRunner()

    refused = runner.invoke(app, ["import-citizens", str(tmp_path / "bad.json"), "--url", benefits])
    imported = runner.invoke(app, ["import-citizens", str(tmp_path / "good.json"), "--url", benefits])

    assert refused.exit_code == 1 and '"row": 2' in refused.output and person.cpr not in refused.output
    assert imported.exit_code == 0 and json.loads(imported.output)["imported"] == 1

    employer = application.load_employer(
        running_stack.pki,
        "12345678",
        name="Hansen VVS ApS",
        workplace="Industrivej 1",
        company_employees=1,
        production_unit="1098765432",
        ordinary_fte="1.00",
        email=None,
    )
    form = application.internship(
        employer, person.cpr, start=date.today() + timedelta(days=7), weeks=2, municipality="751", position="Lager"
    )
    (tmp_path / "application.json").write_text(json.dumps(form))
    pki = ["--pki", str(running_stack.pki)]
    submit = ["submit", str(tmp_path / "application.json"), "--url", subsidy, *pki]
    key, chain = (str(running_stack.pki / f"employer-12345678{end}") for end in (".key.pem", ".pem"))
    signed = runner.invoke(
        app,
        [
            "sign",
            str(tmp_path / "application.json"),
            "--key",
            key,
            "--chain",
            chain,
            "--out",
            str(tmp_path / "application.jws"),
        ],
    )
    once = [*submit, "--cvr", "12345678", "--signature", str(tmp_path / "application.jws"), "--idempotency-key", "k1"]
    submitted, again = runner.invoke(app, once), runner.invoke(app, once)
    as_other = runner.invoke(app, [*submit, "--cvr", "87654321"])  # its certificate does not name the form's CVR

    assert signed.exit_code == 0, signed.output
    assert submitted.exit_code == 0, submitted.output
    assert json.loads(again.output)["id"] == json.loads(submitted.output)["id"]  # a replay, not a second application
    assert as_other.exit_code == 1 and json.loads(as_other.output)["status"] in (403, 422)

    erase = ["erase", "--reason", "Borgerens anmodning, GDPR art. 17, sag 2026-0007"]
    erased = runner.invoke(app, [*erase, "--subsidy", subsidy, "--benefits", benefits], input=person.cpr + "\n")
    assert erased.exit_code == 0, erased.output
    answers, text = [], erased.output[erased.output.index("{") :]
    while text.strip():
        answer, end = json.JSONDecoder().raw_decode(text)
        answers, text = [*answers, answer], text[end:].lstrip()
    assert [answer["citizen_ref"] for answer in answers] == [json.loads(submitted.output)["citizen_ref"]] * 2
    assert person.cpr not in erased.output
