"""Registration rules: when an event takes registrations, and (later) who gets a place.

Every rule about registering lives in this module so a newcomer finds them in one file.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _

from ..i18n import local_date, local_time, until_day_month
from ..models import Event, EventStatus
from ..timezones import inclusive_deadline_day, to_riga


class WindowState(enum.StrEnum):
    DRAFT = "draft"
    CANCELLED = "cancelled"
    PAST = "past"
    NOT_YET_OPEN = "not_yet_open"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class RegistrationWindow:
    state: WindowState
    opens_at: datetime | None
    closes_at: datetime | None  # exclusive

    @property
    def is_open(self) -> bool:
        return self.state is WindowState.OPEN

    @property
    def deadline_day(self) -> date | None:
        """The last day of a date deadline ("until 15 November inclusive"), else None."""
        return inclusive_deadline_day(self.closes_at) if self.closes_at else None

    def describe(self) -> str:
        """The state in plain words, in the current language."""
        if self.state is WindowState.DRAFT:
            return _("Not published yet.")
        if self.state is WindowState.CANCELLED:
            return _("This event has been cancelled.")
        if self.state is WindowState.PAST:
            return _("This event has already taken place.")
        if self.state is WindowState.NOT_YET_OPEN:
            return _(
                "Registration opens on %(day)s at %(time)s.",
                day=local_date(self.opens_at, "long"),
                time=local_time(self.opens_at),
            )
        if self.state is WindowState.CLOSED:
            return _("Registration is closed.")
        if self.closes_at is None:
            return _("Registration is open until the event starts.")
        day = self.deadline_day
        if day is not None:
            return _("Registration is open until %(day)s inclusive.", day=until_day_month(day))
        return _(
            "Registration is open until %(day)s, %(time)s.",
            day=until_day_month(to_riga(self.closes_at).date()),
            time=local_time(self.closes_at),
        )


def effective_close(event: Event) -> datetime:
    """Without a deadline, registration stays open until the event starts."""
    return event.registration_closes_at or event.starts_at


def registration_window(event: Event, now: datetime) -> RegistrationWindow:
    """Whether `event` takes registrations at `now`, and why not if it does not."""
    opens, closes = event.registration_opens_at, event.registration_closes_at
    if event.status is EventStatus.CANCELLED:
        state = WindowState.CANCELLED
    elif event.status is EventStatus.DRAFT:
        state = WindowState.DRAFT
    elif event.has_ended(now):
        state = WindowState.PAST
    elif opens is not None and now < opens:
        state = WindowState.NOT_YET_OPEN
    elif now >= effective_close(event):
        state = WindowState.CLOSED
    else:
        state = WindowState.OPEN
    return RegistrationWindow(state=state, opens_at=opens, closes_at=closes)

