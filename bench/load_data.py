"""A fresh database for the load bench, and the few rows it starts from.

recreate_database(url)   DROP + CREATE the database (never the test suite's `test`)
migrate(url)             `flask db upgrade` with EVENTSVC_DATABASE_URL, as a deployment does
create_fixtures(url)     an organiser with one API token per door scanner, a warm-up event,
                         the rush event (1,000 places, open, nobody registered) and the door
                         event (2,000 confirmed registrations made through the ORM, so the
                         per-event counters are kept as in production)
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-" + "x" * 32


def recreate_database(url: str) -> None:
    target = make_url(url)
    if target.database in (None, "", "postgres", "test", "template0", "template1"):
        raise SystemExit(
            f"refusing to recreate database {target.database!r}: give the bench its own"
        )
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def migrate(url: str) -> None:
    env = {
        **os.environ,
        "FLASK_APP": "wsgi",
        "EVENTSVC_DATABASE_URL": url,
        "EVENTSVC_SECRET_KEY": SECRET,
        "MAIL_SERVER": "127.0.0.1",
    }
    flask = Path(sys.executable).with_name("flask")
    subprocess.run(
        [str(flask), "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def create_baseline_table(url: str) -> None:
    from eventsvc.web.bench_baseline import TABLE_SQL

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(TABLE_SQL))
    engine.dispose()


@dataclass
class Fixtures:
    warmup_event_id: int
    rush_event_id: int
    door_event_id: int
    tokens: list[str]  # one per scanner
    tickets: list[str]  # the door event's ticket codes, one per confirmed registration
    door_people: int  # people in those registrations
    # The paced (open-loop) runs get events of their own, alike.
    paced_rush_event_id: int | None = None
    paced_door_event_id: int | None = None
    paced_tickets: list[str] = field(default_factory=list)
    paced_door_people: int = 0


def create_fixtures(
    url: str,
    *,
    rush_capacity: int,
    door_tickets: int,
    scanners: int,
    seed: int = 9,
    paced_door_tickets: int = 0,
) -> Fixtures:
    from eventsvc import create_app
    from eventsvc.extensions import db
    from eventsvc.models import (
        Event,
        EventFormat,
        EventKind,
        EventStatus,
        Municipality,
        Organisation,
        OrganisationKind,
        Registration,
        RegistrationSource,
        RegistrationStatus,
        Role,
        TargetGroup,
        User,
    )
    from eventsvc.services.api_tokens import create_token  # what `flask users token` calls
    from eventsvc.timezones import utcnow

    rng = random.Random(seed)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET,
            "EVENTSVC_INPROCESS_MAIL_WORKER": False,
        }
    )
    with app.app_context():
        now = utcnow()
        riga = Municipality(name="Rīga", slug="riga")
        org = Organisation(
            name="Rīgas Sociālais dienests",
            slug="riga-sd",
            kind=OrganisationKind.SOCIAL_SERVICE,
            municipality=riga,
        )
        organiser = User(
            email="door@bench.example.lv",
            name="Durvju komanda",
            role=Role.ORGANISER,
            organisations=[org],
        )
        organiser.set_password("bench-password-" + "y" * 16)
        db.session.add_all([riga, org, organiser])

        def event(title: str, capacity: int | None, starts_in: timedelta) -> Event:
            starts = now + starts_in
            item = Event(
                kind=EventKind.FESTIVAL,
                status=EventStatus.PUBLISHED,
                title=title,
                summary="Bench",
                organisation=org,
                municipality=riga,
                venue_name="Esplanāde",
                venue_address="Rīga",
                starts_at=starts,
                ends_at=starts + timedelta(hours=6),
                format=EventFormat.IN_PERSON,
                capacity=capacity,
                published_at=now - timedelta(days=1),
            )
            item.target_groups = [TargetGroup.EVERYONE]
            db.session.add(item)
            return item

        def registered(door: Event, count: int, prefix: str) -> int:
            """`count` confirmed registrations of 1–3 people (through the ORM, so that the
            per-event counters are right); returns the people."""
            people = 0
            for i in range(count):
                size = rng.randint(1, 3)
                people += size
                db.session.add(
                    Registration(
                        event_id=door.id,
                        status=RegistrationStatus.CONFIRMED,
                        name=f"Dalībnieks {i}",
                        email=f"{prefix}-{i}@bench.example.lv",
                        party_size=size,
                        source=RegistrationSource.WEB,
                        consent_at=now,
                        created_at=now,
                        confirmed_at=now,
                    )
                )
            return people

        def tickets_of(event_id: int) -> list[str]:
            return list(
                db.session.scalars(
                    text("SELECT ticket_secret FROM registrations WHERE event_id = :e ORDER BY id"),
                    {"e": event_id},
                )
            )

        warmup = event("Iesildīšanās", 1000, timedelta(days=30))
        rush = event("Pilsētas svētki", rush_capacity, timedelta(days=30))
        door = event("Pagalmu svētki", door_tickets * 3, timedelta(hours=1))
        paced_rush = (
            event("Bērnu darbnīca", rush_capacity, timedelta(days=30))
            if paced_door_tickets
            else None
        )
        paced_door = (
            event("Koncerts pagalmā", paced_door_tickets * 3, timedelta(hours=1))
            if paced_door_tickets
            else None
        )
        db.session.flush()
        people = registered(door, door_tickets, "door")
        paced_people = registered(paced_door, paced_door_tickets, "paced-door") if paced_door else 0
        tokens = [
            create_token(organiser, f"bench scanner {k + 1}", now)[1] for k in range(scanners)
        ]
        db.session.commit()
        fixtures = Fixtures(
            warmup.id,
            rush.id,
            door.id,
            tokens,
            tickets_of(door.id),
            people,
            paced_rush.id if paced_rush else None,
            paced_door.id if paced_door else None,
            tickets_of(paced_door.id) if paced_door else [],
            paced_people,
        )
        db.session.remove()
        db.engine.dispose()
    return fixtures
