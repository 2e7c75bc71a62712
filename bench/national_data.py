"""A national year of data on PostgreSQL, made by SQL (generate_series): by default 43
municipalities, 10,000 events and 1,000,000 registrations, ~60 % of people checked in.

    python bench/national_data.py postgresql+psycopg://postgres@127.0.0.1:5432/eventsvc_bench [events] [registrations]

The database is created if missing and its schema rebuilt with the project's migrations.
"""

from __future__ import annotations

import sys
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def ensure_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        ):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def build_schema(url: str) -> None:
    from flask_migrate import upgrade

    from eventsvc import create_app

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" * 8})
    with app.app_context():
        upgrade()


FILL = """
INSERT INTO municipalities (id, name, slug)
  SELECT i, 'Pašvaldība ' || i, 'p' || i FROM generate_series(1, 43) i;
INSERT INTO organisations (id, name, slug, kind, municipality_id)
  SELECT i, 'Sociālais dienests ' || i, 'sd' || i, 'social_service', i FROM generate_series(1, 43) i;
INSERT INTO campaigns (id, name, kind, description) VALUES
  (1, 'Savējais savējiem!', 'campaign', ''), (2, 'Sociālais darbs kopienā', 'pilot', ''), (3, 'Cits', 'project', '');
INSERT INTO events (id, kind, status, title, summary, description, organisation_id, municipality_id, campaign_id,
                    venue_name, venue_address, starts_at, ends_at, local_month, capacity, format, accessibility,
                    language, created_at, updated_at, published_at)
  SELECT i,
         (ARRAY['discussion','festival','workshop','training','excursion','meeting','concert','other'])[1 + i % 8],
         CASE WHEN i % 50 = 0 THEN 'cancelled' ELSE 'published' END,
         'Pasākums ' || i, '', '', 1 + i % 43, 1 + i % 43, NULLIF(i % 4, 0),
         'Kultūras nams', 'Adrese', s, s + interval '2 hours',
         to_char(s AT TIME ZONE 'Europe/Riga', 'YYYY-MM'), 200, 'in_person', '', 'lv', s, s, s
  FROM (SELECT i, timestamptz '2025-01-01 10:00+00' + (i * interval '52 minutes') AS s
        FROM generate_series(1, :events) i) AS e;
INSERT INTO event_target_groups (event_id, target_group)
  SELECT id, (ARRAY['everyone','seniors','families_disability','children','youth','functional_impairments','professionals'])[1 + id % 7]
  FROM events;
INSERT INTO registrations (id, event_id, status, name, email, phone, party_size, attendance, needs, language,
                           manage_token, ticket_secret, booking_code, source, consent_at, created_at,
                           updated_at)
  SELECT i, 1 + i % :events,
         CASE WHEN i % 20 = 0 THEN 'cancelled' WHEN i % 20 = 1 THEN 'waitlisted' ELSE 'confirmed' END,
         'Dalībnieks ' || i, NULL, '+371 2' || lpad(i::text, 7, '0'), 1 + i % 3,
         CASE WHEN i % 9 = 0 THEN 'online' ELSE 'in_person' END, '', 'lv',
         md5(i::text || 'manage'), md5(i::text || 'ticket'), c.code,
         CASE WHEN i % 97 = 0 THEN 'walk_in' ELSE 'web' END,
         now(), now(), now()
  FROM generate_series(1, :registrations) i,
       -- unique booking codes: the id in hex, its 0 and 1 (not in the alphabet) as W and X
       LATERAL (SELECT translate(lpad(upper(to_hex(i)), 6, '0'), '01', 'WX') AS code) c;
-- The words each is found by, as folding.terms_for folds them: name, phone digits (also without
-- +371), booking code.
INSERT INTO registration_search_terms (registration_id, term, event_id)
  SELECT r.id, t.term, r.event_id FROM registrations r,
    LATERAL (VALUES ('dalibnieks'), (r.id::text), ('3712' || lpad(r.id::text, 7, '0')),
                    ('2' || lpad(r.id::text, 7, '0')), (lower(r.booking_code))) AS t (term);
INSERT INTO checkins (event_id, registration_id, people, method, device, created_at, scanned_at)
  SELECT event_id, id, party_size, 'scan', '', now(), now() FROM registrations
  WHERE status = 'confirmed' AND attendance = 'in_person' AND id % 10 < 6;
UPDATE registrations SET checked_in_people = party_size
  WHERE status = 'confirmed' AND attendance = 'in_person' AND id % 10 < 6;
SELECT setval(pg_get_serial_sequence('registrations', 'id'), (SELECT max(id) FROM registrations));
SELECT setval(pg_get_serial_sequence('events', 'id'), (SELECT max(id) FROM events));

"""


def fill(url: str, events: int, registrations: int) -> None:
    from eventsvc.services.stats import REBUILD_EVENT_STATS

    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in filter(str.strip, FILL.split(";\n")):
            conn.execute(text(statement), {"events": events, "registrations": registrations})
        # Bulk SQL bypasses the app, so the per-event counters are built here from the rows.
        conn.execute(text(REBUILD_EVENT_STATS))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


if __name__ == "__main__":
    url = sys.argv[1]
    events = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    registrations = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    started = time.perf_counter()
    ensure_database(url)
    build_schema(url)
    fill(url, events, registrations)
    print(
        f"{events} events, {registrations} registrations in {time.perf_counter() - started:.1f} s"
    )
