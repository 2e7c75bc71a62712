"""Every route × every role: allowed or refused as the access rules say.

ROUTES classifies every endpoint of app.url_map; an endpoint missing from it fails the test
(classify new routes there). Each role walks every rule on fresh data: every GET, then the
POSTs, PATCHes and DELETEs (with a valid CSRF token, or the X-CSRFToken header for the API;
staff API calls also once more with the role's Bearer token). An allowed GET is a 200; an
allowed write is anything but a refusal (an empty form answers 422, which is fine); a refusal is exactly
what the category says: 404 for another organisation's things (ids cannot be probed), 403
for a role that may not, 401 for the API without credentials, the sign-in page otherwise.
After the refused roles' writes nothing has changed. No page shows the Ministry or another
organisation a person, and no rendered page carries inline script or style.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Activity,
    ApiToken,
    CallReason,
    Certificate,
    CheckIn,
    Event,
    FeedbackInvitation,
    OutboxMessage,
    PhoneCall,
    Registration,
    Role,
    Speaker,
)
from eventsvc.services import checkin as door
from eventsvc.services import registration as rules
from eventsvc.services.api_tokens import create_token

from . import conftest, factories
from .conftest import CSRF_RE

ROLES = ("anonymous", "resident", "organiser_a", "organiser_b", "ministry", "admin", "door_a")
# door_a: a door-only account (Role.DOOR) of organisation A.
STAFF = ("organiser_a", "organiser_b", "ministry", "admin", "door_a")
OK, REDIRECT, LOGIN = "ok", "redirect", "login"


def _expect(default, **roles):
    return {role: roles.get(role, default) for role in ROLES}


# What each role meets, by kind of route.
CATEGORIES = {
    # Anyone, signed in or not.
    "PUBLIC": _expect(OK),
    "PUBLIC_REDIRECT": _expect(REDIRECT),  # sets a preference, or has nothing to show and sends on
    "SIGN_IN": _expect(REDIRECT, anonymous=OK, resident=OK),  # the signed-in are sent home
    # The private manage link is the key: the resident has it, nobody else can guess it.
    "RESIDENT_TOKEN": _expect(404, resident=OK),
    # The feedback link after an event: the same, with its own single-use token.
    "FEEDBACK_TOKEN": _expect(404, resident=OK),
    # An organisation's event and what hangs on it: its organisers and admins.
    "ORGANISER_OWN_EVENT": _expect(
        LOGIN, organiser_a=OK, organiser_b=404, ministry=403, admin=OK, door_a=403
    ),
    # An organisation's public contacts: its own organisers and admins.
    "ORGANISER_OWN_ORGANISATION": _expect(
        LOGIN, organiser_a=OK, organiser_b=403, ministry=403, admin=OK, door_a=403
    ),
    # Organisers' own pages (their list, new event, data requests, their audit log).
    "ORGANISER": _expect(LOGIN, organiser_a=OK, organiser_b=OK, ministry=403, admin=OK, door_a=403),
    # The door of an organisation's event: its organisers, admins and its door staff.
    "DOOR_OWN_EVENT": _expect(
        LOGIN, organiser_a=OK, organiser_b=404, ministry=403, admin=OK, door_a=OK
    ),
    # Whoever works a door (the list of coming events, the door page's service worker).
    "DOOR_STAFF": _expect(LOGIN, organiser_a=OK, organiser_b=OK, ministry=403, admin=OK, door_a=OK),
    # Any signed-in staff member (their account page and API tokens, signing out).
    "STAFF_ANY": _expect(LOGIN, **dict.fromkeys(STAFF, OK)),
    # Revoking a token: only its owner (organiser A's token here).
    "OWN_API_TOKEN": _expect(
        LOGIN, organiser_a=OK, organiser_b=404, ministry=404, admin=404, door_a=404
    ),
    # Attendance totals: the Ministry, admins, organisers (their own organisations' totals).
    "STATS_READER": _expect(LOGIN, **{**dict.fromkeys(STAFF, OK), "door_a": 403}),
    "ADMIN_ONLY": _expect(
        LOGIN, organiser_a=403, organiser_b=403, ministry=403, admin=OK, door_a=403
    ),
    # The development mailbox exists only without a mail server (never in tests or production).
    "DEV_ONLY": _expect(404),
    "API_PUBLIC": _expect(OK),
    "API_RESIDENT_TOKEN": _expect(404, resident=OK),
    # The door's API: as the door pages (a door account's token is limited as its account).
    "API_DOOR_OWN_EVENT": _expect(
        401, organiser_a=OK, organiser_b=404, ministry=403, admin=OK, door_a=OK
    ),
    "API_STATS_READER": _expect(401, **{**dict.fromkeys(STAFF, OK), "door_a": 403}),
}

# Every endpoint: its category, and for writes the order in which an allowed role may do them
# (later ones destroy what earlier ones use). A new route fails the test until it is here.
ROUTES: dict[str, str] = {
    "static": "PUBLIC",
    "public.calendar": "PUBLIC",
    "public.calendar_feed": "PUBLIC",
    "public.event": "PUBLIC",
    "public.event_ics": "PUBLIC",
    "public.privacy": "PUBLIC",
    "public.accessibility": "PUBLIC",
    "preferences.language": "PUBLIC_REDIRECT",
    "preferences.text_size": "PUBLIC_REDIRECT",
    "registration.register": "PUBLIC",
    "registration.registered": "PUBLIC_REDIRECT",
    "registration.erased": "PUBLIC_REDIRECT",
    "registration.manage": "RESIDENT_TOKEN",
    "registration.change_party_size": "RESIDENT_TOKEN",
    "registration.change": "RESIDENT_TOKEN",
    "registration.cancel": "RESIDENT_TOKEN",
    "registration.restore": "RESIDENT_TOKEN",
    "registration.erase": "RESIDENT_TOKEN",
    "registration.ticket": "RESIDENT_TOKEN",
    "registration.ticket_qr": "RESIDENT_TOKEN",
    "registration.certificate": "RESIDENT_TOKEN",
    "registration.follow_up_consent": "RESIDENT_TOKEN",
    "feedback.form": "FEEDBACK_TOKEN",
    "feedback.thanks": "PUBLIC",
    "auth.login": "SIGN_IN",
    "auth.logout": "STAFF_ANY",
    "account.overview": "STAFF_ANY",
    "account.end_sessions": "STAFF_ANY",
    "account.change_password": "STAFF_ANY",
    "account.tokens": "STAFF_ANY",
    "account.revoke": "OWN_API_TOKEN",
    "organiser.events": "ORGANISER",
    "organiser.new_event": "ORGANISER",
    "organiser.checkin_service_worker": "DOOR_STAFF",
    "organiser.door_events": "DOOR_STAFF",
    "organiser.data_request": "ORGANISER",
    "organiser.organisation": "ORGANISER_OWN_ORGANISATION",
    "audit.manage_log": "ORGANISER",
    "organiser.event": "ORGANISER_OWN_EVENT",
    "organiser.edit_event": "ORGANISER_OWN_EVENT",
    "organiser.publish": "ORGANISER_OWN_EVENT",
    "organiser.unpublish": "ORGANISER_OWN_EVENT",
    "organiser.cancel": "ORGANISER_OWN_EVENT",
    "organiser.speaker": "ORGANISER_OWN_EVENT",
    "organiser.delete_speaker": "ORGANISER_OWN_EVENT",
    "organiser.activity": "ORGANISER_OWN_EVENT",
    "organiser.delete_activity": "ORGANISER_OWN_EVENT",
    "organiser.registrations": "ORGANISER_OWN_EVENT",
    "organiser.registrations_export": "ORGANISER_OWN_EVENT",
    "organiser.registrations_xlsx_export": "ORGANISER_OWN_EVENT",
    "organiser.attendance_sheet": "ORGANISER_OWN_EVENT",
    "organiser.add_registration": "ORGANISER_OWN_EVENT",
    "organiser.registration": "ORGANISER_OWN_EVENT",
    "organiser.registration_party_size": "ORGANISER_OWN_EVENT",
    "organiser.cancel_registration": "ORGANISER_OWN_EVENT",
    "organiser.restore_registration": "ORGANISER_OWN_EVENT",
    "organiser.registration_ticket": "ORGANISER_OWN_EVENT",
    "organiser.registration_qr": "ORGANISER_OWN_EVENT",
    "organiser.checkin": "DOOR_OWN_EVENT",
    "organiser.checkin_submit": "DOOR_OWN_EVENT",
    "organiser.checkin_undo": "DOOR_OWN_EVENT",
    "organiser.feedback": "ORGANISER_OWN_EVENT",
    "organiser.follow_up": "ORGANISER_OWN_EVENT",
    "organiser.certificates": "ORGANISER_OWN_EVENT",
    "organiser.certificate_pdf": "ORGANISER_OWN_EVENT",
    "organiser.calls": "ORGANISER_OWN_EVENT",
    "organiser.call_done": "ORGANISER_OWN_EVENT",
    "organiser.print_letters": "ORGANISER_OWN_EVENT",
    "organiser.message": "ORGANISER_OWN_EVENT",
    "stats.dashboard": "STATS_READER",
    "stats.events": "STATS_READER",
    "stats.events_csv": "STATS_READER",
    "stats.table_csv": "STATS_READER",
    "stats.events_xlsx": "STATS_READER",
    "stats.table_xlsx": "STATS_READER",
    "stats.feedback": "STATS_READER",
    "stats.needs": "STATS_READER",
    "admin.outbox": "ADMIN_ONLY",
    "admin.retry_message": "ADMIN_ONLY",
    "admin.users": "ADMIN_ONLY",
    "admin.user": "ADMIN_ONLY",
    "admin.organisations": "ADMIN_ONLY",
    "admin.organisation": "ADMIN_ONLY",
    "admin.add_municipality": "ADMIN_ONLY",
    "audit.admin_log": "ADMIN_ONLY",
    "dev_mailbox.inbox": "DEV_ONLY",
    "dev_mailbox.message": "DEV_ONLY",
    "dev_mailbox.message_html": "DEV_ONLY",
    "dev_mailbox.part": "DEV_ONLY",
    "api.openapi": "API_PUBLIC",
    "api.list_events": "API_PUBLIC",
    "api.get_event": "API_PUBLIC",
    "api.create_registration": "API_PUBLIC",
    "api.get_registration": "API_RESIDENT_TOKEN",
    "api.change_registration": "API_RESIDENT_TOKEN",
    "api.delete_registration": "API_RESIDENT_TOKEN",
    "api.create_checkin": "API_DOOR_OWN_EVENT",
    "api.sync_checkins": "API_DOOR_OWN_EVENT",
    "api.undo_checkin": "API_DOOR_OWN_EVENT",
    "api.checkin_state": "API_DOOR_OWN_EVENT",
    "api.checkin_offline_list": "API_DOOR_OWN_EVENT",
    "api.attendees": "API_DOOR_OWN_EVENT",
    "api.walk_in": "API_DOOR_OWN_EVENT",
    "api.attendance": "API_STATS_READER",
}

# Writes that destroy what other writes use go last (higher = later); the rest keep rule order.
WRITE_ORDER = {
    "organiser.publish": 1,
    "organiser.checkin_undo": 1,
    "api.undo_checkin": 1,
    "organiser.delete_speaker": 2,
    "organiser.delete_activity": 2,
    "organiser.unpublish": 2,
    "organiser.cancel_registration": 2,
    "organiser.restore_registration": 2.5,  # undoes the cancellation just before
    "account.revoke": 2,
    "registration.cancel": 2,
    "registration.restore": 2.5,
    "api.delete_registration": 2,
    "organiser.cancel": 3,
    "registration.erase": 4,
    "account.end_sessions": 9,
    "auth.logout": 9,
}
# Writes after which the walker is signed out (and signs in again to go on).
SIGNS_OUT = {"auth.logout", "account.end_sessions"}
# Routes walked on another of the seeded events than the default one (event_id): the follow-up
# list exists once an event has ended, so it is walked on organisation A's ended event, where
# the resident agreed to a call and did not come.
EVENT_FOR = {"organiser.follow_up": "ended_event_id"}
# Which of the seeded check-ins each undo uses (each must find its own still active).
CHECKIN_FOR = {
    "organiser.checkin_undo": "checkin_1",
    "api.undo_checkin": "checkin_2",
    "api.undo_checkin bearer": "checkin_3",
}

RESIDENT_NAME, RESIDENT_EMAIL = "Ilze Iedzīvotāja", "ilze.resident@example.lv"
RESIDENT_PHONE = "+371 2612 3456"
INLINE_CODE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|\sstyle\s*=|<style[\s>]|\son[a-z]+\s*=\s*[\"']", re.I
)


def seed(now) -> dict:
    """Organisation A's event (speaker, activity, the resident's registration with two
    check-ins, its outbox message), organisation B's event, and an API token per staff role."""
    world = factories.world(now)
    event = factories.event(world.org_a, now + timedelta(days=7), capacity=50, title="A pasākums")
    event.speakers.append(Speaker(name="Linda Medne"))
    event.activities.append(
        Activity(title="Darbnīca", starts_at=event.starts_at, ends_at=event.ends_at)
    )
    other = factories.event(world.org_b, now + timedelta(days=8), title="B pasākums")
    resident = rules.register(
        event.id,
        factories.registration_request(
            name=RESIDENT_NAME, email=RESIDENT_EMAIL, phone=RESIDENT_PHONE, party_size=3
        ),
        now,
    ).registration
    rules.register(other.id, factories.registration_request(name="Pēteris Bē"), now)
    # Organisation A's event of last week: the resident agreed to a call and did not come, so
    # the follow-up list shows them (to organisation A's organisers and admins only).
    ended = factories.event(world.org_a, now - timedelta(days=7), title="A pagājušais")
    rules.register(
        ended.id,
        factories.registration_request(
            name=RESIDENT_NAME,
            email=RESIDENT_EMAIL,
            phone=RESIDENT_PHONE,
            follow_up_consent=True,
        ),
        ended.starts_at - timedelta(days=3),
    )
    _db.session.commit()
    first, second, third = (
        door.check_in_registration(event, resident.id, world.organiser_a, now, people=1).checkin
        for _ in range(3)
    )
    users = {
        "organiser_a": world.organiser_a,
        "organiser_b": world.organiser_b,
        "ministry": world.ministry,
        "admin": world.admin,
        "door_a": factories.user("door-a@example.lv", Role.DOOR, [world.org_a]),
    }
    bearer = {role: create_token(user, "route walk", now)[1] for role, user in users.items()}
    _db.session.commit()
    own_token = _db.session.scalar(select(ApiToken).where(ApiToken.user_id == world.organiser_a.id))
    message = _db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.registration_id == resident.id)
    )
    # Their ticket mail bounced: the resident is on the event's to-call list (and gets a letter).
    _db.session.add(
        PhoneCall(
            event_id=event.id,
            registration_id=resident.id,
            kind="registration_confirmed",
            reason=CallReason.UNDELIVERED,
            payload={},
        )
    )
    # The resident's certificate (issued at a training; written straight to the table here).
    _db.session.add(Certificate(registration_id=resident.id, hours=2, issued_at=now))
    feedback_token = "f" * 43  # the resident's feedback link (normally sent after the event)
    _db.session.add(
        FeedbackInvitation(
            registration_id=resident.id,
            token_hash=hashlib.sha256(feedback_token.encode()).hexdigest(),
            created_at=now,
            expires_at=now + timedelta(days=30),
        )
    )
    _db.session.commit()
    return {
        "world": world,
        "users": users,
        "bearer": bearer,
        "resident": resident,
        "values": {
            "event_id": event.id,
            "ended_event_id": ended.id,
            "registration_id": resident.id,
            "speaker_id": event.speakers[0].id,
            "activity_id": event.activities[0].id,
            "checkin_1": first.id,
            "checkin_2": second.id,
            "checkin_3": third.id,
            "token": resident.manage_token,
            "feedback_token": feedback_token,
            "token_id": own_token.id,
            "message_id": message.id,
            "user_id": world.organiser_a.id,
            "organisation_id": world.org_a.id,
            "name": "00000001",
            "index": 0,
            "code": "en",
            "size": "large",
            "group": "municipality",
            "filename": "css/site.css",
        },
    }


def snapshot(values) -> tuple[tuple, tuple]:
    """What refused writes must leave as it was: the event and registration, and the door's
    work (check-ins, walk-ins), which the door role may change."""
    _db.session.expire_all()
    event = _db.session.get(Event, values["event_id"])
    registration = _db.session.get(Registration, values["registration_id"])
    return (
        event.status,
        event.title,
        len(event.speakers),
        len(event.activities),
        registration.status,
        registration.party_size,
        registration.name,
        tuple(_db.session.scalars(select(ApiToken.revoked_at).order_by(ApiToken.id))),
        _db.session.scalar(
            select(OutboxMessage.status).where(OutboxMessage.id == values["message_id"])
        ),
    ), (
        registration.checked_in_people,
        tuple(_db.session.scalars(select(CheckIn.undone_at).order_by(CheckIn.id))),
        _db.session.scalar(select(func.count(Registration.id))),
    )


def url_for_rule(rule, endpoint: str, values: dict, role: str, how: str) -> str:
    url = rule.rule
    for arg in rule.arguments:
        if arg == "checkin_id":
            value = values[
                CHECKIN_FOR.get(f"{endpoint} {how}", CHECKIN_FOR.get(endpoint, "checkin_1"))
            ]
        elif arg == "event_id" and endpoint in EVENT_FOR:
            value = values[EVENT_FOR[endpoint]]
        elif arg in ("token", "feedback_token") and role != "resident":
            value = "guessed-" + values[arg][8:]  # only the resident holds the real link
        else:
            value = values[arg]
        url = re.sub(rf"<(?:[^:<>]+:)?{arg}>", str(value), url)
    return url


def new_client(app):
    """A client whose every request has its own app context (and `g`), as in production."""
    app.test_client_class = conftest.FreshContextClient
    return app.test_client()


def csrf_token(client, signed_in: bool) -> str:
    page = client.get("/" if signed_in else "/login").get_data(as_text=True)
    return CSRF_RE.search(page).group(1)


def outcome_of(response) -> str | int:
    if response.status_code in (301, 302, 303, 307, 308):
        return LOGIN if response.location.startswith("/login") else REDIRECT
    if response.status_code < 400:
        return OK
    return response.status_code


def judge(expected, method: str, response) -> bool:
    got = outcome_of(response)
    if response.status_code >= 500:
        return False
    if expected == OK and method != "GET":
        # An allowed write: anything but a refusal (an empty form is answered 422, 409 …).
        return got not in (LOGIN, 401, 403, 404, 405)
    if expected == OK:
        return response.status_code == 200
    return got == expected


def walk(app, role: str, data: dict, problems: list[str]) -> int:
    values = data["values"]
    signed_in = role in STAFF
    client = new_client(app)
    if signed_in:
        conftest.login(client, data["users"][role].email)
    token = csrf_token(client, signed_in)
    bearer = data["bearer"].get(role)
    calls = []
    for rule in app.url_map.iter_rules():
        category = ROUTES[rule.endpoint]
        for method in sorted(rule.methods & {"GET", "POST", "PATCH", "DELETE"}):
            calls.append(
                (
                    0 if method == "GET" else 1 + WRITE_ORDER.get(rule.endpoint, 0),
                    rule,
                    method,
                    category,
                )
            )
    calls.sort(key=lambda c: c[0])
    checked = 0
    for _, rule, method, category in calls:
        expected = CATEGORIES[category][role]
        api = rule.rule.startswith("/api/")
        variants = [("session", client, {})]
        if bearer and category in ("API_DOOR_OWN_EVENT", "API_STATS_READER"):
            variants.append(("bearer", new_client(app), {"Authorization": f"Bearer {bearer}"}))
        for how, who, headers in variants:
            url = url_for_rule(rule, rule.endpoint, values, role, how)
            if api and method != "GET" and how == "session":
                headers = {"X-CSRFToken": token}
            if method == "GET":
                response = who.get(url, headers=headers)
            elif api:
                response = who.open(url, method=method, json={}, headers=headers)
            else:
                response = who.open(url, method=method, data={"csrf_token": token}, headers=headers)
            checked += 1
            if not judge(expected, method, response):
                problems.append(
                    f"{role} ({how}) {method} {url} [{rule.endpoint}: {category}]: "
                    f"expected {expected}, got {response.status_code} {response.location or ''}"
                )
            body = (
                response.get_data(as_text=True)
                if response.mimetype in ("text/html", "application/json", "text/csv")
                else ""
            )
            if role in ("organiser_b", "ministry", "anonymous") and (
                RESIDENT_NAME in body or RESIDENT_EMAIL in body
            ):
                problems.append(f"{role} {method} {url}: shows organisation A's registrant")
            if role == "door_a" and any(
                c in body for c in (RESIDENT_EMAIL, "2612 3456", "26123456")
            ):
                problems.append(f"{role} {method} {url}: shows a registrant's contact details")
            if (
                response.status_code == 200
                and response.mimetype == "text/html"
                and rule.endpoint != "dev_mailbox.message_html"
            ):
                found = INLINE_CODE.search(body)
                if found:
                    problems.append(f"{method} {url}: inline code {found.group(0)!r}")
            response.close()
            if signed_in and rule.endpoint in SIGNS_OUT and method == "POST":
                conftest.login(client, data["users"][role].email)
                token = csrf_token(client, signed_in)
    return checked


@pytest.mark.parametrize("role", ROLES)
def test_every_route_as_every_role(app, db, now, role):
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(ROUTES))
    assert not missing, f"classify new routes in tests/test_route_walk.py ROUTES: {missing}"
    data = seed(now)
    before = snapshot(data["values"])
    problems: list[str] = []
    checked = walk(app, role, data, problems)
    assert checked > 90
    assert not problems, "\n".join(problems)
    after = snapshot(data["values"])
    if CATEGORIES["ORGANISER_OWN_EVENT"][role] != OK and role != "resident":
        assert after[0] == before[0], "a refused write changed something"
    if CATEGORIES["DOOR_OWN_EVENT"][role] != OK and role != "resident":
        assert after[1] == before[1], "a refused write changed the door's work"


def test_every_category_is_used_and_known():
    assert set(ROUTES.values()) == set(CATEGORIES)
    assert set(WRITE_ORDER) <= set(ROUTES) and {key.split()[0] for key in CHECKIN_FOR} <= set(
        ROUTES
    )
    assert set(EVENT_FOR) <= set(ROUTES)


def test_bearer_tokens_open_no_pages(app, db, now):
    """A personal API token is for /api only: on pages it is no sign-in."""
    data = seed(now)
    client = new_client(app)
    headers = {"Authorization": f"Bearer {data['bearer']['organiser_a']}"}
    for url in (
        "/manage/",
        f"/manage/events/{data['values']['event_id']}",
        "/stats/",
        "/account/tokens",
    ):
        assert outcome_of(client.get(url, headers=headers)) == LOGIN, url


def test_organiser_b_cannot_export_organisation_as_people(app, db, now):
    """The data-subject export of organiser B holds nothing from organisation A's events."""
    data = seed(now)
    client = new_client(app)
    conftest.login(client, data["users"]["organiser_b"].email)
    response = conftest.post_form(client, "/manage/data-requests", {"email": RESIDENT_EMAIL})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert RESIDENT_NAME not in body and "A pasākums" not in body
