"""The migrations build the schema the models describe, and the database refuses bad rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from eventsvc.extensions import db as _db
from eventsvc.models import Base, Registration, RegistrationStatus

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


def test_migrating_a_sqlite_database_keeps_the_rows_that_refer_to_a_rebuilt_table(tmp_path):
    """SQLite batch migrations rebuild a table (copy, drop, rename); the drop must not take
    the rows of other tables with it (migrations/env.py turns foreign keys off meanwhile).
    0014 rebuilds users and registrations: memberships, check-ins and activity choices stay."""
    from flask_migrate import downgrade, upgrade

    from eventsvc import create_app
    from eventsvc.models import Organisation
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
        _db.session.commit()
        event = factories.event(_db.session.get(Organisation, 1), now + timedelta(days=3))
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
