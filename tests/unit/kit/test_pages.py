"""The kit's cursor pagination as pure functions: a list read page by page gives every row once, in order, and a
cursor that is not one the list answered is a problem, never a 500."""

from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobbro import pages
from jobbro.problems import Problem


def _pair(values: list[Any]) -> tuple[int, str]:
    number, text = values
    if not isinstance(number, int) or not isinstance(text, str):
        raise ValueError("not a pair")
    return number, text


@given(rows=st.lists(st.tuples(st.integers(), st.text()), unique=True), limit=st.integers(1, 7))
def test_paging_a_sorted_list_by_its_cursor_gives_every_row_once_in_order(
    rows: list[tuple[int, str]], limit: int
) -> None:
    ordered, seen, start = sorted(rows), [], None
    while True:
        rest = pages.after(ordered, lambda row: row, start) if start else ordered
        shown, cursor = pages.page(rest[: limit + 1], limit, lambda row: row)
        seen += shown
        if cursor is None:
            break
        start = pages.decode(cursor, _pair)

    assert seen == ordered


@pytest.mark.parametrize("cursor", ["", "!!", "bm90IGpzb24", "eyJhIjoxfQ", "WzFd", "WyJ4IiwieCJd"])
def test_a_cursor_the_list_did_not_answer_is_refused_as_a_problem(cursor: str) -> None:
    with pytest.raises(Problem) as refused:
        pages.decode(cursor, _pair)

    assert (refused.value.status, refused.value.code) == (400, "cursor_invalid")


@pytest.mark.parametrize("values", [[1], [None], [["a"]], [{"a": 1}], []])
def test_a_cursor_holding_values_of_the_wrong_kind_is_refused_as_a_problem(values: list[Any]) -> None:
    with pytest.raises(Problem) as refused:
        pages.decode(pages.encode(values), lambda found: UUID(*found))

    assert refused.value.code == "cursor_invalid"
