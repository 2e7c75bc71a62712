"""Time rules: everything is stored in UTC and shown in Europe/Riga.

A deadline given as a date ("until 15 November inclusive") means the end of that day in
Riga. We store it as the first instant of the next Riga day and treat the close as
exclusive, so DST changes need no special case and a date deadline can be recognised
again when it is shown.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

RIGA = ZoneInfo("Europe/Riga")


def utcnow() -> datetime:
    return datetime.now(UTC)


def riga_local_to_utc(local: datetime) -> datetime:
    """A naive wall-clock time in Riga (as typed into a form) → aware UTC."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    return local.replace(tzinfo=RIGA).astimezone(UTC)


def to_riga(moment: datetime) -> datetime:
    return moment.astimezone(RIGA)


def end_of_riga_day(day: date) -> datetime:
    """The exclusive close of a date deadline: midnight Riga time after `day`, in UTC."""
    next_midnight = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=RIGA)
    return next_midnight.astimezone(UTC)


def inclusive_deadline_day(closes_at: datetime) -> date | None:
    """If `closes_at` is a date deadline (a Riga midnight), the last day it includes."""
    local = to_riga(closes_at)
    if local.time() == time(0, 0):
        return local.date() - timedelta(days=1)
    return None


def riga_day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a Riga calendar day, in UTC."""
    start = datetime.combine(day, time(0, 0), tzinfo=RIGA).astimezone(UTC)
    return start, end_of_riga_day(day)
