"""Reminders before an event (services/reminders.py): the day before and/or two hours before,
as the event chose; once per registration and reminder; a change of time re-arms those still
ahead; the text says "tomorrow at 13:00" / "today at 13:00" in Riga time, in the registrant's
language. Times are pinned (Riga wall clock), never the clock of the machine running the test."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import OutboxMessage, RegistrationStatus
from eventsvc.services import mailer, privacy
from eventsvc.services import registration as rules
from eventsvc.services.events import EventData, update_event
from eventsvc.services.reminders import Reminder, queue_reminder, reminders_due
from eventsvc.timezones import RIGA, to_riga

from . import factories


def at(day, hour: int, minute: int = 0) -> datetime:
    """A Riga wall-clock time on `day`, as the aware UTC moment the service works with."""
    return datetime.combine(day, time(hour, minute), tzinfo=RIGA).astimezone(UTC)


@pytest.fixture
def day(now):
    """The event's day: a winter day ahead (Riga is UTC+2, so 13:00 there is 11:00 UTC)."""
    day = to_riga(now).date() + timedelta(days=10)
    while day.month in (4, 5, 6, 7, 8, 9):  # a summer time day would make 13:00 10:00 UTC
        day += timedelta(days=30)
    return day


def make_event(world, day, *, day_before=True, two_hours=False, hour=13, minute=0):
    return factories.event(
        world.org_a,
        at(day, hour, minute),
        capacity=3,
        remind_day_before=day_before,
        remind_two_hours=two_hours,
    )


def register(event, now, **fields):
    outcome = rules.register(event.id, factories.registration_request(**fields), now)
    _db.session.commit()
    return outcome.registration


def due(moment) -> list[tuple[str, str]]:
    return sorted((d.reminder.value, d.registration.email) for d in reminders_due(moment))


def queue_due(moment) -> int:
    queued = sum(queue_reminder(d.registration, moment, d.reminder) for d in reminders_due(moment))
    _db.session.commit()
    return queued


def reminder_messages() -> list[OutboxMessage]:
    return list(
        _db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "event_reminder")
            .order_by(OutboxMessage.id)
        )
    )


def test_the_day_before_by_default_from_ten_oclock_riga_time(world, day, now):
    event = make_event(world, day)  # the form's default: the day before only
    register(event, now, email="a@example.lv")
    register(event, now, email=None, phone="+371 20000000")  # no address: nothing to send
    cancelled = register(event, now, email="cancelled@example.lv")
    rules.cancel_registration(cancelled, now)
    register(event, now, email="b@example.lv")
    register(event, now, email="waiting@example.lv", party_size=2)  # waitlisted: no reminder
    _db.session.commit()
    yesterday = day - timedelta(days=1)

    assert due(at(yesterday, 9, 59)) == []  # not before 10:00 Riga time …
    assert due(at(yesterday - timedelta(days=1), 12)) == []  # … nor two days before
    assert due(at(yesterday, 10)) == [
        ("day_before", "a@example.lv"),
        ("day_before", "b@example.lv"),
    ]
    assert queue_due(at(yesterday, 10)) == 2
    assert due(at(yesterday, 18)) == []  # gone: never twice
    assert due(at(day, 11, 30)) == []  # two hours before was not chosen
    assert {m.payload["reminder"] for m in reminder_messages()} == {"day_before"}


def test_two_hours_before_only(world, day, now):
    event = make_event(world, day, day_before=False, two_hours=True)
    register(event, now, email="a@example.lv")
    assert due(at(day - timedelta(days=1), 12)) == []
    assert due(at(day, 10, 59)) == []
    assert due(at(day, 11)) == [("two_hours", "a@example.lv")]
    assert queue_due(at(day, 11, 5)) == 1
    assert due(at(day, 12)) == []
    assert due(at(day, 13)) == []  # the event has begun


def test_both_go_once_each_and_none_when_none_is_chosen(world, day, now):
    both = make_event(world, day, two_hours=True)
    neither = make_event(world, day, day_before=False)
    register(both, now, email="both@example.lv")
    register(neither, now, email="neither@example.lv")
    yesterday = day - timedelta(days=1)
    for moment in (at(yesterday, 10), at(yesterday, 23, 59), at(day, 11), at(day, 12, 59)):
        queue_due(moment)
        queue_due(moment)  # a second timer run at the same moment
    assert [(m.recipient, m.payload["reminder"]) for m in reminder_messages()] == [
        ("both@example.lv", "day_before"),
        ("both@example.lv", "two_hours"),
    ]


def test_the_timer_run_twice_sends_once(app, world, day, now, smtp_server, monkeypatch):
    import eventsvc.cli

    event = make_event(world, day)
    register(event, now, email="a@example.lv")
    mailer.deliver_due(now)  # the confirmation
    smtp_server.inbox.messages.clear()
    monkeypatch.setattr(eventsvc.cli, "utcnow", lambda: at(day - timedelta(days=1), 10, 15))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["mail", "reminders"])
    second = runner.invoke(args=["mail", "reminders"])
    assert first.exit_code == 0 and "queued 1 reminders" in first.output
    assert second.exit_code == 0 and "queued 0 reminders" in second.output
    worker = runner.invoke(args=["mail", "worker", "--once"])
    assert worker.exit_code == 0 and "sent 1" in worker.output
    (mail,) = smtp_server.inbox.parsed()
    assert mail["To"] == "a@example.lv"
    assert "rīt plkst. 13:00" in mail.get_body(("plain",)).get_content()


def test_someone_who_registered_after_the_reminder_was_due_gets_none(world, day, now):
    event = make_event(world, day, two_hours=True)
    yesterday = day - timedelta(days=1)
    register(event, now, email="early@example.lv")
    register(event, at(yesterday, 15), email="late@example.lv")  # after 10:00 the day before
    register(event, at(day, 11, 30), email="last@example.lv")  # within the two hours
    assert due(at(yesterday, 16)) == [("day_before", "early@example.lv")]
    assert due(at(day, 11, 45)) == [
        ("two_hours", "early@example.lv"),
        ("two_hours", "late@example.lv"),
    ]


def test_a_later_time_rearms_the_reminders_still_ahead(world, day, now):
    event = make_event(world, day, two_hours=True)
    registration = register(event, now, email="a@example.lv")
    yesterday = day - timedelta(days=1)
    assert queue_due(at(yesterday, 10)) == 1

    # Moved by two hours the day before: the day-before reminder's moment (10:00 today) has
    # passed, so it is not sent again; the two-hour one has not gone and goes for 15:00.
    data = EventData.from_event(event)
    data.starts_at, data.ends_at = at(day, 15), at(day, 17)
    update_event(world.organiser_a, event, data, at(yesterday, 14))
    _db.session.commit()
    _db.session.refresh(registration)
    assert registration.reminded_at is not None
    assert due(at(day, 11)) == []
    assert due(at(day, 13)) == [("two_hours", "a@example.lv")]
    assert queue_due(at(day, 13)) == 1

    # Moved to next week: both moments are ahead again, and both go again, for the new day.
    later = day + timedelta(days=7)
    data = EventData.from_event(event)
    data.starts_at, data.ends_at = at(later, 12), at(later, 14)
    update_event(world.organiser_a, event, data, at(day, 13, 30))
    _db.session.commit()
    _db.session.refresh(registration)
    assert (registration.reminded_at, registration.reminded_two_hours_at) == (None, None)
    assert due(at(day, 14)) == []
    assert queue_due(at(later - timedelta(days=1), 10)) == 1
    assert queue_due(at(later, 10)) == 1
    assert [m.payload["reminder"] for m in reminder_messages()] == [
        "day_before",
        "two_hours",
        "day_before",
        "two_hours",
    ]


def test_another_change_rearms_nothing(world, day, now):
    event = make_event(world, day)
    registration = register(event, now, email="a@example.lv")
    yesterday = day - timedelta(days=1)
    queue_due(at(yesterday, 10))
    data = EventData.from_event(event)
    data.venue_name = "Tumes pagasta bibliotēka"
    update_event(world.organiser_a, event, data, at(yesterday, 11))
    _db.session.commit()
    _db.session.refresh(registration)
    assert registration.reminded_at is not None and due(at(yesterday, 12)) == []


@pytest.mark.parametrize(
    ("language", "tomorrow", "today"),
    [
        ("lv", "pasākums ir rīt plkst. 13:00", "pasākums ir šodien plkst. 13:00"),
        ("ru", "мероприятие состоится завтра в 13:00", "мероприятие состоится сегодня в 13:00"),
        # English writes the time as English does (the page's filter: Babel's short time).
        ("en", "the event is tomorrow at 1:00\u202fPM", "the event is today at 1:00\u202fPM"),
    ],
)
def test_the_text_says_tomorrow_or_today_in_riga_time_and_the_registrants_language(
    world, day, now, language, tomorrow, today
):
    event = make_event(world, day, two_hours=True)  # 13:00 in Riga is 11:00 UTC
    register(event, now, email="a@example.lv", language=language)
    queue_due(at(day - timedelta(days=1), 10))
    queue_due(at(day, 11))
    day_before, two_hours = reminder_messages()
    assert (day_before.language, two_hours.language) == (language, language)
    first = mailer.compose(day_before, at(day - timedelta(days=1), 10, 1))
    second = mailer.compose(two_hours, at(day, 11, 1))
    assert tomorrow in first.body and tomorrow in first.html
    assert today in second.body and today in second.html
    assert "11:00" not in first.body  # never UTC


def test_just_after_midnight_two_hours_before_is_still_tomorrow(world, day, now):
    event = make_event(world, day, day_before=False, two_hours=True, hour=0, minute=30)
    register(event, now, email="a@example.lv", language="lv")
    evening = at(day - timedelta(days=1), 22, 30)
    assert queue_due(evening) == 1
    (message,) = reminder_messages()
    assert "pasākums ir rīt plkst. 00:30" in mailer.compose(message, evening).body
    # Held up past midnight (the worker was down): it says what is true when it leaves.
    assert "pasākums ir šodien plkst. 00:30" in mailer.compose(message, at(day, 0, 5)).body


def test_a_reminder_held_up_until_the_event_began_is_not_sent(world, day, now):
    event = make_event(world, day)
    register(event, now, email="a@example.lv")
    queue_due(at(day - timedelta(days=1), 10))
    (message,) = reminder_messages()
    assert mailer.compose(message, at(day, 13, 1)) is None


def test_a_registration_erased_after_the_reminders_were_listed_gets_none(world, day, now):
    event = make_event(world, day)
    register(event, now, email="stays@example.lv")
    gone = register(event, now, email="erased@example.lv")
    moment = at(day - timedelta(days=1), 10)
    listed = reminders_due(moment)
    assert {d.registration.email for d in listed} == {"stays@example.lv", "erased@example.lv"}
    privacy.erase_registration(gone, now)  # the resident erases while the timer run is going
    _db.session.commit()
    assert [queue_reminder(d.registration, moment, d.reminder) for d in listed] == [True, False]
    _db.session.commit()
    assert [m.recipient for m in reminder_messages()] == ["stays@example.lv"]


def test_a_registration_cancelled_after_it_was_listed_gets_none(world, day, now):
    event = make_event(world, day)
    registration = register(event, now, email="a@example.lv")
    moment = at(day - timedelta(days=1), 10)
    listed = reminders_due(moment)
    rules.cancel_registration(registration, now)
    _db.session.commit()
    assert registration.status is RegistrationStatus.CANCELLED
    assert [queue_reminder(d.registration, moment, d.reminder) for d in listed] == [False]
    assert queue_reminder(registration, moment, Reminder.TWO_HOURS) is False


def _checkbox(page: str, name: str) -> bool:
    """Whether the page's checkbox `name` is ticked."""
    (tag,) = re.findall(rf'<input[^>]*name="{name}"[^>]*>', page)
    return " checked" in tag


def test_the_event_form_sets_when_the_reminders_go(client, world, day):
    from eventsvc.models import Event

    from .conftest import login, post_form

    login(client, world.organiser_a.email)
    page = client.get("/manage/events/new").get_data(as_text=True)
    assert _checkbox(page, "remind_day_before") and not _checkbox(page, "remind_two_hours")
    response = post_form(
        client,
        "/manage/events/new",
        {
            "title": "Atgādinājumu pārbaude",
            "kind": "workshop",
            "organisation_id": str(world.org_a.id),
            "municipality_id": str(world.tukums.id),
            "starts_at": f"{day.isoformat()}T13:00",
            "ends_at": f"{day.isoformat()}T15:00",
            "venue_name": "Tumes kultūras nams",
            "format": "in_person",
            "language": "lv",
            "remind_two_hours": "y",  # the day before unticked
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    event = _db.session.scalar(select(Event).where(Event.title == "Atgādinājumu pārbaude"))
    assert (event.remind_day_before, event.remind_two_hours) == (False, True)
    edit = client.get(f"/manage/events/{event.id}/edit").get_data(as_text=True)
    assert not _checkbox(edit, "remind_day_before") and _checkbox(edit, "remind_two_hours")
