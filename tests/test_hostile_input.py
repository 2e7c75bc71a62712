"""Hostile values through every form and API field.

Each value is refused with a 4xx and a message in the user's language (next to the field on
a page, per field in the API), or taken cleanly where it is legitimate (a line break in a
description, a formula-looking name, an address with non-ASCII letters); a refused one
leaves the database exactly as it was, and nothing answers 500.

The fields are found, not listed: every text and date field of every form of the app (the
forms are found as FlaskForm subclasses, and one that nobody submits here fails
test_every_form_is_covered until FORMS says how to submit it), and every string, enum and
date of the API's request bodies and query strings, read from the OpenAPI document.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields.choices import SelectFieldBase
from wtforms.fields.datetime import DateTimeField, DateTimeLocalField, TimeField

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, Base, EventFormat, EventKind, Speaker, SpeakerRole
from eventsvc.services import ValidationFailed
from eventsvc.services import accounts as account_service
from eventsvc.services import events as event_service
from eventsvc.services import organisations as organisation_service
from eventsvc.services import registration as rules
from eventsvc.services.api_tokens import create_token
from eventsvc.services.checkin import register_walk_in
from eventsvc.services.input_rules import MULTI_LINE_PATTERN, date_problem, text_problem
from eventsvc.timezones import to_riga, utcnow
from eventsvc.web.api.openapi import SPEC
from eventsvc.web.forms import FlaskForm

from . import factories
from .conftest import CSRF_RE, login

# --- the values ------------------------------------------------------------------------

# Refused in a single-line field, kept in a multi-line one.
LINE_BREAKS = {
    "CR LF (a mail header)": "Anna\r\nBcc: x@example.lv",
    "LF": "Anna\nBērziņa",
    "CR": "Anna\rBērziņa",
    "tab": "Anna\tBērziņa",
    "CR LF at the end": "Anna Bērziņa\r\n",
}
# Refused everywhere.
CONTROLS = {
    "vertical tab": "Anna\x0bBērziņa",
    "form feed": "Anna\x0cBērziņa",
    "escape sequence": "Anna\x1b[31mBērziņa",
    "delete": "Anna\x7fBērziņa",
    "C1 next line": "Anna\x85Bērziņa",
    "C1 CSI": "Anna\x9bBērziņa",
    "line separator": "Anna\u2028Bērziņa",
    "paragraph separator": "Anna\u2029Bērziņa",
    "NUL": "Anna\x00Bērziņa",  # refused before any form reads it (400)
}
# Only JSON can carry one ("\ud800"); a form's bytes that are not UTF-8 become U+FFFD.
LONE_SURROGATES = {"lone high surrogate": "Anna\ud800", "lone low surrogate": "\udfffBērziņa"}
# Taken as input or refused with a message, never a 500: exports neutralise them.
FORMULAS = {
    "=": '=HYPERLINK("https://example.lv","x")',
    "+": "+1+1",
    "-": "-1-1-1-1",
    "@": "@SUM(A1:A9)",
}
# Addresses with non-ASCII letters are addresses: a resident's registration takes them.
ADDRESSES = ["jānis@piemērs.lv", "jānis@xn--piemrs-8ya.lv", "андрей@пример.рф"]
EXTREME_DATES = ["0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31"]


# A signed-in session's "last seen" moves on once a minute whatever the request does; a
# form with many fields takes longer than that on a busy machine.
NOT_COMPARED = {("user_sessions", "last_seen_at")}


def snapshot() -> dict[str, list[str]]:
    """Every row of every table, to compare before and after a refused request."""
    with _db.engine.connect() as conn:
        return {
            table.name: sorted(
                repr(tuple(row))
                for row in conn.execute(
                    select(*(c for c in table.c if (table.name, c.name) not in NOT_COMPARED))
                )
            )
            for table in Base.metadata.sorted_tables
        }


def messages(app, language: str = "lv") -> dict[str, str]:
    """The refusals' messages as the user reads them."""
    with app.test_request_context(), force_locale(language):
        return {
            "single": text_problem("a\nb"),
            "multi": text_problem("a\x1bb", multiline=True),
            "date": date_problem(date(1, 1, 1)),
        }


def translated(app, message: str, language: str = "lv") -> str:
    with app.test_request_context(), force_locale(language):
        return gettext(message)


# --- the scene every form and call is made in --------------------------------------------


@dataclass
class Scene:
    world: factories.World
    event: object
    festival: object
    activity: Activity
    speaker: Speaker
    registration: object
    token: str
    ended: object = None  # last week's event, with `absent` on its follow-up list
    absent: object = None
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def unique(self) -> int:
        return next(self.counter)


@pytest.fixture
def scene(world, in_days, now) -> Scene:
    event = factories.event(world.org_a, in_days(10), capacity=30)
    festival = factories.event(
        world.org_a,
        in_days(12).replace(second=0, microsecond=0),  # as a form gives it
        hours=6,
        kind=EventKind.FESTIVAL,
        format=EventFormat.HYBRID,
        stream_url="https://video.example.lv/live",
        title="Pagalmu svētki",
    )
    activity = Activity(
        title="Darbnīca",
        starts_at=festival.starts_at,
        ends_at=festival.starts_at + timedelta(hours=1),
        capacity=5,
    )
    festival.activities.append(activity)
    speaker = Speaker(event=event, name="Ilze Kalniņa", role=SpeakerRole.MODERATOR)
    _db.session.add(speaker)
    registration = rules.register(
        event.id, factories.registration_request(name="Anna Bērziņa"), now
    ).registration
    _, token = create_token(world.organiser_a, "door", now)
    ended = factories.event(world.org_a, now - timedelta(days=7))
    absent = rules.register(
        ended.id,
        factories.registration_request(name="Ārija Ozola", follow_up_consent=True),
        ended.starts_at - timedelta(days=3),
    ).registration
    _db.session.commit()
    return Scene(world, event, festival, activity, speaker, registration, token, ended, absent)


def local(moment) -> str:
    return to_riga(moment).strftime("%Y-%m-%dT%H:%M")


# --- every form ----------------------------------------------------------------------------


@dataclass
class FormCase:
    """How to submit a form: who, where, and a submission it accepts."""

    role: str | None  # "organiser", "admin", or None: anyone
    url: Callable[[Scene], str]
    data: Callable[[Scene], dict]
    page: Callable[[Scene], str] | None = None  # where the form is shown, if not at `url`
    accepts_addresses: bool = False  # a resident's own address: non-ASCII must be taken
    honeypot: str | None = None  # a field only a bot fills: anything in it saves nothing


def _registration(s: Scene) -> dict:
    return {
        "name": "Anna Bērziņa",
        "email": f"anna{s.unique()}@example.lv",
        "phone": "",
        "party_size": "1",
        "access_needs": ["wheelchair", "hearing_loop"],
        "language": "lv",
        "consent": "y",
    }


def _event(s: Scene) -> dict:
    return {
        "title": "Kopienas diena",
        "kind": "workshop",
        "summary": "Darbnīcas visiem",
        "description": "",
        "organisation_id": str(s.world.org_a.id),
        "municipality_id": str(s.world.tukums.id),
        "campaign_id": "",
        "starts_at": "2031-11-13T12:00",
        "ends_at": "2031-11-13T15:00",
        "venue_name": "Tumes kultūras nams",
        "venue_address": "Pasta iela 1A, Tume",
        "format": "in_person",
        "stream_url": "",
        "capacity": "",
        "target_groups": "everyone",
        "accessibility": "",
        "language": "lv",
    }


FORMS: dict[str, FormCase] = {
    "RegistrationForm": FormCase(
        None,
        lambda s: f"/events/{s.event.id}/register",
        _registration,
        page=lambda s: f"/events/{s.event.id}",
        accepts_addresses=True,
        honeypot="website",
    ),
    "PhoneRegistrationForm": FormCase(
        "organiser",
        lambda s: f"/manage/events/{s.event.id}/registrations/new",
        _registration,
        accepts_addresses=True,
    ),
    "EventForm": FormCase("organiser", lambda s: "/manage/events/new", _event),
    "SpeakerForm": FormCase(
        "organiser",
        lambda s: f"/manage/events/{s.event.id}/speakers/new",
        lambda s: {"name": "Jānis Ozols", "title": "", "organisation": "", "role": "panellist"},
    ),
    "ActivityForm": FormCase(
        "organiser",
        lambda s: f"/manage/events/{s.festival.id}/activities/new",
        lambda s: {
            "title": "Zīmēšana",
            "kind": "workshop",
            "description": "",
            "starts_at": local(s.festival.starts_at),
            "ends_at": local(s.festival.starts_at + timedelta(hours=1)),
            "location": "Pagalms",
            "capacity": "",
            "position": "1",
        },
    ),
    "UserForm": FormCase(
        "admin",
        lambda s: "/admin/users/new",
        lambda s: {
            "name": "Līga Liepa",
            "email": f"liga{s.unique()}@example.lv",
            "role": "ministry",
            "password": "a long enough password",
            "active": "y",
        },
    ),
    "OrganisationForm": FormCase(
        "admin",
        lambda s: "/admin/organisations/new",
        lambda s: {
            "name": f"Biedrība {s.unique()}",
            "kind": "ngo",
            "municipality_id": "0",
            "slug": "",
            "email": "",
            "phone": "",
        },
    ),
    "MunicipalityForm": FormCase(
        "admin",
        lambda s: "/admin/municipalities",
        lambda s: {"name": f"Novads {s.unique()}"},
        page=lambda s: "/admin/organisations",
    ),
    "TokenForm": FormCase(
        "organiser", lambda s: "/account/tokens", lambda s: {"name": f"Tālrunis {s.unique()}"}
    ),
    # The resident's own change of everything through the private link.
    "ChangeForm": FormCase(
        None,
        lambda s: f"/r/{s.registration.manage_token}/change",
        lambda s: {
            "party_size": str(s.registration.party_size),
            "access_needs": ["easy_read"],
            "needs": "",
            "email": s.registration.email or "",
            "phone": s.registration.phone or "",
            "language": "lv",
        },
        page=lambda s: f"/r/{s.registration.manage_token}",
        accepts_addresses=True,
    ),
    # Certificates of a training: this event is none, so a clean submission is refused with
    # a flash (nothing stored); a hostile value is refused next to its field first.
    "IssueForm": FormCase(
        "organiser",
        lambda s: f"/manage/events/{s.event.id}/certificates",
        lambda s: {"hours": "6", "registration_id": ""},
    ),
    "PublicContactsForm": FormCase(
        "organiser",
        lambda s: f"/manage/organisations/{s.world.org_a.id}",
        lambda s: {"phone": "+371 64000000", "email": "info@example.lv"},
    ),
    # Two different new passwords: every submission is refused, so the password (and the
    # session it would end) stays as it is while each field is tried.
    "PasswordForm": FormCase(
        "organiser",
        lambda s: "/account/password",
        lambda s: {
            "current_password": factories.PASSWORD,
            "new_password": "a new long password 1",
            "repeated_password": "a new long password 2",
        },
        page=lambda s: "/account/",
    ),
    "LoginForm": FormCase(
        None, lambda s: "/login", lambda s: {"email": "nobody@example.lv", "password": "x" * 12}
    ),
    "DataRequestForm": FormCase(
        "organiser", lambda s: "/manage/data-requests", lambda s: {"email": "x@example.lv"}
    ),
    # The organisers' message: a clean one is previewed (nothing sent, nothing stored).
    "MessageForm": FormCase(
        "organiser",
        lambda s: f"/manage/events/{s.event.id}/message",
        lambda s: {
            "audience": "everyone",
            "subject": "Autobuss uz Tumi",
            "text": "Autobuss atiet plkst. 12:00.",
            "action": "preview",
        },
    ),
    "CodeForm": FormCase(
        "organiser",
        lambda s: f"/manage/events/{s.event.id}/checkin",
        lambda s: {"action": "code", "code": "x" * 43},
    ),
    "PeopleForm": FormCase(
        "organiser",
        lambda s: f"/manage/events/{s.event.id}/checkin",
        lambda s: {"action": "person", "registration_id": str(s.registration.id), "people": "1"},
    ),
    # A call marked on the follow-up list after the event (services/follow_up.py).
    "CallForm": FormCase(
        "organiser",
        lambda s: f"/manage/events/{s.ended.id}/follow-up",
        lambda s: {"registration_id": str(s.absent.id), "outcome": "reached"},
    ),
    # The resident's agreement to be called after the event, through the private link.
    "FollowUpConsentForm": FormCase(
        None,
        lambda s: f"/r/{s.registration.manage_token}/follow-up",
        lambda s: {"follow_up_consent": "y"},
        page=lambda s: f"/r/{s.registration.manage_token}",
    ),
    "WalkInForm": FormCase(
        "organiser",
        lambda s: f"/manage/events/{s.event.id}/checkin",
        lambda s: {"action": "walk_in", "name": "Pēteris", "people": "1"},
    ),
}
# Forms read from the query string (GET): their dates, through every page that reads them.
FILTER_FORMS = {
    "CalendarFilterForm": ["/", "/calendar.ics"],
    "StatsFilterForm": ["/stats/", "/stats/events", "/stats/events.csv", "/stats/kind.csv"],
}


def all_forms() -> dict[str, type]:
    found, todo = {}, [FlaskForm]
    while todo:
        for sub in todo.pop().__subclasses__():
            found[sub.__name__] = sub
            todo.append(sub)
    return found


def fields_of(app, form_class) -> list:
    with app.test_request_context():
        return [
            f
            for f in form_class(meta={"csrf": False})
            if not isinstance(f, CSRFTokenField)
            and (
                isinstance(f, StringField)
                or (isinstance(f, DateTimeField) and not isinstance(f, TimeField))
            )
        ]


def test_every_form_is_covered(app):
    """A form with a text or date field that no case here submits fails this test."""
    with_fields = {name for name, cls in all_forms().items() if fields_of(app, cls)}
    assert with_fields - set(FORMS) - set(FILTER_FORMS) == set()


def _sign_in(client, scene: Scene, role: str | None) -> None:
    if role == "organiser":
        login(client, scene.world.organiser_a.email)
    elif role == "admin":
        login(client, scene.world.admin.email)


def _form_values(field) -> list[tuple[str, str, str]]:
    """(label, value, expectation) for a field: "refused", "kept" or "clean" (either)."""
    if isinstance(field, DateTimeField):
        suffix = "T10:00" if isinstance(field, DateTimeLocalField) else ""
        return [(f"date {d}", d + suffix, "refused") for d in EXTREME_DATES]
    multiline = isinstance(field, TextAreaField)
    values = [(k, v, "kept" if multiline else "refused") for k, v in LINE_BREAKS.items()]
    values += [(k, v, "refused") for k, v in CONTROLS.items()]
    values += [(f"formula {k}", v, "clean") for k, v in FORMULAS.items()]
    if isinstance(field, EmailField):
        values += [(f"address {a}", a, "address") for a in ADDRESSES]
    return values


@pytest.mark.parametrize("form_name", sorted(FORMS))
def test_hostile_values_in_every_form_field(app, client, scene, form_name):
    case = FORMS[form_name]
    _sign_in(client, scene, case.role)
    page = client.get((case.page or case.url)(scene)).get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    expected = messages(app)
    problems = []
    for form_field in fields_of(app, all_forms()[form_name]):
        name = form_field.name
        shown = f'name="{name}"' in page and not isinstance(form_field, HiddenField)
        for label, value, expectation in _form_values(form_field):
            data = {**case.data(scene), name: value, "csrf_token": token}
            before = snapshot()
            response = client.post(case.url(scene), data=data)
            body, status = response.get_data(as_text=True), response.status_code
            where = f"{form_name}.{name} with {label}: {status}"
            if status >= 500:
                problems.append(f"{where}: server error")
            elif name == case.honeypot:  # the page a bot expects (or a 400 for a NUL)
                if snapshot() != before:
                    problems.append(f"{where}: a filled honeypot saved something")
            elif expectation == "refused":
                if not 400 <= status < 500:
                    problems.append(f"{where}: not refused")
                elif snapshot() != before:
                    problems.append(f"{where}: refused, but the database changed")
                elif label != "NUL" and shown:
                    message = expected["date" if label.startswith("date") else "single"]
                    if isinstance(form_field, TextAreaField):
                        message = expected["multi"]
                    if message not in body:
                        problems.append(f"{where}: no message next to the field")
            elif expectation == "kept" and status >= 400:
                problems.append(f"{where}: a line break refused in a text area")
            elif expectation == "address" and case.accepts_addresses and status >= 400:
                problems.append(f"{where}: a resident's address refused")
            elif status >= 400 and snapshot() != before:
                problems.append(f"{where}: refused, but the database changed")
    assert not problems, "\n".join(problems)


def choice_fields_of(app, form_class) -> list:
    with app.test_request_context():
        return [
            f
            for f in form_class(meta={"csrf": False})
            if isinstance(f, SelectFieldBase) and f.name not in ("csrf_token",)
        ]


@pytest.mark.parametrize("form_name", sorted(FORMS))
def test_unknown_choices_in_every_form_field(app, client, scene, form_name):
    """A value no list offers (a target group that does not exist, a role, a kind): a 4xx
    with a message, the database as it was; never a 500."""
    case = FORMS[form_name]
    _sign_in(client, scene, case.role)
    page = client.get((case.page or case.url)(scene)).get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    problems = []
    for form_field in choice_fields_of(app, all_forms()[form_name]):
        for value in ("no-such-value", "999999999999", "-1"):
            before = snapshot()
            data = {**case.data(scene), form_field.name: value, "csrf_token": token}
            response = client.post(case.url(scene), data=data)
            where = f"{form_name}.{form_field.name}={value}: {response.status_code}"
            if not 400 <= response.status_code < 500:
                problems.append(f"{where}: not refused")
            elif snapshot() != before:
                problems.append(f"{where}: refused, but the database changed")
            elif "error-message" not in response.get_data(as_text=True):
                problems.append(f"{where}: no message")
    assert not problems, "\n".join(problems)


def test_the_admin_user_form_refuses_an_email_with_a_line_break(client, scene):
    login(client, scene.world.admin.email)
    token = CSRF_RE.search(client.get("/admin/users/new").get_data(as_text=True)).group(1)
    data = {**FORMS["UserForm"].data(scene), "csrf_token": token}
    response = client.post("/admin/users/new", data={**data, "email": "liga@example.lv\r\n"})
    assert response.status_code == 422 and 'id="email-error"' in response.get_data(as_text=True)
    assert client.post("/admin/users/new", data=data).status_code == 302  # the same, clean


@pytest.mark.parametrize("language", ["lv", "ru"])
def test_the_message_is_in_the_users_language(app, client, scene, language):
    client.set_cookie("lang", language)
    token = CSRF_RE.search(client.get(f"/events/{scene.event.id}").get_data(as_text=True))
    data = {**_registration(scene), "name": "Anna\nBērziņa", "csrf_token": token.group(1)}
    body = client.post(f"/events/{scene.event.id}/register", data=data).get_data(as_text=True)
    assert messages(app, language)["single"] in body
    api = client.post(
        f"/api/v1/events/{scene.event.id}/registrations",
        json={"name": "Anna\nBērziņa", "email": "a@example.lv", "consent": True},
        headers={"Accept-Language": language},
    )
    assert api.json["error"]["fields"]["name"] == messages(app, language)["single"]


@pytest.mark.parametrize("form_name", sorted(FILTER_FORMS))
def test_extreme_dates_in_every_filter(app, client, scene, form_name):
    login(client, scene.world.ministry.email)
    date_fields = [f.name for f in fields_of(app, all_forms()[form_name])]
    assert date_fields
    message = messages(app)["date"]
    for url, name, value in itertools.product(FILTER_FORMS[form_name], date_fields, EXTREME_DATES):
        response = client.get(url, query_string={name: value})
        assert response.status_code == 400, (url, name, value)
        assert message in response.get_data(as_text=True), (url, name, value)


# --- every API field -----------------------------------------------------------------------


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _branches(schema: dict) -> list[dict]:
    """The alternatives a value may take (anyOf, flattened), with the schema's own keys."""
    schema = _resolve(schema)
    if "anyOf" not in schema:
        return [schema]
    return [schema, *(b for branch in schema["anyOf"] for b in _branches(branch))]


def _types(schema: dict) -> set[str]:
    found = set()
    for branch in _branches(schema):
        kind = branch.get("type", "")
        found |= set(kind) if isinstance(kind, list) else {kind}
    return found


def body_properties(operation: dict) -> dict[str, dict]:
    schema = _resolve(operation["requestBody"]["content"]["application/json"]["schema"])
    return schema["properties"]


JSON_OPERATIONS = {
    op["operationId"]: (route, method, op)
    for route, path in SPEC["paths"].items()
    for method, op in path.items()
    if method != "parameters" and "requestBody" in op
}


@dataclass
class ApiCase:
    url: Callable[[Scene], str]
    body: Callable[[Scene], dict]
    staff: bool = True
    method: str = "POST"


API = {
    "register": ApiCase(
        lambda s: f"/api/v1/events/{s.event.id}/registrations",
        lambda s: {"name": "Anna Bērziņa", "email": f"a{s.unique()}@example.lv", "consent": True},
        staff=False,
    ),
    "checkIn": ApiCase(
        lambda s: f"/api/v1/events/{s.event.id}/checkins",
        lambda s: {"code": "x" * 43, "nonce": f"nonce-{s.unique():04d}"},
    ),
    "syncCheckIns": ApiCase(
        lambda s: f"/api/v1/events/{s.event.id}/checkins/sync",
        lambda s: {"checkins": [{"code": "x" * 43, "nonce": f"nonce-{s.unique():04d}"}]},
    ),
    "walkIn": ApiCase(
        lambda s: f"/api/v1/events/{s.event.id}/walkins",
        lambda s: {"name": "Pēteris", "people": 1, "nonce": f"walk-{s.unique():04d}"},
    ),
    # The resident's own change through the private token (a clean body changes the needs).
    "changeRegistration": ApiCase(
        lambda s: f"/api/v1/registrations/{s.registration.manage_token}",
        lambda s: {"access_needs": ["wheelchair"], "needs": "uzbrauktuve"},
        staff=False,
        method="PATCH",
    ),
}
# A queued check-in of the door's offline list is a check-in request (the document says so).
ITEM_OF = {"syncCheckIns": "checkIn"}


def test_every_json_operation_is_covered():
    assert set(JSON_OPERATIONS) == set(API)


def _api_values(schema: dict) -> list[tuple[str, object, str]]:
    types = _types(schema)
    patterns = {b.get("pattern") for b in _branches(schema)}
    values: list[tuple[str, object, str]] = []
    if any("enum" in b or "const" in b for b in _branches(schema)):
        values.append(("an unknown value", "no-such-value", "refused"))
    if "string" not in types:
        return values
    multiline = MULTI_LINE_PATTERN in patterns
    values += [(k, v, "kept" if multiline else "refused") for k, v in LINE_BREAKS.items()]
    values += [(k, v, "refused") for k, v in {**CONTROLS, **LONE_SURROGATES}.items()]
    values += [(f"formula {k}", v, "clean") for k, v in FORMULAS.items()]
    if any(b.get("format") == "date-time" for b in _branches(schema)):
        values += [
            ("year 1 at +14:00", "0001-01-01T05:00:00+14:00", "refused"),
            ("year 9999 at -12:00", "9999-12-31T23:00:00-12:00", "refused"),
            ("1899", "1899-12-31T23:59:59Z", "refused"),
            ("+14:00", "2026-11-18T10:00:00+14:00", "clean"),
        ]
    return values


@pytest.mark.parametrize("operation_id", sorted(API))
def test_hostile_values_in_every_api_field(app, client, scene, operation_id):
    case = API[operation_id]
    headers = {"Authorization": f"Bearer {scene.token}"} if case.staff else {}
    client.get(f"/api/v1/events/{scene.event.id}/checkins/state", headers=headers)  # token used
    item_of = ITEM_OF.get(operation_id)
    properties = body_properties(JSON_OPERATIONS[item_of or operation_id][2])
    problems = []
    for name, schema in properties.items():
        for label, value, expectation in _api_values(schema):
            body = case.body(scene)
            target = body["checkins"][0] if item_of else body
            target[name] = value
            before = snapshot()
            response = client.open(case.url(scene), method=case.method, json=body, headers=headers)
            where = f"{operation_id}.{name} with {label}: {response.status_code}"
            if response.status_code >= 500 or not response.is_json:
                problems.append(f"{where}: server error")
                continue
            refused = 400 <= response.status_code < 500
            if item_of and response.status_code == 200:  # each queued item is answered
                refused = response.json["results"][0]["result"] == "invalid"
            if expectation == "refused":
                if not refused:
                    problems.append(f"{where}: not refused")
                elif snapshot() != before:
                    problems.append(f"{where}: refused, but the database changed")
                elif (
                    not item_of
                    and response.status_code != 400  # NUL: refused before it is read
                    and name not in response.json["error"].get("fields", {})
                ):
                    problems.append(f"{where}: no message for the field")
            elif expectation == "kept" and refused:
                problems.append(f"{where}: a line break refused in a multi-line field")
            elif refused and snapshot() != before:
                problems.append(f"{where}: refused, but the database changed")
    assert not problems, "\n".join(problems)


def test_a_residents_non_ascii_address_is_taken_by_the_api(client, scene):
    for address in ADDRESSES:
        response = client.post(
            f"/api/v1/events/{scene.event.id}/registrations",
            json={"name": "Jānis Bērziņš", "email": address, "consent": True},
        )
        assert response.status_code == 201, (address, response.json)


def test_extreme_dates_and_unknown_values_in_api_queries(client, scene):
    headers = {"Authorization": f"Bearer {scene.token}"}
    for route, path in SPEC["paths"].items():
        operation = path.get("get")
        if operation is None or "{" in route:
            continue
        for parameter in operation.get("parameters", []):
            schema, values = parameter["schema"], []
            if schema.get("format") == "date":
                values = [*EXTREME_DATES, "20261118", "2026-02-30", ""]
            elif "enum" in schema:
                values = ["no-such-value", ""]
            elif schema.get("type") == "integer":
                values = ["0", "-1", str(2**31), "1.5", "x", ""]
            for value in values:
                response = client.get(
                    "/api/v1" + route, query_string={parameter["name"]: value}, headers=headers
                )
                assert response.status_code == 400, (route, parameter["name"], value)
                assert response.json["error"]["message"], (route, parameter["name"], value)


# --- bodies: too large, too deep, files, not JSON ------------------------------------------


def _all_json_urls(scene: Scene) -> list[tuple[str, dict, str]]:
    staff = {"Authorization": f"Bearer {scene.token}"}
    return [(case.url(scene), staff if case.staff else {}, case.method) for case in API.values()]


def test_a_body_just_over_the_limit_is_refused_before_it_is_read(app, client, scene):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 1024 * 1024
    for url, headers, method in _all_json_urls(scene):
        padding = "x" * (limit - len('{"name": ""}') + 1)
        body = json.dumps({"name": padding})
        assert len(body.encode()) == limit + 1
        before = snapshot()
        response = client.open(
            url, method=method, data=body, content_type="application/json", headers=headers
        )
        assert response.status_code == 413, url
        assert (
            response.json["error"]["code"] == "too_large"
            and "1 MB" in (response.json["error"]["message"])
        )
        assert snapshot() == before
    # A page: the registration form, over the limit by one byte.
    token = CSRF_RE.search(client.get(f"/events/{scene.event.id}").get_data(as_text=True))
    data = {**_registration(scene), "name": "Anna", "csrf_token": token.group(1)}
    encoded = "&".join(f"{k}={v}" for k, v in data.items())
    encoded += "&needs=" + "x" * (limit - len(encoded) - len("&needs=") + 1)
    assert len(encoded.encode()) == limit + 1
    response = client.post(
        f"/events/{scene.event.id}/register",
        data=encoded,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413 and "1 MB" in response.get_data(as_text=True)


def test_a_form_of_too_many_parts_is_refused(app, client, scene):
    """Flask 3.1's MAX_FORM_PARTS: a multipart form of more fields than any page has."""
    assert app.config["MAX_FORM_PARTS"] == 500  # Flask's default is 1,000
    token = CSRF_RE.search(client.get(f"/events/{scene.event.id}").get_data(as_text=True))
    parts = {f"x{i}": "1" for i in range(app.config["MAX_FORM_PARTS"] + 1)}
    before = snapshot()
    response = client.post(
        f"/events/{scene.event.id}/register",
        data={**_registration(scene), **parts, "csrf_token": token.group(1)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413
    assert snapshot() == before


def test_a_body_just_under_the_limit_is_read(app, client, scene):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = {"name": "Anna", "email": "a@example.lv", "consent": True, "needs": ""}
    body["needs"] = "x" * (limit - len(json.dumps(body)))
    response = client.post(
        f"/api/v1/events/{scene.event.id}/registrations",
        data=json.dumps(body),
        content_type="application/json",
    )
    assert response.status_code == 422 and "needs" in response.json["error"]["fields"]


def test_a_deep_json_body_is_refused_with_a_message(app, client, scene):
    message = translated(app, "The JSON body is nested too deeply.")
    token = CSRF_RE.search(client.get(f"/events/{scene.event.id}").get_data(as_text=True))
    form = (f"/events/{scene.event.id}/register", {"X-CSRFToken": token.group(1)}, "POST")
    for url, headers, method in [*_all_json_urls(scene), form]:
        before = snapshot()
        response = client.open(
            url, method=method, data="[" * 100_000, content_type="application/json", headers=headers
        )
        assert response.status_code == 422, url
        text = response.json["error"]["message"] if response.is_json else response.text
        assert message in text, url
        assert snapshot() == before


def test_a_file_in_a_text_field_is_refused(app, client, scene):
    message = translated(
        app, "Files cannot be sent here. Please send the form without attachments."
    )
    login(client, scene.world.admin.email)
    for page, url, data in (
        (f"/events/{scene.event.id}", f"/events/{scene.event.id}/register", _registration(scene)),
        ("/admin/users/new", "/admin/users/new", FORMS["UserForm"].data(scene)),
    ):
        token = CSRF_RE.search(client.get(page).get_data(as_text=True)).group(1)
        before = snapshot()
        response = client.post(
            url,
            data={**data, "csrf_token": token, "name": (io.BytesIO(b"%PDF-1.4"), "a.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 400, url
        assert message in response.get_data(as_text=True), url
        assert snapshot() == before
    response = client.post(
        f"/api/v1/events/{scene.event.id}/registrations",
        data={"name": (io.BytesIO(b"x"), "a.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and response.json["error"]["code"] == "file"


def test_json_sent_to_a_form_is_not_read_as_the_form(client, scene):
    """A JSON body never stands in for form fields (its values need not be text)."""
    token = CSRF_RE.search(client.get(f"/events/{scene.event.id}").get_data(as_text=True))
    before = snapshot()
    response = client.post(
        f"/events/{scene.event.id}/register",
        json={"name": ["Anna"], "email": {"a": 1}, "party_size": 1, "consent": True},
        headers={"X-CSRFToken": token.group(1)},
    )
    assert 400 <= response.status_code < 500
    assert snapshot() == before


def test_bytes_that_are_not_utf8_in_a_form_are_not_a_server_error(client, scene):
    token = CSRF_RE.search(client.get(f"/events/{scene.event.id}").get_data(as_text=True))
    for name in (b"\xed\xa0\x80", b"\xff", b"%ED%A0%80", b"%FF"):
        response = client.post(
            f"/events/{scene.event.id}/register",
            data=b"name="
            + name
            + b"&email=x%40example.lv&party_size=1&language=lv&consent=y&csrf_token="
            + token.group(1).encode(),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code < 500, name


# --- the services refuse them too (a CLI or a later API cannot skip the forms) -------------


def _service_calls(scene: Scene):
    w, admin, organiser, now = scene.world, scene.world.admin, scene.world.organiser_a, utcnow()
    event_data = event_service.EventData.from_event(scene.event)
    return {
        "account name": lambda v: account_service.save_user(
            admin,
            account_service.UserData("new@example.lv", v, w.admin.role, [], "long enough pw"),
        ),
        "account email": lambda v: account_service.save_user(
            admin,
            account_service.UserData(f"new@example.lv{v}", "Līga", w.admin.role, [], "long pw!!!"),
        ),
        "organisation name": lambda v: organisation_service.save_organisation(
            admin, organisation_service.OrganisationData(v, w.org_a.kind)
        ),
        "municipality name": lambda v: organisation_service.add_municipality(admin, v),
        "event title": lambda v: event_service.create_event(
            organiser, event_service.EventData(**{**vars(event_data), "title": v})
        ),
        "event venue": lambda v: event_service.create_event(
            organiser, event_service.EventData(**{**vars(event_data), "venue_name": v})
        ),
        "speaker name": lambda v: event_service.save_speaker(
            organiser, scene.event, event_service.SpeakerData(name=v)
        ),
        "activity title": lambda v: event_service.save_activity(
            organiser,
            scene.festival,
            event_service.ActivityData(v, scene.festival.starts_at, scene.festival.ends_at),
            None,
            now,
        ),
        "registration name": lambda v: rules.register(
            scene.event.id, factories.registration_request(name=v), now
        ),
        "registration phone": lambda v: rules.register(
            scene.event.id, factories.registration_request(phone=f"+371 2000{v}0000"), now
        ),
        "walk-in name": lambda v: register_walk_in(scene.event, v, 1, organiser, now),
        "token name": lambda v: create_token(organiser, v, now),
    }


@pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "a\x1bb", "a\u2028b", "a\ud800b"])
def test_the_services_refuse_control_characters_too(app, scene, value):
    for name, call in _service_calls(scene).items():
        before = snapshot()
        with pytest.raises(ValidationFailed) as refused:
            call(value)
        _db.session.rollback()
        assert refused.value.errors, name
        assert snapshot() == before, name
