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
