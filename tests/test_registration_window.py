"""Deadline semantics: a date deadline holds until 23:59:59 Riga time, DST included."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from eventsvc.models import Event, EventStatus
from eventsvc.services.registration import WindowState, registration_window
from eventsvc.timezones import RIGA, end_of_riga_day, inclusive_deadline_day, riga_local_to_utc

UTC = UTC


def riga(y, m, d, hh=0, mm=0, ss=0, us=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, us, tzinfo=RIGA).astimezone(UTC)


def make_event(starts_at, closes_at=None, opens_at=None, status=EventStatus.PUBLISHED) -> Event:
    return Event(
        status=status,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        registration_opens_at=opens_at,
        registration_closes_at=closes_at,
    )


@pytest.mark.parametrize(
    "day, expected_utc",
    [
        (date(2026, 11, 15), datetime(2026, 11, 15, 22, 0, tzinfo=UTC)),  # winter: UTC+2
        (date(2026, 7, 15), datetime(2026, 7, 15, 21, 0, tzinfo=UTC)),  # summer: UTC+3
        # Spring forward on 29 March 2026: the 28th ends in winter time…
        (date(2026, 3, 28), datetime(2026, 3, 28, 22, 0, tzinfo=UTC)),
        # …and the 29th, a 23-hour day, ends in summer time.
        (date(2026, 3, 29), datetime(2026, 3, 29, 21, 0, tzinfo=UTC)),
        # Fall back on 25 October 2026: the 24th ends in summer time, the 25th in winter time.
        (date(2026, 10, 24), datetime(2026, 10, 24, 21, 0, tzinfo=UTC)),
        (date(2026, 10, 25), datetime(2026, 10, 25, 22, 0, tzinfo=UTC)),
    ],
)
def test_date_deadline_ends_at_riga_midnight(day, expected_utc):
    assert end_of_riga_day(day) == expected_utc
    assert inclusive_deadline_day(end_of_riga_day(day)) == day


def test_a_time_deadline_is_not_mistaken_for_a_date_deadline():
    assert inclusive_deadline_day(riga(2026, 11, 15, 18, 0)) is None


@pytest.mark.parametrize("deadline", [date(2026, 11, 15), date(2026, 3, 29), date(2026, 10, 25)])
def test_registration_open_until_last_second_of_deadline_day(deadline):
    event = make_event(
        starts_at=riga(deadline.year, deadline.month, deadline.day, 0, 0)
        + timedelta(days=1, hours=13),
        closes_at=end_of_riga_day(deadline),
    )
    last_second = riga(deadline.year, deadline.month, deadline.day, 23, 59, 59)
    assert registration_window(event, last_second).state is WindowState.OPEN
    assert registration_window(event, last_second + timedelta(microseconds=999_999)).is_open
    next_midnight = datetime.combine(deadline + timedelta(days=1), datetime.min.time(), tzinfo=RIGA)
    assert registration_window(event, next_midnight.astimezone(UTC)).state is WindowState.CLOSED


def test_window_states_in_order():
    starts = riga(2026, 11, 16, 13, 0)
    event = make_event(
        starts, closes_at=end_of_riga_day(date(2026, 11, 15)), opens_at=riga(2026, 11, 1, 9, 0)
    )
    assert registration_window(event, riga(2026, 10, 31, 12)).state is WindowState.NOT_YET_OPEN
    assert registration_window(event, riga(2026, 11, 1, 9, 0)).state is WindowState.OPEN
    assert registration_window(event, riga(2026, 11, 16, 8, 0)).state is WindowState.CLOSED
    assert registration_window(event, riga(2026, 11, 16, 16, 0)).state is WindowState.PAST


def test_without_deadline_registration_closes_when_event_starts():
    starts = riga(2026, 11, 16, 13, 0)
    event = make_event(starts)
    assert registration_window(event, starts - timedelta(seconds=1)).is_open
    assert registration_window(event, starts).state is WindowState.CLOSED


@pytest.mark.parametrize(
    "status, state",
    [(EventStatus.DRAFT, WindowState.DRAFT), (EventStatus.CANCELLED, WindowState.CANCELLED)],
)
def test_drafts_and_cancelled_events_take_no_registrations(status, state):
    starts = riga(2026, 11, 16, 13, 0)
    event = make_event(starts, status=status)
    assert registration_window(event, starts - timedelta(days=3)).state is state


def test_form_wall_clock_times_are_riga_times_across_dst():
    assert riga_local_to_utc(datetime(2026, 1, 20, 13, 0)) == datetime(
        2026, 1, 20, 11, 0, tzinfo=UTC
    )
    assert riga_local_to_utc(datetime(2026, 6, 20, 13, 0)) == datetime(
        2026, 6, 20, 10, 0, tzinfo=UTC
    )


def test_describe_says_inclusive_date_in_latvian(app):
    from eventsvc.services.registration import RegistrationWindow

    window = RegistrationWindow(WindowState.OPEN, None, end_of_riga_day(date(2026, 11, 15)))
    with app.test_request_context("/"):
        assert window.describe() == "Reģistrācija atvērta līdz 15. novembrim (ieskaitot)."
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert window.describe() == "Registration is open until 15 November inclusive."
