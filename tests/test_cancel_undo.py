"""Cancelling asks first and can be undone while places allow (services/registration.py
restore_registration): back to confirmed if the party fits in the places free now, back in
its turn if it was waiting, refused if its places went to the waiting list; counters kept
right, audited, and the registrant never told of a cancellation undone before its notice
went out."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Activity,
    ActivityWait,
    AuditEntry,
    EventKind,
    EventStatus,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
)
from eventsvc.services import ServiceError, mailer
from eventsvc.services import registration as rules
from eventsvc.services.registration import RegistrationRefused
from eventsvc.services.stats import counter_drift

from . import factories
from .conftest import login, post_form, run_at_once

CONFIRMED, WAITLISTED, CANCELLED = (
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITLISTED,
    RegistrationStatus.CANCELLED,
)


def register(event, now, **fields):
    outcome = rules.register(event.id, factories.registration_request(**fields), now)
    _db.session.commit()
    return outcome.registration


def fresh(registration) -> Registration:
    _db.session.expire_all()
    return _db.session.get(Registration, registration.id)


def messages(registration, kind=None) -> list[OutboxMessage]:
    _db.session.expire_all()
    query = select(OutboxMessage).where(OutboxMessage.registration_id == registration.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(_db.session.scalars(query.order_by(OutboxMessage.id)))


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=5)


def cancel(registration, now, by_user=None):
    promoted = rules.cancel_registration(fresh(registration), now, by_user=by_user)
    _db.session.commit()
    return promoted


def restore(registration, now, by_user=None):
    outcome = rules.restore_registration(fresh(registration), now, by_user=by_user)
    _db.session.commit()
    return outcome


def test_an_organisers_undo_gives_the_place_back_and_nobody_hears_of_it(world, event, now):
    anna = register(event, now, name="Anna", party_size=3, email="anna@example.lv")
    cancel(anna, now, world.organiser_a)
    assert rules.availability(event).places_left == 5
    [notice] = messages(anna, "registration_cancelled")
    assert notice.status is OutboxStatus.PENDING  # the worker has not sent it yet

    outcome = restore(anna, now + timedelta(minutes=1), world.organiser_a)
    assert (outcome.status, outcome.withdrawn, outcome.notified) == (CONFIRMED, True, False)
    anna = fresh(anna)
    assert (anna.status, anna.cancelled_at) == (CONFIRMED, None)
    assert rules.availability(event).places_left == 2  # the counters moved back
    assert counter_drift() == {}
    # The cancellation notice is withdrawn, and no other message is queued for her.
    [notice] = messages(anna, "registration_cancelled")
    assert notice.status is OutboxStatus.SKIPPED and "undone" in notice.last_error
    assert messages(anna, "registration_restored") == []
    entry = _db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "registration.restore")
    )
    assert (entry.actor_id, entry.target_id, entry.event_id) == (
        world.organiser_a.id,
        anna.id,
        event.id,
    )


def test_after_the_cancellation_went_out_the_undo_is_told_with_the_ticket(
    world, event, now, smtp_server
):
    anna = register(event, now, name="Anna", email="anna@example.lv", language="en")
    cancel(anna, now, world.organiser_a)
    assert mailer.deliver_due(now).sent == 2  # the ticket, then the cancellation
    outcome = restore(anna, now, world.organiser_a)
    assert (outcome.withdrawn, outcome.notified) == (False, True)
    assert mailer.deliver_due(now).sent == 1
    restored = smtp_server.inbox.parsed()[-1]
    assert restored["Subject"].startswith("Your registration is valid again")
    text = restored.get_body(preferencelist=("plain",)).get_content()
    assert "The cancellation of your registration has been undone" in text
    assert anna.booking_code in text  # the same ticket as before
    assert [p for p in restored.walk() if p.get_content_type() == "application/pdf"]


def test_a_restored_notice_is_not_sent_for_a_registration_cancelled_again(
    world, event, now, smtp_server
):
    anna = register(event, now, email="anna@example.lv")
    cancel(anna, now, world.organiser_a)
    mailer.deliver_due(now)
    restore(anna, now, world.organiser_a)
    cancel(anna, now, world.organiser_a)  # before the worker's next pass
    mailer.deliver_due(now)
    kinds = [m.kind for m in messages(anna) if m.status is OutboxStatus.SENT]
    assert kinds == ["registration_confirmed", "registration_cancelled", "registration_cancelled"]
    [restored] = messages(anna, "registration_restored")
    assert restored.status is OutboxStatus.SKIPPED


def test_a_notice_being_sent_is_not_withdrawn_and_the_undo_is_told(world, event, now):
    anna = register(event, now, email="anna@example.lv")
    cancel(anna, now, world.organiser_a)
    [notice] = messages(anna, "registration_cancelled")
    notice.status = OutboxStatus.SENDING  # a worker holds it (its lease), mid-SMTP
    notice.claimed_until = now + timedelta(minutes=30)
    _db.session.commit()
    outcome = restore(anna, now, world.organiser_a)
    assert outcome.notified and not outcome.withdrawn
    assert messages(anna, "registration_cancelled")[0].status is OutboxStatus.SENDING
    assert len(messages(anna, "registration_restored")) == 1


def test_places_given_to_the_waiting_list_are_not_taken_back(world, event, now):
    anna = register(event, now, name="Anna", party_size=3)
    register(event, now, name="Jānis", party_size=2)
    zane = register(event, now, name="Zane", party_size=2)  # waits
    assert [p.id for p in cancel(anna, now, world.organiser_a)] == [zane.id]
    with pytest.raises(RegistrationRefused) as refused:
        rules.restore_registration(fresh(anna), now, world.organiser_a)
    _db.session.rollback()
    assert "vajag 3 vietas, bet brīvas tagad ir 1" in refused.value.message
    assert fresh(anna).status is CANCELLED and fresh(zane).status is CONFIRMED
    preview = rules.restore_preview(fresh(anna), now, world.organiser_a)
    assert not preview.possible and "reģistrējiet tos vēlreiz" in preview.reason
    # A smaller party would still fit the one place left: a party of one is restored.
    solo = register(event, now, name="Solo", party_size=1)
    cancel(solo, now, world.organiser_a)
    assert restore(solo, now, world.organiser_a).status is CONFIRMED
    assert rules.availability(event).places_left == 0
    assert counter_drift() == {}


def test_a_waiting_party_returns_to_its_turn(world, event, now):
    register(event, now, party_size=5)
    first = register(event, now, name="First")
    second = register(event, now, name="Second")
    cancel(first, now)
    assert rules.waitlist_position(fresh(second)) == 1
    outcome = restore(first, now + timedelta(minutes=2))  # the resident's own undo
    assert (outcome.status, outcome.waitlist_position) == (WAITLISTED, 1)
    assert rules.waitlist_positions(event.id) == {first.id: 1, second.id: 2}
    assert counter_drift() == {}


def test_a_waiting_party_that_fits_now_gets_a_place(world, event, now):
    holder = register(event, now, party_size=4)
    waiting = register(event, now, party_size=2)
    cancel(waiting, now)
    rules.change_party_size(fresh(holder), 3, now, by_user=world.organiser_a)
    _db.session.commit()  # 2 places free, nobody waits
    assert restore(waiting, now).status is CONFIRMED
    assert fresh(waiting).confirmed_at is not None
    assert rules.availability(event).places_left == 0


def test_activities_come_back_where_they_have_room_else_the_end_of_their_line(world, in_days, now):
    festival = factories.event(world.org_a, in_days(10), capacity=50, kind=EventKind.FESTIVAL)
    workshop = Activity(
        title="Keramika", starts_at=festival.starts_at, ends_at=festival.ends_at, capacity=2
    )
    concert = Activity(
        title="Koncerts", starts_at=festival.starts_at, ends_at=festival.ends_at, capacity=10
    )
    festival.activities.extend([workshop, concert])
    _db.session.commit()
    anna = register(festival, now, party_size=2, activity_ids=[workshop.id, concert.id])
    waiting = register(festival, now, party_size=2, activity_ids=[workshop.id])
    assert fresh(waiting).activity_waits  # on the workshop's own list
    cancel(anna, now)
    assert [a.id for a in fresh(waiting).activities] == [workshop.id]  # it took the places
    late = register(festival, now, party_size=1, activity_ids=[workshop.id])  # waits for it
    outcome = restore(anna, now)
    assert outcome.status is CONFIRMED
    anna = fresh(anna)
    assert [a.id for a in anna.activities] == [concert.id]
    assert [w.activity_id for w in anna.activity_waits] == [workshop.id]
    # At the end of the workshop's line: after the party that waited before her undo.
    positions = rules.activity_waitlist_positions(festival.id)
    assert positions[(late.id, workshop.id)] == 1 and positions[(anna.id, workshop.id)] == 2
    assert [c.position for c in outcome.activities if c.activity.id == workshop.id] == [2]
    assert _db.session.scalar(select(ActivityWait).where(ActivityWait.registration_id == anna.id))


def test_a_resident_may_undo_for_30_minutes_before_the_event_staff_until_it_ends(world, event, now):
    anna = register(event, now)
    cancel(anna, now)
    later = now + rules.RESIDENT_UNDO + timedelta(seconds=1)
    assert rules.restore_preview(fresh(anna), now + timedelta(minutes=29)).possible
    with pytest.raises(ServiceError, match="30"):
        rules.restore_registration(fresh(anna), later)
    _db.session.rollback()
    assert not rules.restore_preview(fresh(anna), later).possible
    assert restore(anna, later, world.organiser_a).status is CONFIRMED

    cancel(anna, event.starts_at - timedelta(minutes=5))
    with pytest.raises(ServiceError):  # the event has started
        rules.restore_registration(fresh(anna), event.starts_at + timedelta(minutes=1))
    _db.session.rollback()
    assert restore(anna, event.starts_at + timedelta(minutes=1), world.organiser_a).status is (
        CONFIRMED
    )
    cancel(anna, event.starts_at + timedelta(minutes=1), world.organiser_a)
    with pytest.raises(ServiceError):  # the event has ended
        rules.restore_registration(fresh(anna), event.ends_at, world.organiser_a)
    _db.session.rollback()


@pytest.mark.parametrize("why", ["registered again", "erased", "event cancelled", "active"])
def test_what_cannot_be_restored(world, event, now, why):
    from eventsvc.services import privacy

    anna = register(event, now, email="anna@example.lv")
    if why != "active":
        cancel(anna, now)
    if why == "registered again":
        register(event, now, email="anna@example.lv")
    elif why == "erased":
        privacy.erase_registration(fresh(anna), now)
        _db.session.commit()
    elif why == "event cancelled":
        event.status = EventStatus.CANCELLED
        _db.session.commit()
    status = fresh(anna).status
    with pytest.raises(ServiceError) as refused:
        rules.restore_registration(fresh(anna), now, world.organiser_a)
    _db.session.rollback()
    assert refused.value.message
    assert not rules.restore_preview(fresh(anna), now, world.organiser_a).possible
    assert fresh(anna).status is status


def test_an_undo_and_a_new_registration_race_for_the_last_place(app, world, in_days, now):
    """Real threads, each with its own connection (PostgreSQL's row locks, SQLite's write
    lock): the undo and a new registration both want the last place. One gets it; the
    other waits (the newcomer) or is refused (the undo); never overbooked."""
    outcomes = set()
    for round_ in range(6):
        event = factories.event(world.org_a, in_days(10), capacity=5, title=f"Sacīkste {round_}")
        register(event, now, party_size=4)
        anna = register(event, now, name="Anna")
        cancel(anna, now)
        start = threading.Barrier(2)
        results = {}

        def undo(anna_id=anna.id, start=start, results=results):
            start.wait(timeout=30)
            try:
                outcome = rules.restore_registration(
                    _db.session.get(Registration, anna_id), now, world.organiser_a
                )
                _db.session.commit()
                results["undo"] = str(outcome.status)
            except RegistrationRefused:
                _db.session.rollback()
                results["undo"] = "refused"

        def newcomer(event_id=event.id, i=round_, start=start, results=results):
            start.wait(timeout=30)
            outcome = rules.register(
                event_id, factories.registration_request(name=f"Jauns {i}"), now
            )
            _db.session.commit()
            results["new"] = str(outcome.status)

        assert run_at_once(app, undo, newcomer) == []
        assert results in (
            {"undo": "confirmed", "new": "waitlisted"},  # the undo came first
            {"undo": "refused", "new": "confirmed"},  # the newcomer came first
        ), results
        outcomes.add(results["undo"])
        _db.session.expire_all()
        confirmed = sum(
            r.party_size
            for r in _db.session.scalars(
                select(Registration).where(
                    Registration.event_id == event.id, Registration.status == CONFIRMED
                )
            )
        )
        assert confirmed == 5  # never 6
        assert rules.availability(event).places_left == 0
    assert counter_drift() == {}


# --- the pages ------------------------------------------------------------------------------


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_the_organiser_is_asked_first_then_sees_cancelled_undo(client, world, event, now):
    anna = register(event, now, name="Anna Bērziņa", party_size=2, email="anna@example.lv")
    register(event, now, party_size=3)
    login(client, world.organiser_a.email)
    page = f"/manage/events/{event.id}/registrations/{anna.id}"
    detail = text_of(client.get(page))
    assert f'href="{page}/cancel"' in detail  # a link to the question, not a button that acts
    question = client.get(page + "/cancel")
    assert question.status_code == 200
    body = text_of(question)
    assert "Atcelt šīs personas reģistrāciju: Anna Bērziņa?" in body
    assert "anna@example.lv" in body and "Jā, atcelt reģistrāciju" in body
    assert fresh(anna).status is CONFIRMED  # asking changed nothing

    response = post_form(client, page + "/cancel", {})
    assert response.status_code == 302 and response.location == page
    after = text_of(client.get(page))
    assert "Reģistrācija ir atcelta." in after
    assert "Atsaukt atcelšanu" in after  # "Cancelled. Undo"
    assert fresh(anna).status is CANCELLED

    response = post_form(client, page + "/restore", {}, form_url=page)
    assert response.status_code == 302
    done = text_of(client.get(page))
    assert "Atcelšana atsaukta: reģistrācija atkal ir apstiprināta." in done
    assert "personai nekas netika sūtīts" in done  # the cancellation email had not gone out
    assert fresh(anna).status is CONFIRMED


def test_the_organiser_sees_why_it_cannot_be_restored(client, world, event, now):
    anna = register(event, now, name="Anna", party_size=3)
    register(event, now, party_size=2)
    register(event, now, party_size=2)  # waits, and gets Anna's places
    cancel(anna, now, world.organiser_a)
    login(client, world.organiser_a.email)
    page = f"/manage/events/{event.id}/registrations/{anna.id}"
    body = text_of(client.get(page))
    assert "Atsaukt atcelšanu" not in body
    assert "reģistrējiet tos vēlreiz" in body
    assert f'href="/manage/events/{event.id}/registrations/new"' in body
    # A stale page's undo is refused with the same words, and changes nothing.
    response = post_form(client, page + "/restore", {}, form_url=page)
    assert response.status_code == 302
    assert "reģistrējiet tos vēlreiz" in text_of(client.get(page))
    assert fresh(anna).status is CANCELLED


def test_the_confirmation_says_when_the_places_go_to_the_waiting_list(client, world, event, now):
    anna = register(event, now, party_size=3)
    login(client, world.organiser_a.email)
    url = f"/manage/events/{event.id}/registrations/{anna.id}/cancel"
    client.set_cookie("lang", "en")
    assert "You can undo the cancellation while they are still free." in text_of(client.get(url))
    register(event, now, party_size=3)  # waits
    body = text_of(client.get(url))
    assert "go to the waiting list at once" in body
    assert "Then the cancellation can no longer be undone." in body


def test_the_resident_confirms_then_may_undo_on_the_same_page(client, event, now):
    anna = register(event, now, name="Anna", email="anna@example.lv")
    manage = f"/r/{anna.manage_token}"
    question = text_of(client.get(manage + "/cancel"))
    assert "Jā, atcelt" in question and "30 minūšu laikā" in question
    assert fresh(anna).status is CONFIRMED
    response = post_form(client, manage + "/cancel", {})
    assert response.status_code == 302
    page = text_of(client.get(manage))
    assert "Atcelta." in page and "Atsaukt atcelšanu" in page
    response = post_form(client, manage + "/restore", {}, form_url=manage)
    assert response.status_code == 302
    page = text_of(client.get(manage))
    assert "Atcelšana atsaukta: jūsu vieta atkal ir rezervēta." in page
    assert fresh(anna).status is CONFIRMED
    entry = _db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "registration.restore")
    )
    assert entry.actor_id is None and entry.actor_kind.value == "resident"


def test_the_residents_undo_needs_the_pages_token(client, event, now):
    anna = register(event, now)
    cancel(anna, now)
    assert client.post(f"/r/{anna.manage_token}/restore", data={}).status_code == 400
    assert fresh(anna).status is CANCELLED


def test_the_confirmation_names_the_activities_whose_places_go_at_once(client, world, in_days, now):
    festival = factories.event(world.org_a, in_days(10), capacity=50, kind=EventKind.FESTIVAL)
    workshop = Activity(
        title="Keramika", starts_at=festival.starts_at, ends_at=festival.ends_at, capacity=2
    )
    festival.activities.append(workshop)
    _db.session.commit()
    anna = register(festival, now, party_size=2, activity_ids=[workshop.id])
    login(client, world.organiser_a.email)
    client.set_cookie("lang", "en")
    url = f"/manage/events/{festival.id}/registrations/{anna.id}/cancel"
    assert "Its places in the activities" not in text_of(client.get(url))
    register(festival, now, party_size=1, activity_ids=[workshop.id])  # waits for the workshop
    assert "Its places in the activities (Keramika) go to the parties waiting" in text_of(
        client.get(url)
    )
