"""The to-call list: every notice that could not be emailed lands there, in the person's
language; organisers mark calls done; the preview before a notifying change; the organisers'
message; the large-print letters; and erasure takes the calls with it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Activity,
    Attendance,
    AuditEntry,
    CallReason,
    EventFormat,
    EventKind,
    EventStatus,
    OutboxMessage,
    PhoneCall,
    Registration,
    RegistrationStatus,
    Role,
)
from eventsvc.services import (
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
    mailer,
    phone_calls,
    privacy,
)
from eventsvc.services import letters as letter_service
from eventsvc.services import organiser_messages as messages
from eventsvc.services import registration as rules
from eventsvc.services.events import EventData, cancel_event, changes_to_tell, update_event
from eventsvc.services.notifications import notify
from eventsvc.services.organiser_messages import Audience, MessageData

from . import factories


def register(event, now, **fields):
    outcome = rules.register(event.id, factories.registration_request(**fields), now)
    _db.session.commit()
    return outcome.registration


def said(language: str, message: str, **args) -> str:
    """`message` as the catalogue says it in `language`."""
    with force_locale(language):
        return gettext(message, **args)


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=10)


@pytest.fixture
def people(event, now):
    """Anna writes email; Valentīna (Russian) and Jānis (Latvian) registered by phone."""
    anna = register(event, now, name="Anna Bērziņa", email="anna@example.lv")
    valentina = register(
        event, now, name="Valentīna Ivanova", email=None, phone="+371 2000 0001", language="ru"
    )
    janis = register(event, now, name="Jānis Ozols", email=None, phone="+371 2000 0002")
    return anna, valentina, janis


def moved_online(event) -> EventData:
    data = EventData.from_event(event)
    data.format = EventFormat.ONLINE
    data.stream_url = "https://video.example.lv/tume"
    return data


def open_calls(event) -> list[PhoneCall]:
    _db.session.expire_all()
    return list(
        _db.session.scalars(
            select(PhoneCall)
            .where(PhoneCall.event_id == event.id, PhoneCall.done_at.is_(None))
            .order_by(PhoneCall.id)
        )
    )


def test_moving_online_emails_some_and_puts_phone_only_people_on_the_list(
    world, event, people, now
):
    _, valentina, janis = people
    update_event(world.organiser_a, event, moved_online(event), now)
    _db.session.commit()
    notices = _db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "event_changed")
    ).all()
    assert [m.recipient for m in notices] == ["anna@example.lv"]
    calls = open_calls(event)
    assert [(c.registration_id, c.kind, c.reason) for c in calls] == [
        (valentina.id, "event_changed", CallReason.NO_EMAIL),
        (janis.id, "event_changed", CallReason.NO_EMAIL),
    ]
    assert phone_calls.open_counts([event.id]) == {event.id: 2}

    listed = phone_calls.call_list(world.organiser_a, event)
    assert [item.person.name for item in listed.to_call] == ["Jānis Ozols", "Valentīna Ivanova"]
    russian = listed.to_call[1].scripts[0]
    assert (russian.language, listed.to_call[1].person.phone) == ("ru", "+371 2000 0001")
    assert russian.opening == said(
        "ru", "The organiser has changed the event. Please note the new details below."
    )
    online, in_person = said("ru", "Online"), said("ru", "In person")
    format_line = (
        said("ru", "Format")
        + ": "
        + said("ru", "was %(old)s, now %(new)s", old=in_person, new=online)
    )
    assert format_line in russian.lines
    assert any("https://video.example.lv/tume" in line for line in russian.lines)
    latvian = listed.to_call[0].scripts[0]
    assert latvian.language == "lv" and latvian.lines[0].startswith(said("lv", "Format") + ": ")


def test_moved_online_they_are_told_how_to_watch(world, in_days, now):
    event = factories.event(
        world.org_a,
        in_days(10),
        format=EventFormat.HYBRID,
        stream_url="https://www.facebook.com/Labklajibas.ministrija",
    )
    register(
        event,
        now,
        name="Valentīna Ivanova",
        email=None,
        phone="+371 2000 0001",
        language="ru",
        attendance=Attendance.IN_PERSON,
    )
    data = EventData.from_event(event)
    data.format = EventFormat.ONLINE
    update_event(world.organiser_a, event, data, now)
    _db.session.commit()
    (item,) = phone_calls.call_list(world.organiser_a, event).to_call
    assert item.scripts[0].lines[-1] == (
        said("ru", "Watch online") + ": https://www.facebook.com/Labklajibas.ministrija"
    )


def test_a_cancellation_replaces_what_else_was_to_be_said(world, event, people, now):
    _, valentina, janis = people
    update_event(world.organiser_a, event, moved_online(event), now)
    cancel_event(world.organiser_a, event, now)
    _db.session.commit()
    calls = open_calls(event)
    assert [(c.registration_id, c.kind) for c in calls] == [
        (valentina.id, "event_cancelled"),
        (janis.id, "event_cancelled"),
    ]
    script = phone_calls.call_list(world.organiser_a, event).to_call[1].scripts[0]
    assert script.opening == said(
        "ru", "We are sorry: the event has been cancelled. You do not need to do anything."
    )
    assert script.lines[0].startswith(said("ru", "When") + ": ")


def test_a_phone_only_person_promoted_from_the_waiting_list_is_to_be_called(world, in_days, now):
    event = factories.event(world.org_a, in_days(10), capacity=2)
    first = register(event, now, email="first@example.lv", party_size=2)
    waiting = register(event, now, name="Zelma Liepa", email=None, phone="+371 2000 0003")
    assert waiting.status.value == "waitlisted"
    assert open_calls(event) == []  # being put on the waiting list is said on the phone already

    rules.cancel_registration(first, now)
    _db.session.commit()
    (call,) = open_calls(event)
    assert (call.registration_id, call.kind) == (waiting.id, "registration_promoted")
    script = phone_calls.script(call.kind, call.registration, call.payload)
    assert script.opening == said("lv", "Good news: a place became free and it is yours now.")
    assert said("lv", "Booking code") + ": " + waiting.booking_code in script.lines


def test_a_place_in_a_full_activity_is_to_be_called_too(world, in_days, now):
    event = factories.event(world.org_a, in_days(10), capacity=10, kind=EventKind.FESTIVAL, hours=5)
    workshop = Activity(
        title="Kartīšu darbnīca",
        starts_at=event.starts_at,
        ends_at=event.starts_at + timedelta(hours=1),
        capacity=1,
    )
    event.activities.append(workshop)
    _db.session.commit()
    first = register(event, now, email="first@example.lv", activity_ids=[workshop.id])
    waiting = register(
        event,
        now,
        name="Olga Petrova",
        email=None,
        phone="+371 2000 0004",
        activity_ids=[workshop.id],
        language="ru",
    )
    rules.change_registration(first, rules.RegistrationChange(activity_ids=[]), now)
    _db.session.commit()
    (call,) = open_calls(event)
    assert (call.registration_id, call.kind) == (waiting.id, "activity_promoted")
    script = phone_calls.script(call.kind, call.registration, call.payload)
    assert script.opening == said(
        "ru",
        "Good news: a place in “%(activity)s” became free and it is yours now.",
        activity="Kartīšu darbnīca",
    )


def test_marking_a_call_done_records_who_and_when_and_keeps_a_later_one_open(
    world, event, people, now
):
    _, valentina, _ = people
    update_event(world.organiser_a, event, moved_online(event), now)
    _db.session.commit()
    listed = phone_calls.call_list(world.organiser_a, event)
    shown = next(i for i in listed.to_call if i.person.registration_id == valentina.id)
    # A message noted after the list was shown: the call about it is still to be made.
    notify("organiser_message", valentina, now, {"subject": "Autobuss", "body": "Plkst. 12"})
    _db.session.commit()

    later = now + timedelta(minutes=5)
    assert phone_calls.mark_done(world.organiser_a, event, valentina.id, shown.up_to, later) == 1
    _db.session.commit()
    calls = _db.session.scalars(
        select(PhoneCall).where(PhoneCall.registration_id == valentina.id).order_by(PhoneCall.id)
    ).all()
    assert [(c.kind, c.done_at, c.done_by_id) for c in calls] == [
        ("event_changed", later, world.organiser_a.id),
        ("organiser_message", None, None),
    ]
    entry = _db.session.scalars(select(AuditEntry).where(AuditEntry.action == "call.done")).one()
    assert (entry.actor_id, entry.target_id, entry.event_id) == (
        world.organiser_a.id,
        valentina.id,
        event.id,
    )
    assert phone_calls.open_counts([event.id]) == {event.id: 2}  # Jānis, and Valentīna again
    listed = phone_calls.call_list(world.organiser_a, event)
    assert [c.person.name for c in listed.called] == ["Valentīna Ivanova"]
    assert listed.called[0].done_by == world.organiser_a.name
    # Marked a second time (another organiser's tab): nothing more, no second entry.
    assert phone_calls.mark_done(world.admin, event, valentina.id, shown.up_to, later) == 0
    mine = phone_calls.call_list(world.organiser_a, event).to_call
    for item in mine:
        phone_calls.mark_done(
            world.organiser_a, event, item.person.registration_id, item.up_to, later
        )
    _db.session.commit()
    assert phone_calls.open_counts([event.id]) == {}


def test_only_the_events_organisers_and_admins_read_or_mark_the_list(world, event, people, now):
    _, valentina, _ = people
    door = factories.user("door@example.lv", Role.DOOR, [world.org_a])
    _db.session.commit()
    for user in (world.ministry, door):
        with pytest.raises(PermissionDenied):
            phone_calls.call_list(user, event)
        with pytest.raises(PermissionDenied):
            phone_calls.mark_done(user, event, valentina.id, 10**6, now)
        with pytest.raises(PermissionDenied):
            letter_service.letters(user, event)
    with pytest.raises(NotFound):
        phone_calls.call_list(world.organiser_b, event)
    with pytest.raises(NotFound):
        phone_calls.mark_done(world.organiser_b, event, valentina.id, 10**6, now)
    assert phone_calls.call_list(world.admin, event).to_call == []


def test_a_mail_refused_for_good_lands_on_the_list(world, event, smtp_server, now):
    gone = register(event, now, name="Zelma Liepa", email="gone@example.lv", phone="+371 2000 0005")
    smtp_server.inbox.refuse["gone@example.lv"] = "550 5.1.1 mailbox unavailable"
    assert mailer.deliver_due(now).failed == 1
    (call,) = open_calls(event)
    assert (call.registration_id, call.kind, call.reason) == (
        gone.id,
        "registration_confirmed",
        CallReason.UNDELIVERED,
    )
    script = phone_calls.script(call.kind, call.registration, call.payload)
    assert script.opening == said("lv", "Your place is reserved.")

    # The event then moves online: the failed notice about it joins her call.
    update_event(world.organiser_a, event, moved_online(event), now)
    _db.session.commit()
    assert mailer.deliver_due(now).failed == 1
    assert [c.kind for c in open_calls(event)] == ["registration_confirmed", "event_changed"]
    assert phone_calls.open_counts([event.id]) == {event.id: 1}  # one person to phone


def test_a_mail_given_up_after_its_last_retry_lands_on_the_list(world, event, smtp_server, now):
    busy = register(event, now, email="busy@example.lv", phone="+371 2000 0006")
    smtp_server.inbox.refuse["busy@example.lv"] = "451 4.7.1 try again later"
    message = _db.session.scalar(select(OutboxMessage))
    message.attempts = mailer.MAX_ATTEMPTS - 1
    _db.session.commit()
    assert mailer.deliver_due(now).failed == 1
    (call,) = open_calls(event)
    assert (call.registration_id, call.reason) == (busy.id, CallReason.UNDELIVERED)


def test_a_feedback_form_that_bounces_is_nobodys_call(world, event, now):
    anna = register(event, now, email="anna@example.lv")
    message = notify("event_feedback", anna, now, {"token": "x", "expires": now.isoformat()})
    _db.session.commit()
    assert phone_calls.note_undelivered(message.id, now) is None
    assert open_calls(event) == []


def test_a_later_change_is_folded_into_the_open_call_and_a_change_back_drops_it(
    world, event, people, now
):
    first = EventData.from_event(event)
    first.starts_at += timedelta(hours=1)
    first.ends_at += timedelta(hours=1)
    update_event(world.organiser_a, event, first, now)
    update_event(world.organiser_a, event, moved_online(event), now)
    _db.session.commit()
    calls = open_calls(event)
    assert [set(c.payload["changes"]) for c in calls] == [{"time", "format", "stream_url"}] * 2
    # Back in person, at the first time: only the time is still news.
    back = EventData.from_event(event)
    back.format = EventFormat.IN_PERSON
    back.stream_url = None
    update_event(world.organiser_a, event, back, now)
    _db.session.commit()
    calls = open_calls(event)
    assert [set(c.payload["changes"]) for c in calls] == [{"time"}, {"time"}]
    original = EventData.from_event(event)
    original.starts_at -= timedelta(hours=1)
    original.ends_at -= timedelta(hours=1)
    update_event(world.organiser_a, event, original, now)
    _db.session.commit()
    assert open_calls(event) == []  # nothing is different from what they were told


def test_a_registration_cancelled_since_needs_no_call_about_a_change(world, event, people, now):
    _, valentina, _ = people
    update_event(world.organiser_a, event, moved_online(event), now)
    rules.cancel_registration(valentina, now, by_user=world.organiser_a)
    _db.session.commit()
    assert phone_calls.open_counts([event.id]) == {event.id: 1}
    assert [i.person.name for i in phone_calls.call_list(world.organiser_a, event).to_call] == [
        "Jānis Ozols"
    ]


# --- before a notifying change: the preview and the choice -------------------------------


def test_the_preview_says_who_is_emailed_and_who_must_be_phoned_and_saves_nothing(
    world, event, people, now
):

    data = moved_online(event)
    changes = changes_to_tell(world.organiser_a, event, data)
    assert changes == {
        "format": ["in_person", "online"],
        "stream_url": ["", "https://video.example.lv/tume"],
    }
    _db.session.rollback()
    _db.session.refresh(event)
    assert event.format is EventFormat.IN_PERSON  # nothing was saved
    reach = phone_calls.reach(event.id)
    assert reach.emailed == 1
    assert [(p.name, p.phone, p.language) for p in reach.phoned] == [
        ("Jānis Ozols", "+371 2000 0002", "lv"),
        ("Valentīna Ivanova", "+371 2000 0001", "ru"),
    ]

    summary_only = EventData.from_event(event)
    summary_only.summary = "Cits apraksts"
    assert changes_to_tell(world.organiser_a, event, summary_only) == {}
    with pytest.raises(ValidationFailed):
        bad = moved_online(event)
        bad.stream_url = None
        changes_to_tell(world.organiser_a, event, bad)


def test_nobody_registered_or_a_draft_asks_nothing(world, in_days, now):
    empty = factories.event(world.org_a, in_days(10))
    draft = factories.event(world.org_a, in_days(11), status=EventStatus.DRAFT)
    _db.session.add(
        Registration(
            event_id=draft.id,
            status=RegistrationStatus.CONFIRMED,
            name="Rasma Krūmiņa",
            phone="+371 2000 0007",
        )
    )
    _db.session.commit()
    assert changes_to_tell(world.organiser_a, empty, moved_online(empty)) == {}
    assert changes_to_tell(world.organiser_a, draft, moved_online(draft)) == {}


def test_choosing_not_to_notify_saves_the_change_and_tells_nobody(world, event, people, now):
    update_event(world.organiser_a, event, moved_online(event), now, notify=False)
    _db.session.commit()
    assert event.format is EventFormat.ONLINE
    assert (
        _db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "event_changed")
        )
        == 0
    )
    assert open_calls(event) == []
    entry = _db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.update")).one()
    assert "registrants not told" in entry.detail

    cancel_event(world.organiser_a, event, now, notify=False)
    _db.session.commit()
    assert open_calls(event) == []
    assert (
        _db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "event_cancelled")
        )
        == 0
    )


def test_the_audit_says_how_many_were_told_each_way(world, event, people, now):
    update_event(world.organiser_a, event, moved_online(event), now)
    _db.session.commit()
    entry = _db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.update")).one()
    assert '"emailed":1' in entry.detail.replace(" ", "") and '"phoned":2' in entry.detail.replace(
        " ", ""
    )


# --- the organisers' message ---------------------------------------------------------------


def test_a_message_to_the_waiting_list_goes_by_mail_and_onto_the_list(world, in_days, now):
    event = factories.event(world.org_a, in_days(10), capacity=1)
    register(event, now, email="placed@example.lv")
    waiting = register(event, now, email="waiting@example.lv")
    by_phone = register(
        event, now, name="Valentīna Ivanova", email=None, phone="+371 2000 0001", language="ru"
    )
    data = MessageData(
        Audience.WAITLISTED, "  Vairāk vietu  ", "Mēs meklējam lielāku zāli.\nGaidiet ziņu."
    )
    shown = messages.preview(world.organiser_a, event, data)
    assert shown.reach.emailed == 1 and [p.name for p in shown.reach.phoned] == [
        "Valentīna Ivanova"
    ]
    assert shown.sample.subject.startswith("Vairāk vietu – ")
    assert "Mēs meklējam lielāku zāli." in shown.sample.mail_text
    assert _db.session.scalar(select(func.count(OutboxMessage.id))) == 2  # the two mails only

    told = messages.send(world.organiser_a, event, data, now)
    _db.session.commit()
    assert (told.emailed, told.phoned) == (1, 1)
    (sent,) = _db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "organiser_message")
    ).all()
    assert (sent.registration_id, sent.payload["subject"]) == (waiting.id, "Vairāk vietu")
    (call,) = open_calls(event)
    assert (call.registration_id, call.kind) == (by_phone.id, "organiser_message")
    script = phone_calls.script(call.kind, call.registration, call.payload)
    assert (script.language, script.opening) == ("ru", "Vairāk vietu")
    assert script.message == "Mēs meklējam lielāku zāli.\nGaidiet ziņu."
    entry = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "event.message")
    ).one()
    assert "Vairāk" not in entry.detail and "lielāku" not in entry.detail


def test_the_message_goes_out_at_once_whatever_the_hourly_cap(app, world, event, smtp_server, now):
    anna = register(event, now, email="anna@example.lv")
    for _ in range(app.config["EVENTSVC_MAIL_PER_ADDRESS_PER_HOUR"] + 2):
        notify("registration_changed", anna, now, public=True)
    _db.session.commit()
    messages.send(
        world.organiser_a, event, MessageData(Audience.EVERYONE, "Autobuss", "12:00"), now
    )
    _db.session.commit()
    message = _db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.kind == "organiser_message")
    )
    assert message.next_attempt_at == now
    report = mailer.deliver_due(now)
    assert report.failed == 0
    mails = [m for m in smtp_server.inbox.parsed() if m["Subject"].startswith("Autobuss")]
    (mail,) = mails
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "12:00" in body and said("lv", "A message from the organiser of the event:") in body
    assert not [p for p in mail.walk() if p.get_content_type() == "text/calendar"]


def test_a_message_needs_a_subject_a_text_and_someone_to_get_it(world, event, now):
    with pytest.raises(ValidationFailed) as refused:
        messages.preview(world.organiser_a, event, MessageData(Audience.EVERYONE, " ", "x\x1by"))
    assert set(refused.value.errors) == {"subject", "text"}
    with pytest.raises(ServiceError):
        messages.send(
            world.organiser_a, event, MessageData(Audience.EVERYONE, "Sveiki", "Teksts"), now
        )
    with pytest.raises(PermissionDenied):
        messages.preview(world.ministry, event, MessageData(Audience.EVERYONE, "a", "b"))
    with pytest.raises(NotFound):
        messages.send(world.organiser_b, event, MessageData(Audience.EVERYONE, "a", "b"), now)


# --- the letters ------------------------------------------------------------------------------


def test_letters_carry_the_news_or_the_ticket_in_each_persons_language(world, event, people, now):
    _, valentina, _ = people
    online_person = register(
        event,
        now,
        name="Ilze Kalniņa",
        email=None,
        phone="+371 2000 0008",
        attendance=Attendance.IN_PERSON,
    )
    notify("organiser_message", valentina, now, {"subject": "Autobuss", "body": "Plkst. 12"})
    _db.session.commit()
    found = letter_service.letters(world.organiser_a, event)
    assert [(letter.registration.name, letter.language) for letter in found] == [
        ("Ilze Kalniņa", "lv"),
        ("Jānis Ozols", "lv"),
        ("Valentīna Ivanova", "ru"),
    ]
    ilze, _, valentina_letter = found
    assert ilze.ticket and not ilze.news and online_person.booking_code
    assert valentina_letter.news[0].opening == "Autobuss" and not valentina_letter.ticket
    with force_locale("ru"):
        from eventsvc.services.phone_calls import when_text

        assert valentina_letter.when == when_text(event)


def test_a_letter_for_a_cancelled_event_says_so_even_untold(world, event, people, now):
    cancel_event(world.organiser_a, event, now, notify=False)
    _db.session.commit()
    found = letter_service.letters(world.organiser_a, event)
    assert all(not letter.ticket for letter in found)
    assert found[0].news[0].opening == said(
        "lv", "We are sorry: the event has been cancelled. You do not need to do anything."
    )


# --- erasure and the retention purge --------------------------------------------------------


def test_erasure_takes_the_persons_calls_with_it(world, event, people, now):
    _, valentina, janis = people
    update_event(world.organiser_a, event, moved_online(event), now)
    _db.session.commit()
    privacy.erase_registration(valentina, now)
    _db.session.commit()
    assert [c.registration_id for c in open_calls(event)] == [janis.id]
    assert (
        _db.session.scalar(
            select(func.count(PhoneCall.id)).where(PhoneCall.registration_id == valentina.id)
        )
        == 0
    )


def test_the_retention_purge_removes_the_calls_of_old_events(world, in_days, now):
    old = factories.event(world.org_a, now - timedelta(days=120))
    person = Registration(
        event_id=old.id,
        status=RegistrationStatus.CONFIRMED,
        name="Rasma Krūmiņa",
        phone="+371 2000 0009",
    )
    _db.session.add(person)
    _db.session.flush()
    notify("event_cancelled", person, now - timedelta(days=121))
    done = PhoneCall(
        event_id=old.id,
        registration_id=person.id,
        kind="organiser_message",
        reason=CallReason.NO_EMAIL,
        payload={"subject": "a", "body": "b"},
        done_at=now - timedelta(days=119),
    )
    _db.session.add(done)
    _db.session.commit()
    assert _db.session.scalar(select(func.count(PhoneCall.id))) == 2
    privacy.purge(now, retention_days=90)
    assert _db.session.scalar(select(func.count(PhoneCall.id))) == 0


def test_two_organisers_marking_one_call_at_once_record_it_once(app, world, event, people, now):
    """Two tabs, one person: the call is done once, by one of them, with one audit entry."""
    import threading

    from eventsvc.models import Event, User

    from .conftest import run_at_once

    _, valentina, _ = people
    update_event(world.organiser_a, event, moved_online(event), now)
    _db.session.commit()
    shown = next(
        i
        for i in phone_calls.call_list(world.organiser_a, event).to_call
        if i.person.registration_id == valentina.id
    )
    start = threading.Barrier(2)
    done: list[int] = []

    def marks(user_id):
        def step():
            start.wait(timeout=30)
            user = _db.session.get(User, user_id)
            done.append(
                phone_calls.mark_done(
                    user, _db.session.get(Event, event.id), valentina.id, shown.up_to, now
                )
            )
            _db.session.commit()

        return step

    assert run_at_once(app, marks(world.organiser_a.id), marks(world.admin.id)) == []
    assert sorted(done) == [0, 1]
    _db.session.expire_all()
    assert (
        _db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "call.done")
        )
        == 1
    )
    call = _db.session.scalar(select(PhoneCall).where(PhoneCall.registration_id == valentina.id))
    assert call.done_by_id in (world.organiser_a.id, world.admin.id)


def test_a_data_subject_request_hands_over_the_calls_and_the_message(
    world, event, smtp_server, now
):
    anna = register(event, now, email="anna@example.lv", phone="+371 2000 0010")
    smtp_server.inbox.refuse["anna@example.lv"] = "550 5.1.1 mailbox unavailable"
    messages.send(
        world.organiser_a, event, MessageData(Audience.EVERYONE, "Autobuss", "Plkst. 12"), now
    )
    _db.session.commit()
    mailer.deliver_due(now)
    document = privacy.data_subject_export(world.organiser_a, "anna@example.lv", now)
    (entry,) = document["registrations"]
    assert entry["registration_id"] == anna.id
    assert [c["about"] for c in entry["phone_calls"]] == [
        "registration_confirmed",
        "organiser_message",
    ]
    assert entry["phone_calls"][1]["what_to_say"] == {"subject": "Autobuss", "body": "Plkst. 12"}
    subjects = [m["subject"] for m in entry["messages"]]
    assert subjects[1].startswith("Autobuss – ")
