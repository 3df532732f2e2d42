"""Date arithmetic the rules share: months later, age on a day, and the birth date a CPR number encodes."""

from __future__ import annotations

import calendar
from datetime import date, timedelta


def months_later(day: date, months: int) -> date:
    """The same day of the month `months` later (or earlier); the 1st of the next month when that day is missing."""
    year, month_index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month_index + 1
    if day.day <= calendar.monthrange(year, month)[1]:
        return date(year, month, day.day)
    return date(year, month, calendar.monthrange(year, month)[1]) + timedelta(days=1)


def age_on(birth_date: date, day: date) -> int:
    """Whole years lived on `day`; someone born on 29 February turns a year older on 1 March in other years."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def birth_date_from_cpr(cpr: str) -> date | None:
    """The birth date a CPR number encodes (DDMMYY, century from the seventh digit); None if it encodes none."""
    day, month, year, seventh = int(cpr[0:2]), int(cpr[2:4]), int(cpr[4:6]), int(cpr[6])
    if seventh <= 3:
        century = 1900
    elif seventh in (4, 9):
        century = 2000 if year <= 36 else 1900
    else:
        century = 2000 if year <= 57 else 1800
    try:
        return date(century + year, month, day)
    except ValueError:
        return None
