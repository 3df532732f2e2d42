"""Cursor pagination for every list an API answers: a bounded `limit`, an opaque `cursor`, and a page that says
where the next one starts (`next_cursor`, and a `Link: rel="next"` header), so no list is ever cut off silently.

A cursor is the sort key of the last row shown (keyset pagination): a row inserted meanwhile neither repeats nor
hides another. It is opaque to clients (base64url of JSON) and checked when read back: a malformed one is refused
as `cursor_invalid`, never a 500.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query, Request, Response
from pydantic import BaseModel, Field

from jobbro.problems import Problem

T = TypeVar("T")
Key = TypeVar("Key")

MAX_LIMIT = 500
DEFAULT_LIMIT = 100

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Rows per page, at most {MAX_LIMIT}.")]
Cursor = Annotated[
    str | None,
    Query(max_length=1024, description="Where to go on: the `next_cursor` of the page before (opaque)."),
]


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null when there is none.")


def encode(key: Sequence[Any]) -> str:
    """An opaque cursor for a row's sort key (JSON values: strings, numbers)."""
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, parse: Callable[[list[Any]], Key]) -> Key:
    """The sort key in `cursor`, as `parse` makes it of the decoded values; a malformed cursor is refused."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list):
            raise ValueError("a cursor holds a list")
        return parse(values)
    except (ValueError, TypeError, AttributeError, binascii.Error) as exc:
        raise Problem(400, "cursor_invalid", "The cursor is not one this list answered; start without it.") from exc


def page(rows: Sequence[T], limit: int, key: Callable[[T], Sequence[Any]]) -> tuple[list[T], str | None]:
    """The first `limit` of `rows` (fetched as `limit + 1`, so one more says a next page exists) and its cursor."""
    shown = list(rows[:limit])
    return shown, encode(key(shown[-1])) if len(rows) > limit else None


def after(rows: Sequence[T], key: Callable[[T], Any], start: Any) -> list[T]:
    """The rows of a list computed whole (sorted ascending by `key`) that come after the sort key `start`."""
    return [row for row in rows if key(row) > start]


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    """Point `Link: rel="next"` at the next page: this request's URL with `cursor` replaced."""
    if next_cursor is not None:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url.path}?{url.query}>; rel="next"'
