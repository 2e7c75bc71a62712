"""The migrations build the schema the models describe, and the database refuses bad rows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_babel import force_locale
from flask_migrate import downgrade as migrate_down
from flask_migrate import upgrade as migrate_up
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from eventsvc import MIGRATIONS
from eventsvc.extensions import db as _db
from eventsvc.models import (
    Base,
    CheckInMethod,
    EventKind,
    EventStatus,
    Registration,
    RegistrationStatus,
    Role,
)
from eventsvc.services import audit, audit_detail

from . import factories


def test_migrations_match_the_models(db):
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_migrations_create_every_table(db):
    tables = set(inspect(db.engine).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
    assert "alembic_version" in tables


def test_times_come_back_utc_aware(db, world, now):
    event = factories.event(world.org_a, now + timedelta(days=3))
    _db.session.expire_all()
    assert event.starts_at.tzinfo is not None and event.starts_at.utcoffset() == timedelta(0)
    assert abs(event.starts_at - (now + timedelta(days=3))) < timedelta(milliseconds=1)


def test_one_active_registration_per_email_and_event(db, world, now):
    event = factories.event(world.org_a, now + timedelta(days=3))
    _db.session.add(
        Registration(
            event_id=event.id, status=RegistrationStatus.CANCELLED, name="A", email="a@x.lv"
        )
    )
    _db.session.add(
        Registration(
            event_id=event.id, status=RegistrationStatus.CONFIRMED, name="A", email="a@x.lv"
        )
    )
    _db.session.commit()  # a cancelled one does not count
    _db.session.add(
        Registration(
            event_id=event.id, status=RegistrationStatus.WAITLISTED, name="A", email="a@x.lv"
        )
    )
    with pytest.raises(IntegrityError):
        _db.session.commit()
    _db.session.rollback()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET ends_at = starts_at",
        "UPDATE events SET capacity = 0",
        "UPDATE events SET status = 'archived'",
        "UPDATE events SET organisation_id = 987654",
    ],
)
def test_database_refuses_bad_event_rows(db, world, now, sql):
    factories.event(world.org_a, now + timedelta(days=3))
    with pytest.raises(IntegrityError), _db.engine.begin() as conn:
        conn.execute(text(sql))


# --- migration 0013: the audit log's kinds by their full names ---------------------------

# Entries as the app wrote them before 0013 (two-letter kinds), each with the detail today's
# code writes for the same note, and how it is shown.
OLD_AUDIT_DETAILS = [
    (
        '{"m":"%(old)s → %(new)s","a":{"old":["es","draft"],"new":["es","published"]}}',
        lambda: audit.transition(EventStatus.DRAFT, EventStatus.PUBLISHED),
        "Draft → Published",
    ),
    (
        '[{"m":"changed: %(fields)s","a":{"fields":["ef","capacity","title"]}},'
        '{"m":"places %(old)s → %(new)s","a":{"old":20,"new":30}}]',
        lambda: [
            audit.part(
                audit.N_("changed: %(fields)s"),
                fields=audit.names("event_field", ["capacity", "title"]),
            ),
            audit.transition(20, 30, audit.N_("places %(old)s → %(new)s")),
        ],
        "changed: Places (people), Title; places 20 → 30",
    ),
    (
        '{"m":"registration %(id)d: +%(n)d (%(how)s), %(done)d/%(of)d in",'
        '"a":{"id":5,"n":2,"how":["cm","scan"],"done":2,"of":3}}',
        lambda: audit.part(
            audit.N_("registration %(id)d: +%(n)d (%(how)s), %(done)d/%(of)d in"),
            id=5,
            n=2,
            how=audit.value(CheckInMethod.SCAN),
            done=2,
            of=3,
        ),
        "registration 5: +2 (ticket scanned), 2/3 in",
    ),
    (
        '{"m":"%(old)s → %(new)s","a":{"old":["rs","confirmed"],"new":["rs","cancelled"]}}',
        lambda: audit.transition(RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED),
        "Confirmed → Cancelled",
    ),
    (
        '[{"m":"role: %(role)s","a":{"role":["ro","organiser"]}},'
        '{"m":"changed: %(fields)s","a":{"fields":["uf","name","role"]}}]',
        lambda: [
            audit.part(audit.N_("role: %(role)s"), role=audit.value(Role.ORGANISER)),
            audit.part(
                audit.N_("changed: %(fields)s"), fields=audit.names("user_field", ["name", "role"])
            ),
        ],
        "role: Organiser; changed: Name and surname, Role",
    ),
    (
        '{"m":"changed: %(fields)s","a":{"fields":["of","slug"]}}',
        lambda: audit.part(
            audit.N_("changed: %(fields)s"), fields=audit.names("organisation_field", ["slug"])
        ),
        "changed: Short name",
    ),
    (  # a filter is [field name, value], and its value may itself be a [kind, value]
        '[{"m":"totals %(t)s","a":{"t":["st","municipality"]}},'
        '{"m":"filters: %(f)s","a":{"f":["sf",["date_from","2026-01-01"],["kind",["ek","training"]]]}},'
        '{"m":"rows: %(n)d","a":{"n":4}}]',
        lambda: [
            audit.part(audit.N_("totals %(t)s"), t=audit.names("stats_table", ["municipality"])),
            audit.part(
                audit.N_("filters: %(f)s"),
                f=audit.names(
                    "stats_filter",
                    [["date_from", "2026-01-01"], ["kind", audit.value(EventKind.TRAINING)]],
                ),
            ),
            audit.part(audit.N_("rows: %(n)d"), n=4),
        ],
        "totals by municipality; filters: From: 2026-01-01, Kind of event: Training; rows: 4",
    ),
    ("4 rows", lambda: "4 rows", "4 rows"),  # from before the JSON form: as it is
    ("[not json", lambda: "[not json", "[not json"),
]


def _old_detail_near_the_limit() -> str:
    """An event change naming so many fields that the old form fills its 200 characters."""
    fields = sorted(audit_detail.NAMES["event_field"])
    while True:
        detail = json.dumps(
            {"m": "changed: %(fields)s", "a": {"fields": ["ef", *fields, "…"]}},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        if len(detail) <= 200:
            return detail
        fields.pop()


def test_audit_migration_names_kinds_in_full_and_back(app, db):
    """0013 rewrites entries written with two-letter kinds into what the code writes now
    (shown the same), and its downgrade restores them exactly; entries written since that are
    too long for the old column are cut to fit it. On SQLite and PostgreSQL."""
    script = ScriptDirectory(str(MIGRATIONS))
    before = script.get_revision("0013").down_revision
    old = [stored for stored, _, _ in OLD_AUDIT_DETAILS] + [_old_detail_near_the_limit()]
    _db.session.remove()
    try:
        migrate_down(revision=before)
        _insert_audit_details(old)

        migrate_up(revision="0013")
        upgraded = _stored_details()
        for (stored, written_now, shown), new in zip(OLD_AUDIT_DETAILS, upgraded, strict=False):
            if stored.startswith(("{", "[")) and not stored.startswith("[not"):
                assert json.loads(new) == json.loads(audit.encode_detail(written_now())), stored
            else:
                assert new == stored
            with force_locale("en"):
                assert audit.detail_text(new) == shown
        near_the_limit = json.loads(upgraded[-1])
        assert len(upgraded[-1]) > 200  # the column holds what the longer names made of it
        assert near_the_limit["a"]["fields"][0] == "event_field"
        assert near_the_limit["a"]["fields"][1:] == json.loads(old[-1])["a"]["fields"][1:]

        # Written since: an event change naming every field, and a long plain note.
        every_field = sorted(audit_detail.NAMES["event_field"])
        since = [
            audit.encode_detail(
                [
                    audit.part(
                        audit.N_("changed: %(fields)s"),
                        fields=audit.names("event_field", every_field),
                    ),
                    audit.transition(20, 30, audit.N_("places %(old)s → %(new)s")),
                ]
            ),
            audit.encode_detail("x" * 400),
        ]
        assert all(len(detail) > 200 for detail in since)
        _insert_audit_details(since)

        migrate_down(revision=before)
        *restored, change, plain = _stored_details()
        assert restored == old
        assert len(change) <= 200 and plain == "x" * 200
        fields, places = json.loads(change)
        assert fields["a"]["fields"][:3] == ["ef", *every_field[:2]]
        assert fields["a"]["fields"][-1] == "…"
        assert places == {"m": "places %(old)s → %(new)s", "a": {"old": 20, "new": 30}}
    finally:
        migrate_up()


def _insert_audit_details(details: list[str]) -> None:
    with _db.engine.begin() as conn:
        for detail in details:
            conn.execute(
                text(
                    "INSERT INTO audit_log (at, actor_kind, action, target_type, detail) "
                    "VALUES (CURRENT_TIMESTAMP, 'system', 'event.update', 'event', :detail)"
                ),
                {"detail": detail},
            )


def _stored_details() -> list[str]:
    with _db.engine.connect() as conn:
        return list(conn.scalars(text("SELECT detail FROM audit_log ORDER BY id")))


def test_migrating_a_sqlite_database_keeps_the_rows_that_refer_to_a_rebuilt_table(tmp_path):
    """SQLite batch migrations rebuild a table (copy, drop, rename); the drop must not take
    the rows of other tables with it (migrations/env.py turns foreign keys off meanwhile).
    0014 rebuilds users and registrations: memberships, check-ins and activity choices stay."""
    from types import SimpleNamespace

    from flask_migrate import downgrade, upgrade

    from eventsvc import create_app
    from eventsvc.timezones import utcnow

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret-key-of-sufficient-length-123456",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}",
            "EVENTSVC_INPROCESS_MAIL_WORKER": False,
        }
    )
    tables = ("users", "memberships", "registrations", "checkins", "registration_activities")
    with app.app_context():
        upgrade(revision="0011")
        now = utcnow()
        for sql in (
            "INSERT INTO municipalities (id, name, slug) VALUES (1, 'Tukuma novads', 'tukums')",
            "INSERT INTO organisations (id, name, slug, kind, municipality_id)"
            " VALUES (1, 'Tukuma SD', 'tukums-sd', 'social_service', 1)",
            "INSERT INTO users (id, email, name, password_hash, role, is_active_account, created_at)"
            " VALUES (1, 'a@x.lv', 'A', 'x', 'organiser', 1, '2026-01-01')",
            "INSERT INTO memberships (user_id, organisation_id) VALUES (1, 1)",
        ):
            _db.session.execute(text(sql))
        # The event as 0011's table holds it (today's model has columns added since).
        starts = now + timedelta(days=3)
        _db.session.execute(
            text(
                "INSERT INTO events (id, kind, status, title, summary, description,"
                " organisation_id, municipality_id, venue_name, venue_address, starts_at,"
                " ends_at, local_month, format, accessibility, language, created_at, updated_at)"
                " VALUES (1, 'workshop', 'published', 'Pasākums', '', '', 1, 1, '', '', :s, :t,"
                " :m, 'in_person', '', 'lv', :s, :s)"
            ),
            {"s": starts, "t": starts + timedelta(hours=2), "m": starts.strftime("%Y-%m")},
        )
        _db.session.commit()
        event = SimpleNamespace(id=1, starts_at=starts, ends_at=starts + timedelta(hours=2))
        for sql in (
            "INSERT INTO activities (event_id, kind, title, description, starts_at, ends_at,"
            " location, position) VALUES (:e, 'workshop', 'Darbnīca', '', :s, :t, '', 0)",
            "INSERT INTO registrations (event_id, status, name, phone, party_size,"
            " checked_in_people, attendance, needs, language, manage_token, ticket_secret, source,"
            " created_at, updated_at) VALUES (:e, 'confirmed', 'Anna Bērziņa', '+371 20000001',"
            " 2, 2, 'in_person', '', 'lv', 'm', 't', 'web', :s, :s)",
            "INSERT INTO registration_activities SELECT r.id, a.id FROM registrations r, activities a",
            "INSERT INTO checkins (event_id, registration_id, people, method, device, created_at,"
            " scanned_at) SELECT event_id, id, 2, 'scan', '', :s, :s FROM registrations",
        ):
            _db.session.execute(
                text(sql), {"e": event.id, "s": event.starts_at, "t": event.ends_at}
            )
        _db.session.commit()

        def counts():
            return {t: _db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in tables}

        before = counts()
        _db.session.commit()
        upgrade()
        assert counts() == before == dict.fromkeys(tables, 1)
        code = _db.session.scalar(text("SELECT booking_code FROM registrations"))
        terms = _db.session.scalars(text("SELECT term FROM registration_search_terms")).all()
        assert sorted(terms) == sorted(["anna", "berzina", "37120000001", "20000001", code.lower()])
        # A door account with a token, a membership and a check-in: the downgrade removes the
        # account and what belongs to it, and keeps the check-in (by nobody).
        for sql in (
            "INSERT INTO users (id, email, name, password_hash, role, is_active_account,"
            " created_at) VALUES (2, 'd@x.lv', 'D', 'x', 'door', 1, '2026-01-01')",
            "INSERT INTO memberships (user_id, organisation_id) VALUES (2, 1)",
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at)"
            " VALUES (2, 'tālrunis', 'h', 'p', '2026-01-01')",
            "UPDATE checkins SET created_by_id = 2",
        ):
            _db.session.execute(text(sql))
        _db.session.commit()
        downgrade(revision="0011")
        assert counts() == before
        assert _db.session.scalar(text("SELECT count(*) FROM api_tokens")) == 0
        assert _db.session.scalar(text("SELECT created_by_id FROM checkins")) is None
        assert _db.session.scalar(text("PRAGMA foreign_keys")) == 1  # on again afterwards
        _db.session.commit()
        _db.engine.dispose()
