"""Every rule's table of examples holds, and every rule's README is the one its folder renders."""

import pytest

from rules import KINDS, REPOSITORY_RULES_DIR, Rulebook
from rules.examples import README, Example, examples, render, rule_module, rule_names

ALL = [example for rule in rule_names() for example in examples(rule)]


@pytest.mark.parametrize("example", ALL, ids=[f"{example.rule}: {example.name}" for example in ALL])
def test_the_rule_answers_as_its_example_says(example: Example, rulebook: Rulebook) -> None:
    assert example.observe(rulebook) == example.expect


@pytest.mark.parametrize("example", ALL, ids=[f"{example.rule}: {example.name}" for example in ALL])
def test_a_rule_with_an_outcome_gives_its_reason_in_english_and_danish(example: Example, rulebook: Rulebook) -> None:
    found = rule_module(example.rule).Example.model_validate(example.given).run(rulebook)

    if "outcome" in found:
        assert found["reason"] and found["reason_da"] and found["reason"] != found["reason_da"]


def test_every_rule_with_data_has_code_and_examples_in_its_folder() -> None:
    for rule in KINDS:
        folder = REPOSITORY_RULES_DIR / rule
        assert (folder / "rule.py").is_file(), rule
        assert examples(rule), rule


@pytest.mark.parametrize("rule", rule_names())
def test_the_readme_is_rendered_from_the_folder(rule: str, rulebook: Rulebook) -> None:
    written = (REPOSITORY_RULES_DIR / rule / README).read_text()

    assert written == render(rule, rulebook), f"rules/{rule}/README.md is stale: run python -m rules.examples"


def test_an_example_whose_expectation_is_wrong_fails(rulebook: Rulebook) -> None:
    right = examples("ratio")[0]
    wrong = Example(right.rule, right.name, right.given, {**right.expect, "outcome": "failed"})

    assert wrong.observe(rulebook) != wrong.expect
