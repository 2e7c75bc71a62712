"""Forgetting personal data (retention purge, a resident's own erasure) and handing it over
(a data-subject request), while the Ministry's totals stay exactly as they were."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Activity,
    ActivityKind,
    Attendance,
    AuditEntry,
    CheckIn,
    CheckInMethod,
    EventFormat,
    EventStats,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationSearchTerm,
    RegistrationSource,
    RegistrationStatus,
)
from eventsvc.services import PermissionDenied, privacy, stats
from eventsvc.services.stats import GroupBy, StatsFilter

from . import factories
from .conftest import csrf_from, login

# Every column of a registration is either erased by anonymisation or kept as it was: a new
# column fails test_purge_erases_every_personal_column until it is put in one of the two.
ERASED = {
    "name",
    "email",
    "phone",
    "needs",
    "manage_token",
    "ticket_secret",
    "anonymised_at",
    # The follow-up list (services/follow_up.py): the consent and the last call's marks.
    "follow_up_consent_at",
    "follow_up_called_at",
    "follow_up_called_by_id",
    "follow_up_outcome",
}
KEPT = {
    "id",
    "event_id",
    "status",
    "party_size",
    "checked_in_people",
    "attendance",
    "language",
    "source",
    "created_by_id",
    "consent_at",
    "consent_notice_version",  # which notice they agreed to names nobody
    "created_at",
    "updated_at",
    "confirmed_at",
    "cancelled_at",
    "reminded_at",
    "reminded_two_hours_at",
    "follow_up_calls",  # a number of calls made, counted in the totals
    "booking_code",  # a random code, no personal data (unique within the event)
    "needs_mask",  # needs ticked from the fixed list: counted in the totals, names nobody
}
PERSONAL_TABLES = (
    "registrations",
    "registration_search_terms",  # the folded words of names and phones
    "outbox_messages",
    "checkins",
    "registration_activities",
    "event_stats",
    "audit_log",
)


@dataclass
class Person:
    registration: Registration
    strings: list[str] = field(default_factory=list)  # what must not survive anonymisation


@dataclass
class History:
    old_a: object  # org A, ended 200 days ago
    old_b: object  # org B, ended 100 days ago
    recent: object  # org A, ended 30 days ago: within the retention period
    upcoming: object
    old: list[Person]
    kept: list[Person]


def person(
    event,
    key,
    *,
    size=1,
    status=RegistrationStatus.CONFIRMED,
    attendance=Attendance.IN_PERSON,
    source=RegistrationSource.WEB,
    checked=0,
    activities=(),
    messages=(),
    by=None,
    email=True,
) -> Person:
    name, mail, phone, needs = (
        f"{key} Kalniņa",
        f"{key.lower()}@example.lv",
        f"+3712{abs(hash(key)) % 10**7:07d}",
        f"ratiņkrēsls {key}",
    )
    walk_in = source is RegistrationSource.WALK_IN
    r = Registration(
        event_id=event.id,
        name=name,
        email=None if walk_in or not email else mail,
        phone=None if walk_in else phone,
        needs="" if walk_in else needs,
        party_size=size,
        status=status,
        attendance=attendance,
        source=source,
        consent_at=event.starts_at - timedelta(days=10),
        created_at=event.starts_at - timedelta(days=10),
        confirmed_at=event.starts_at - timedelta(days=9)
        if status is RegistrationStatus.CONFIRMED
        else None,
        cancelled_at=event.starts_at - timedelta(days=2)
        if status is RegistrationStatus.CANCELLED
        else None,
        activities=list(activities),
        created_by_id=by.id if by else None,
    )
    _db.session.add(r)
    _db.session.flush()
    if checked:
        _db.session.add(
            CheckIn(
                event_id=event.id,
                registration_id=r.id,
                people=checked,
                method=CheckInMethod.SCAN,
                device="d7x2k9q1m",
                nonce=f"d7x2k9q1m:{r.id}",
                created_by_id=by.id if by else None,
                created_at=event.starts_at,
                scanned_at=event.starts_at,
            )
        )
        _db.session.add(
            CheckIn(
                event_id=event.id,
                registration_id=r.id,
                people=1,
                method=CheckInMethod.SEARCH,
                created_at=event.starts_at,
                scanned_at=event.starts_at,
                undone_at=event.starts_at,
            )
        )
        r.checked_in_people = checked
    for kind, state in messages:
        _db.session.add(
            OutboxMessage(
                kind=kind,
                registration_id=r.id,
                recipient=mail,
                language="lv",
                status=state,
                payload={"changes": {"place": ["Tumes kultūras nams", "Pasta iela 1"]}}
                if kind == "event_changed"
                else {},
                attempts=8 if state is OutboxStatus.FAILED else 1,
                last_error=f"SMTPRecipientsRefused: {{'{mail}': (550, b'mailbox unavailable')}}"
                if state is OutboxStatus.FAILED
                else "",
                created_at=event.starts_at - timedelta(days=10),
                sent_at=event.starts_at - timedelta(days=10)
                if state is OutboxStatus.SENT
                else None,
            )
        )
    strings = [name] if walk_in else [name, mail, phone, needs] if email else [name, phone, needs]
    return Person(r, strings)


@pytest.fixture
def history(world, now):
    def ended(organisation, days, **fields):
        return factories.event(organisation, now - timedelta(days=days, hours=3), **fields)

    old_a = ended(
        world.org_a,
        200,
        title="Senā diskusija",
        capacity=6,
        campaign=world.campaign,
        format=EventFormat.HYBRID,
        stream_url="https://example.lv/s",
    )
    workshop = Activity(
        event_id=old_a.id,
        kind=ActivityKind.WORKSHOP,
        title="Keramika",
        capacity=5,
        starts_at=old_a.starts_at,
        ends_at=old_a.ends_at,
    )
    _db.session.add(workshop)
    old_b = ended(world.org_b, 100, title="Vasaras svētki")
    recent = ended(world.org_a, 30, title="Nesenā tikšanās")
    upcoming = factories.event(
        world.org_a, now + timedelta(days=5), title="Drīzā tikšanās", capacity=10
    )
    sent, failed, pending = OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.PENDING
    old = [
        person(
            old_a,
            "Zelma",
            size=3,
            checked=2,
            activities=[workshop],
            messages=[
                ("registration_confirmed", sent),
                ("event_changed", sent),
                ("event_reminder", failed),
            ],
        ),
        person(
            old_a,
            "Pēteris",
            size=2,
            messages=[("registration_confirmed", sent), ("event_reminder", pending)],
        ),
        person(old_a, "Marija", size=4, attendance=Attendance.ONLINE, email=False),
        person(
            old_a,
            "Aija",
            size=5,
            status=RegistrationStatus.CANCELLED,
            messages=[("registration_cancelled", sent)],
        ),
        person(
            old_a,
            "Gunārs",
            size=2,
            status=RegistrationStatus.WAITLISTED,
            messages=[("registration_waitlisted", sent)],
        ),
        person(old_a, "Olga", source=RegistrationSource.WALK_IN, checked=1, by=world.organiser_a),
        person(
            old_a,
            "Telefons",
            size=1,
            source=RegistrationSource.ORGANISER,
            by=world.organiser_a,
            checked=1,
        ),
        person(old_b, "Inta", checked=1, messages=[("registration_confirmed", sent)]),
        person(old_b, "Rasma", size=2, checked=2),
    ]
    kept = [
        person(recent, "Laima", size=2, checked=2, messages=[("registration_confirmed", sent)]),
        person(recent, "Valdis", status=RegistrationStatus.CANCELLED),
        person(upcoming, "Jānis", size=2, messages=[("registration_confirmed", sent)]),
    ]
    _db.session.commit()
    return History(old_a, old_b, recent, upcoming, old, kept)


def columns(registration_id: int) -> dict:
    row = _db.session.execute(
        select(Registration.__table__).where(Registration.id == registration_id)
    ).one()
    return dict(row._mapping)


def dump(tables=PERSONAL_TABLES) -> str:
    """Every row of the tables that may hold personal data, as text."""
    out = []
    with _db.engine.connect() as conn:
        for table in tables:
            out.extend(
                repr(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            )
    return "\n".join(out)


@pytest.fixture
def measure(app, world):
    """The Ministry's totals (and organiser A's), and the per-event counters."""

    def run(now):
        _db.session.expire_all()
        with app.test_request_context("/"):
            result = {
                "headline": stats.headline(StatsFilter(), None, now),
                "by_municipality": stats.breakdown(GroupBy.MUNICIPALITY, StatsFilter(), None, now),
                "by_month": stats.breakdown(GroupBy.MONTH, StatsFilter(), None, now),
                "org_a": stats.headline(
                    StatsFilter(), stats.require_stats_reader(world.organiser_a), now
                ),
            }
        counters = {
            (row.event_id, c): getattr(row, c)
            for row in _db.session.scalars(select(EventStats))
            for c in (
                "registrations",
                "people_registered",
                "people_in_person",
                "people_online",
                "people_checked_in",
                "checked_in_registered",
                "checked_in_in_person",
                "walk_ins",
                "people_waitlisted",
            )
        }
        return result, counters

    return run


def rebuilt_counters(measure, now):
    stats.rebuild_event_stats()
    _db.session.commit()
    return measure(now)[1]


# --- the retention purge ----------------------------------------------------------------------


def test_every_registration_column_is_classified():
    assert {c.name for c in Registration.__table__.columns} == ERASED | KEPT
    assert not ERASED & KEPT


def test_purge_erases_every_personal_column_and_keeps_the_totals(db, history, now, measure):
    before = {p.registration.id: columns(p.registration.id) for p in history.old + history.kept}
    totals_before, counters_before = measure(now)
    headline = totals_before["headline"]
    assert (
        headline.people_checked_in and headline.no_shows and headline.walk_ins
    )  # a fixture worth checking
    old_ids = [p.registration.id for p in history.old]
    old_messages = len(
        _db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.registration_id.in_(old_ids))
        ).all()
    )
    assert {
        t.registration_id
        for t in _db.session.scalars(
            select(RegistrationSearchTerm).where(
                RegistrationSearchTerm.registration_id.in_(old_ids)
            )
        )
    } == set(old_ids)  # every one is found by its words before

    report = privacy.purge(now, 90)

    assert (report.registrations, report.events, report.outbox_messages) == (
        len(history.old),
        2,
        old_messages,
    )
    _db.session.expire_all()
    for p in history.old:
        row, was = columns(p.registration.id), before[p.registration.id]
        assert row["name"] == privacy.ANONYMOUS_NAME
        assert (row["email"], row["phone"], row["needs"]) == (None, None, "")
        assert (
            row["manage_token"] != was["manage_token"]
            and row["ticket_secret"] != was["ticket_secret"]
        )
        assert abs(row["anonymised_at"] - now) < timedelta(seconds=1)
        assert {k: row[k] for k in KEPT} == {k: was[k] for k in KEPT}
    assert not _db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.registration_id.in_(old_ids))
    ).all()

    everything = dump()
    assert not _db.session.scalars(
        select(RegistrationSearchTerm).where(RegistrationSearchTerm.registration_id.in_(old_ids))
    ).all()
    for p in history.old:
        for value in p.strings:
            assert value not in everything, value
        assert before[p.registration.id]["manage_token"] not in everything
        assert before[p.registration.id]["ticket_secret"] not in everything
    for p in history.kept:  # within the retention period, or still ahead: untouched
        assert columns(p.registration.id) == before[p.registration.id]
        for value in p.strings:
            assert value in everything, value

    assert measure(now) == (totals_before, counters_before)
    assert rebuilt_counters(measure, now) == counters_before
    # The check-ins (counts, times, the staff account, a random device id) are all still there.
    assert len(_db.session.scalars(select(CheckIn.id)).all()) == 2 * 6
    # The activity a party chose still counts it.
    assert len(_db.session.get(Registration, history.old[0].registration.id).activities) == 1


def test_the_purge_erases_what_anonymous_values_says(db, history, now, monkeypatch):
    """One source for what an anonymised registration holds: the purge's bulk UPDATE is built
    from anonymous_values(), the function a resident's own erasure uses."""
    real = privacy.anonymous_values

    def marked(when):
        return {**real(when), "name": "(nav)", "needs": "(izdzēsts)"}

    monkeypatch.setattr(privacy, "anonymous_values", marked)
    privacy.purge(now, 90)
    erased = [columns(p.registration.id) for p in history.old]
    assert {(r["name"], r["needs"], r["email"]) for r in erased} == {("(nav)", "(izdzēsts)", None)}
    assert len({r["manage_token"] for r in erased}) == len(erased)  # fresh for each row


def test_purge_leaves_events_within_the_retention_period(db, history, now):
    assert privacy.purge(now, 250).registrations == 0  # nothing ended that long ago
    assert privacy.purge(now, 150).registrations == 7  # only the event that ended 200 days ago
    _db.session.expire_all()
    assert {
        r.event_id
        for r in _db.session.scalars(
            select(Registration).where(Registration.anonymised_at.is_not(None))
        )
    } == {history.old_a.id}


def test_a_second_run_changes_nothing(db, history, now):
    first = privacy.purge(now, 90)
    assert first.registrations == len(history.old)
    snapshot = dump((*PERSONAL_TABLES, "events"))
    second = privacy.purge(now, 90)
    assert (second.registrations, second.outbox_messages, second.events) == (0, 0, 0)
    assert dump((*PERSONAL_TABLES, "events")) == snapshot
    assert privacy.purge_due(now, 90).registrations == 0


def test_purge_works_in_batches_and_reports_progress(db, history, now):
    seen = []
    report = privacy.purge(now, 90, progress=seen.append, batch_size=4)
    assert seen == [4, 4, 1] and report.registrations == 9


def test_purge_audits_without_personal_data(db, history, now, world):
    privacy.purge(now, 90)
    entries = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == privacy.AUDIT_PURGE)
    ).all()
    assert {(e.organisation_id, e.actor_kind.value) for e in entries} == {
        (world.org_a.id, "system"),
        (world.org_b.id, "system"),
    }
    assert sum(json.loads(e.detail)["a"]["n"] for e in entries) == len(history.old)
    assert {json.loads(e.detail)["m"] for e in entries} == {
        "registrations anonymised: %(n)d (kept for %(days)d days)"
    }


def test_a_message_queued_in_a_race_is_cleaned_by_the_next_run(db, history, now):
    privacy.purge(now, 90)
    zelma = history.old[0].registration
    _db.session.add(
        OutboxMessage(kind="event_changed", registration_id=zelma.id, recipient="zelma@example.lv")
    )
    _db.session.commit()
    assert privacy.purge_due(now, 90).outbox_messages == 1
    report = privacy.purge(now, 90)
    assert (report.registrations, report.outbox_messages) == (0, 1)
    assert "zelma@example.lv" not in dump()


def test_two_purges_at_once_anonymise_each_row_once(app, db, history, now, measure):
    before = measure(now)
    barrier, reports, errors = threading.Barrier(2), [], []

    def run():
        try:
            with app.app_context():
                barrier.wait(timeout=30)
                reports.append(privacy.purge(now, 90, batch_size=2))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(r.registrations for r in reports) == len(history.old)
    assert privacy.purge(now, 90).registrations == 0
    assert measure(now) == before


def test_a_row_held_by_another_transaction_does_not_break_the_purge(db, history, now, app):
    """PostgreSQL: the purge skips a locked row and takes it on the next run (no waiting, no
    deadlock). SQLite has one writer at a time: the purge waits for the other writer, then runs."""
    held = history.old[1].registration.id
    if _db.engine.dialect.name == "postgresql":
        with _db.engine.connect() as other:
            other.begin()
            other.execute(
                text("SELECT id FROM registrations WHERE id = :id FOR UPDATE"), {"id": held}
            )
            first = privacy.purge(now, 90)
            other.rollback()
        assert first.registrations == len(history.old) - 1
        _db.session.expire_all()
        assert _db.session.get(Registration, held).anonymised_at is None
        assert privacy.purge(now, 90).registrations == 1
        return

    import sqlite3
    import time

    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    other = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the database
    released = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    released.start()
    started = time.monotonic()
    report = privacy.purge(now, 90)
    waited = time.monotonic() - started
    released.join()
    other.close()
    assert waited >= 0.4  # it waited for the writer…
    assert report.registrations == len(history.old)  # …and then did the whole job
    assert privacy.purge(now, 90).registrations == 0


def test_the_development_mailbox_copies_go_too(db, history, now, app, tmp_path):
    saved = app.config["EVENTSVC_MAIL_BACKEND"], app.config["EVENTSVC_MAILBOX_DIR"]
    app.config.update(EVENTSVC_MAIL_BACKEND="mailbox", EVENTSVC_MAILBOX_DIR=str(tmp_path))
    try:
        for message in _db.session.scalars(select(OutboxMessage)):
            (tmp_path / f"{message.id:08d}.eml").write_text(f"To: {message.recipient}")
        kept = {
            f"{m.id:08d}.eml"
            for p in history.kept
            for m in _db.session.scalars(
                select(OutboxMessage).where(OutboxMessage.registration_id == p.registration.id)
            )
        }
        privacy.purge(now, 90)
    finally:
        app.config.update(EVENTSVC_MAIL_BACKEND=saved[0], EVENTSVC_MAILBOX_DIR=saved[1])
    assert {path.name for path in tmp_path.iterdir()} == kept and kept


def test_flask_privacy_purge(runner, history, now, app):
    dry = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would anonymise 9 registrations of 2 events" in dry.output
    _db.session.expire_all()
    assert not _db.session.scalars(
        select(Registration.id).where(Registration.anonymised_at.is_not(None))
    ).all()

    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "anonymised 9 registrations of 2 events" in result.output
    assert "more than 90 days ago" in result.output
    again = runner.invoke(args=["privacy", "purge"])
    assert "anonymised 0 registrations" in again.output

    shorter = runner.invoke(args=["privacy", "purge", "--days", "10"])
    assert "anonymised 2 registrations of 1 events" in shorter.output  # the event of 30 days ago
    assert runner.invoke(args=["privacy", "purge", "--days", "-1"]).exit_code != 0


def test_retention_comes_from_the_config(runner, history, app):
    app.config["EVENTSVC_RETENTION_DAYS"] = 150
    try:
        result = runner.invoke(args=["privacy", "purge"])
    finally:
        app.config["EVENTSVC_RETENTION_DAYS"] = 90
    assert "anonymised 7 registrations of 1 events" in result.output


def test_the_privacy_page_states_the_retention_period(client, app):
    assert "90" in client.get("/privacy").get_data(as_text=True)
    app.config["EVENTSVC_RETENTION_DAYS"] = 45
    try:
        page = client.get("/privacy").get_data(as_text=True)
    finally:
        app.config["EVENTSVC_RETENTION_DAYS"] = 90
    assert "45" in page and "a few months" not in page


# --- a resident erases their own registration --------------------------------------------------


@pytest.fixture
def full_event(world, in_days, now):
    from eventsvc.services import registration as rules

    event = factories.event(world.org_a, in_days(10), capacity=3)
    first = rules.register(
        event.id,
        factories.registration_request(
            name="Zelma Kalniņa",
            email="zelma@example.lv",
            phone="+37120001111",
            needs="asistents",
            party_size=3,
        ),
        now,
    ).registration
    waiting = rules.register(
        event.id, factories.registration_request(name="Otra Persona", party_size=2), now
    ).registration
    _db.session.commit()
    assert (first.status, waiting.status) == (
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.WAITLISTED,
    )
    return event, first, waiting


def test_resident_erases_their_registration_through_the_manage_link(
    client, full_event, measure, now
):
    event, first, waiting = full_event
    token, secret, first_id, waiting_id = (
        first.manage_token,
        first.ticket_secret,
        first.id,
        waiting.id,
    )
    page = f"/r/{token}"

    manage = client.get(page).get_data(as_text=True)
    assert f'href="{page}/erase"' in manage
    confirm = client.get(f"{page}/erase")
    assert confirm.status_code == 200
    assert "csrf_token" in confirm.get_data(as_text=True) and "3" in confirm.get_data(as_text=True)
    assert client.post(f"{page}/erase", data={}).status_code == 400  # no CSRF token
    assert _db.session.get(Registration, first_id).anonymised_at is None

    response = client.post(f"{page}/erase", data={"csrf_token": csrf_from(client, f"{page}/erase")})
    assert response.status_code == 302 and response.location == "/registration-erased"
    done = client.get("/registration-erased")
    assert done.status_code == 200
    assert "/r/" not in done.get_data(as_text=True)
    assert client.get("/registration-erased").status_code == 302  # shown once

    _db.session.expire_all()
    erased = columns(first_id)
    assert erased["status"] == RegistrationStatus.CANCELLED
    assert (erased["name"], erased["email"], erased["phone"], erased["needs"]) == (
        privacy.ANONYMOUS_NAME,
        None,
        None,
        "",
    )
    assert erased["anonymised_at"] is not None and erased["party_size"] == 3
    assert erased["manage_token"] != token and erased["ticket_secret"] != secret
    # The freed places went to the waiting list, and only the promoted party hears of it.
    assert _db.session.get(Registration, waiting_id).status is RegistrationStatus.CONFIRMED
    messages = _db.session.scalars(select(OutboxMessage)).all()
    assert {m.registration_id for m in messages} == {waiting_id}
    assert "registration_promoted" in {m.kind for m in messages}
    assert (
        "zelma@example.lv" not in dump()
        and "Zelma Kalniņa" not in dump()
        and "asistents" not in dump()
        and "kalnina" not in dump()  # nor the folded words it was found by
    )

    for url in (
        page,
        f"{page}/ticket",
        f"{page}/qr.png",
        f"{page}/cancel",
        f"{page}/erase",
        f"/api/v1/registrations/{token}",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            f"{page}/erase",
            data={
                "csrf_token": csrf_from(
                    client, f"/r/{_db.session.get(Registration, waiting_id).manage_token}/erase"
                )
            },
        ).status_code
        == 404
    )

    # The totals are those of a cancelled party and a confirmed one, by the rules and by a rebuild.
    counters = measure(now)[1]
    assert (
        counters[(event.id, "people_registered")] == 2
        and counters[(event.id, "people_waitlisted")] == 0
    )
    assert rebuilt_counters(measure, now) == counters

    entry = _db.session.scalar(select(AuditEntry).where(AuditEntry.action == privacy.AUDIT_ERASE))
    assert (
        entry.actor_kind.value == "resident"
        and entry.target_id == first_id
        and entry.event_id == event.id
    )


def test_the_erased_page_says_the_place_is_given_up(app, client, full_event):
    from flask_babel import gettext

    _, first, _ = full_event
    page = f"/r/{first.manage_token}"
    client.post(f"{page}/erase", data={"csrf_token": csrf_from(client, f"{page}/erase")})
    done = client.get("/registration-erased").get_data(as_text=True)
    with app.test_request_context("/"):  # Latvian, the default
        assert gettext("Your data is erased") in done
        assert gettext("Your place at the event is given up; it goes to the waiting list.") in done


def test_erasing_after_the_event_keeps_the_counted_status(db, world, now, measure):
    event = factories.event(world.org_a, now - timedelta(days=2))
    p = person(event, "Vēlā", size=2, checked=2)
    _db.session.commit()
    before = measure(now)
    erasure = privacy.erase_registration(p.registration, now)
    _db.session.commit()
    assert erasure.gave_up is None and erasure.promoted == 0
    row = columns(p.registration.id)
    assert row["status"] == RegistrationStatus.CONFIRMED and row["checked_in_people"] == 2
    assert row["email"] is None and row["name"] == privacy.ANONYMOUS_NAME
    assert measure(now) == before
    # Erased already: a second request finds nothing, and the purge skips it.
    from eventsvc.services import NotFound

    with pytest.raises(NotFound):
        privacy.erase_registration(_db.session.get(Registration, p.registration.id), now)
    _db.session.rollback()
    assert privacy.purge(now, 0).registrations == 0


def test_erasing_a_waiting_registration(client, full_event):
    _, _, waiting = full_event
    page = f"/r/{waiting.manage_token}"
    client.post(f"{page}/erase", data={"csrf_token": csrf_from(client, f"{page}/erase")})
    _db.session.expire_all()
    row = _db.session.get(Registration, waiting.id)
    assert row.status is RegistrationStatus.CANCELLED and row.anonymised_at is not None


# --- a data-subject request -----------------------------------------------------------------------


@pytest.fixture
def subjects(world, now):
    a1 = factories.event(world.org_a, now - timedelta(days=20), title="Tumes diskusija")
    a2 = factories.event(world.org_a, now + timedelta(days=20), title="Tumes darbnīca")
    b1 = factories.event(world.org_b, now + timedelta(days=5), title="Daugavpils svētki")
    sent = OutboxStatus.SENT
    mine = [
        person(
            a1,
            "Anna",
            size=2,
            checked=2,
            messages=[("registration_confirmed", sent), ("event_reminder", sent)],
        ),
        person(
            a2,
            "Anna",
            status=RegistrationStatus.WAITLISTED,
            messages=[("registration_waitlisted", sent)],
        ),
        person(b1, "Anna", messages=[("registration_confirmed", sent)]),
    ]
    mine[1].registration.needs = "zīmju valodas tulks"
    other = person(a1, "Cits", messages=[("registration_confirmed", sent)])
    _db.session.commit()
    return mine, other


def download(client, email, status=200):
    response = client.post(
        "/manage/data-requests",
        data={"email": email, "csrf_token": csrf_from(client, "/manage/data-requests")},
    )
    assert response.status_code == status, response.get_data(as_text=True)
    return response


def test_organiser_exports_everything_about_one_address(client, world, subjects):
    mine, other = subjects
    login(client, world.organiser_a.email)
    assert client.get("/manage/data-requests").status_code == 200
    response = download(client, "  ANNA@Example.lv ")
    assert response.mimetype == "application/json"
    assert (
        "attachment" in response.headers["Content-Disposition"]
        and "anna" not in response.headers["Content-Disposition"]
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    document = json.loads(response.get_data(as_text=True))
    assert document["email"] == "anna@example.lv"
    rows = document["registrations"]
    assert [r["event"]["title"] for r in rows] == ["Tumes diskusija", "Tumes darbnīca"]
    first, second = rows
    assert (first["name"], first["email"], first["phone"]) == (
        "Anna Kalniņa",
        "anna@example.lv",
        mine[0].registration.phone,
    )
    assert (
        first["status"],
        first["party_size"],
        first["attendance"],
        first["checked_in_people"],
    ) == ("confirmed", 2, "in_person", 2)
    assert (
        first["accessibility_needs"] == "ratiņkrēsls Anna"
        and second["accessibility_needs"] == "zīmju valodas tulks"
    )
    assert first["consent_at"] and first["created_at"] and first["language"] == "lv"
    assert "privacy_notice_version" in first  # what they agreed to is theirs to see
    assert [c["people"] for c in first["check_ins"]] == [2, 1] and first["check_ins"][1][
        "undone_at"
    ]
    assert [(m["kind"], m["status"]) for m in first["messages"]] == [
        ("registration_confirmed", "sent"),
        ("event_reminder", "sent"),
    ]
    assert (
        first["messages"][0]["subject"].endswith("Tumes diskusija")
        and first["messages"][0]["sent_at"]
    )
    assert second["status"] == "waitlisted"
    text_ = response.get_data(as_text=True)
    for value in [*other.strings, "Daugavpils svētki"]:
        assert value not in text_  # another person's data, another organisation's event

    entries = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == privacy.AUDIT_EXPORT)
    ).all()
    assert [(e.actor_id, e.organisation_id) for e in entries] == [
        (world.organiser_a.id, world.org_a.id)
    ]
    assert "anna" not in entries[0].detail.lower()


def test_each_organiser_sees_only_their_organisations(client, world, subjects):
    login(client, world.organiser_b.email)
    rows = json.loads(download(client, "anna@example.lv").get_data(as_text=True))["registrations"]
    assert [r["event"]["title"] for r in rows] == ["Daugavpils svētki"]
    # Organiser B cannot get organisation A's registrations of another person at all.
    page = download(client, "cits@example.lv")
    assert page.mimetype == "text/html" and "Cits Kalniņa" not in page.get_data(as_text=True)
    assert 'class="notice"' in page.get_data(as_text=True)


def test_admin_exports_from_every_organisation(client, world, subjects):
    login(client, world.admin.email)
    rows = json.loads(download(client, "anna@example.lv").get_data(as_text=True))["registrations"]
    assert len(rows) == 3


def test_nothing_found_and_a_bad_address_are_said_on_the_page(client, world, subjects):
    login(client, world.organiser_a.email)
    nothing = download(client, "nobody@example.lv")
    assert nothing.mimetype == "text/html" and 'class="notice"' in nothing.get_data(as_text=True)
    for hostile in ("not an address", "a" * 300 + "@example.lv"):
        bad = download(client, hostile, status=422)
        assert 'id="email-error"' in bad.get_data(as_text=True)
    token = csrf_from(client, "/manage/data-requests")
    nul = client.post(
        "/manage/data-requests", data={"email": "anna\x00@example.lv", "csrf_token": token}
    )
    assert nul.status_code in (400, 422) and nul.mimetype == "text/html"  # refused, never a 500


def test_anonymised_registrations_are_not_exported(db, world, subjects, now):
    mine, _ = subjects
    privacy.erase_registration(mine[0].registration, now)
    _db.session.commit()
    document = privacy.data_subject_export(world.admin, "anna@example.lv", now)
    assert [r["event"]["title"] for r in document["registrations"]] == [
        "Daugavpils svētki",
        "Tumes darbnīca",
    ]


def test_ministry_and_strangers_are_refused(client, world, subjects, now):
    with pytest.raises(PermissionDenied):
        privacy.data_subject_export(world.ministry, "anna@example.lv", now)
    assert client.get("/manage/data-requests").status_code == 302  # to the sign-in page
    login(client, world.ministry.email)
    assert client.get("/manage/data-requests").status_code == 403
    response = client.post("/manage/data-requests", data={"email": "anna@example.lv"})
    assert response.status_code in (400, 403) and "Anna Kalniņa" not in response.get_data(
        as_text=True
    )
    assert not _db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == privacy.AUDIT_EXPORT)
    ).all()
