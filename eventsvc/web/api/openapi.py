"""The OpenAPI 3.1 description of /api/v1, kept beside the routes it describes."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from ...models import TEXT_LANGUAGES, Activity, Attendance, Event, EventKind, Speaker, TargetGroup
from ...needs import NEEDS
from ...services.checkin import NONCE
from ...services.input_rules import (
    BLANK_PATTERN,
    DATE_PATTERN,
    DATE_TIME_PATTERN,
    MULTI_LINE_PATTERN,
    NAME_PATTERN,
    SINGLE_LINE_PATTERN,
)
from ...services.measures import english, english_needs_hidden
from ...services.registration import (
    EMAIL_PATTERN,
    LANGUAGES,
    MAX_NAME_LENGTH,
    MAX_NEEDS_LENGTH,
    MAX_PARTY_SIZE,
    MAX_PHONE_LENGTH,
    PHONE_PATTERN,
    Refusal,
    WindowState,
)
from ...services.stats import METRICS
from ..forms import MAX_PAGE
from . import bp

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_TIME = {"type": ["string", "null"], "format": "date-time"}
# The needs organisers plan for (eventsvc/needs.py), by name.
_NEED_NAMES = [need.value for need in NEEDS]
_ACCESS_NEEDS = {
    "type": "array",
    "items": {"type": "string", "enum": _NEED_NAMES},
    "description": "Accessibility needs the organiser can plan for, ticked from a fixed list: "
    + ", ".join(_NEED_NAMES)
    + ". Anything else goes into `needs` as words. A value not on the list is answered with "
    "400 `unknown_need`.",
}
# How the door and the lists show a party's needs: the ticked ones as words of the request's
# language, then the free text.
_NEEDS_TEXT = {
    "type": "string",
    "description": "the ticked needs as words (Accept-Language or the page's language), then the free text",
}
# What the server takes: ids as the database holds them, dates within the years it keeps,
# text without control characters (services/input_rules.py).
_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
_DATE = {"type": "string", "format": "date", "pattern": DATE_PATTERN}
_NAME = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_NAME_LENGTH,
    "pattern": NAME_PATTERN,
    "description": "one line, not blank",
}
_EMAIL = {
    "type": "string",
    "format": "email",
    "maxLength": 254,
    "pattern": EMAIL_PATTERN,
    "description": "an address mail can reach (not .test, .invalid, .local, .localhost, .onion, .arpa)",
}
_PHONE = {
    "type": "string",
    "pattern": PHONE_PATTERN,
    "maxLength": MAX_PHONE_LENGTH,
    "description": "6 to 25 digits, ( ) and -, after an optional +; spaces anywhere",
}
_BLANK = {"type": "string", "pattern": BLANK_PATTERN, "description": "none"}
_NONCE = {
    "type": "string",
    "pattern": f"^{NONCE.pattern}$",
    "description": "makes a retry idempotent",
}
_LOCAL_TEXT = {
    "type": "object",
    "required": ["text", "lang"],
    "properties": {
        "text": {"type": "string"},
        "lang": {
            "type": "string",
            "enum": ["lv", *TEXT_LANGUAGES],
            "description": "the language the text is written in (for a lang attribute): the "
            "requested one, or lv where it has no text of its own",
        },
    },
}


def _texts(names: tuple[str, ...]) -> dict:
    """`text`: each field in the language of Accept-Language (lv, ru, en), falling back to
    the Latvian; `translations`: the Russian and English as written (null: none)."""
    return {
        "text": {
            "type": "object",
            "required": list(names),
            "properties": {name: _LOCAL_TEXT for name in names},
        },
        "translations": {
            "type": "object",
            "required": list(TEXT_LANGUAGES),
            "properties": {
                lang: {
                    "type": "object",
                    "properties": {name: {"type": ["string", "null"]} for name in names},
                }
                for lang in TEXT_LANGUAGES
            },
        },
    }


_EVENT_SUMMARY = {
    "type": "object",
    "required": [
        "id",
        "title",
        "kind",
        "status",
        "starts_at",
        "ends_at",
        "registration_state",
        "places_left",
        "full",
        "url",
        "text",
        "translations",
    ],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string", "description": "in Latvian; see `text` for the localised"},
        "kind": {"type": "string", "enum": [k.value for k in EventKind]},
        "status": {"type": "string", "enum": ["published", "cancelled"]},
        "summary": {"type": "string"},
        "starts_at": {"type": "string", "format": "date-time"},
        "ends_at": {"type": "string", "format": "date-time"},
        "municipality": {"type": "string"},
        "organisation": {"type": "string"},
        "format": {"type": "string", "enum": ["in_person", "online", "hybrid"]},
        "target_groups": {
            "type": "array",
            "items": {"type": "string", "enum": [g.value for g in TargetGroup]},
        },
        "registration_state": {"type": "string", "enum": [s.value for s in WindowState]},
        "registration_closes_at": {
            "type": ["string", "null"],
            "format": "date-time",
            "description": "The deadline (exclusive); null: open until the event starts.",
        },
        "capacity": {"type": ["integer", "null"], "description": "people; null: no limit"},
        "places_left": {"type": ["integer", "null"], "minimum": 0, "description": "null: no limit"},
        "full": {
            "type": "boolean",
            "description": "No place left: a new registration goes on the waiting list.",
        },
        "url": {"type": "string"},
        **_texts(("title", "summary")),
    },
}
_PLACES = {"type": ["integer", "null"], "minimum": 0, "description": "null: no limit"}

_EVENT_ID = [{"name": "event_id", "in": "path", "required": True, "schema": _ID}]
_STAFF: list[dict[str, list[str]]] = [{"session": []}, {"token": []}]
_STAFF_ERRORS = {
    "401": _error("Not signed in and no valid token"),
    "403": _error("The account may not check people in"),
    "404": _error("No such event among the caller's organisations"),
}


def _or_null(schema: dict) -> dict:
    """An optional field that may also be sent as null (the same as leaving it out)."""
    return {"anyOf": [schema, {"type": "null"}]}


_TITLES = {"type": "array", "items": {"type": "string"}, "description": "activity titles"}
_CHECKIN_REQUEST = {
    "type": "object",
    "description": "a ticket `code`, or the `registration_id` of someone found in the list; "
    "null stands for a field left out",
    "anyOf": [
        {"required": ["code"], "properties": {"code": {"type": "string"}}},
        {"required": ["registration_id"], "properties": {"registration_id": {"type": "integer"}}},
    ],
    "additionalProperties": False,
    "properties": {
        "code": _or_null(
            {
                "type": "string",
                "pattern": SINGLE_LINE_PATTERN,
                "description": "the scanned or typed ticket code, or the ticket's short booking "
                "code (6 characters, unique within the event; case, spaces and dashes ignored); "
                "a wrong one is answered in `result`",
            }
        ),
        "registration_id": _or_null(
            {**_ID, "description": "instead of a code: someone found in the list"}
        ),
        "people": _or_null(
            {
                "type": "integer",
                "minimum": 1,
                "description": "default: everyone of the party not yet in",
            }
        ),
        "nonce": _or_null(_NONCE),
        "device": _or_null({"type": "string", "maxLength": 64, "pattern": SINGLE_LINE_PATTERN}),
        "scanned_at": _or_null(
            {
                "type": "string",
                "format": "date-time",
                "pattern": DATE_TIME_PATTERN,
                "description": "when an offline device saw it",
            }
        ),
    },
}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "eventsvc API",
        "version": "1",
        "description": "Public community events: the calendar, one event, and registering for it. "
        "Messages, and each event's `text`, are in the language of the Accept-Language header "
        "(lv, ru, en); an event's text not written in it is given in Latvian, with `lang` "
        "saying so. The plain text fields (title, summary, …) are always the Latvian.",
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/events": {
            "get": {
                "operationId": "listEvents",
                "summary": "Upcoming public events, soonest first",
                "parameters": [
                    {"name": "municipality", "in": "query", "schema": _ID},
                    {
                        "name": "kind",
                        "in": "query",
                        "schema": {"type": "string", "enum": [k.value for k in EventKind]},
                    },
                    {
                        "name": "target_group",
                        "in": "query",
                        "schema": {"type": "string", "enum": [g.value for g in TargetGroup]},
                    },
                    {"name": "from", "in": "query", "schema": _DATE},
                    {"name": "to", "in": "query", "schema": _DATE},
                    {
                        "name": "page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                    },
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "A page of events",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["events", "page", "pages", "total"],
                                    "properties": {
                                        "events": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/EventSummary"},
                                        },
                                        "page": {"type": "integer"},
                                        "pages": {"type": "integer"},
                                        "total": {"type": "integer"},
                                    },
                                }
                            }
                        },
                    },
                    "400": _error(
                        "A filter value is not understood (`bad_filter`), or page/per_page out of range (`bad_page`)"
                    ),
                    "429": _error("Too many requests"),
                },
            }
        },
        "/events/{event_id}": {
            "parameters": [{"name": "event_id", "in": "path", "required": True, "schema": _ID}],
            "get": {
                "operationId": "getEvent",
                "summary": "One public event with its registration state and places left",
                "responses": {
                    "200": {
                        "description": "The event",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Event"}}
                        },
                    },
                    "404": _error("No such public event"),
                    "429": _error("Too many requests"),
                },
            },
        },
        "/events/{event_id}/registrations": {
            "parameters": [{"name": "event_id", "in": "path", "required": True, "schema": _ID}],
            "post": {
                "operationId": "register",
                "summary": "Register a party; confirmed if it fits, otherwise on the waiting list",
                "description": "With an email address, the ticket and the private manage link are sent "
                "there and `manage_url` is null; an address that is already registered gets exactly the "
                "same answer (and its ticket again by email). Without email, `manage_url` is the only key.\n\n"
                "A full activity never costs the party its place at the event: `status` is the event "
                "place, and `activities` says for each activity asked for whether the party holds a "
                "place in it (`confirmed`) or waits on that activity's own list (`waitlisted`, with "
                "its `waitlist_position`; null while the party waits for the event itself). Waiting "
                "lists are first come, first served for whole parties: a party too large for the "
                "places that free up keeps its turn, and a later one that fits takes them. A party "
                "that gets a place from a waiting list is told by email.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/RegistrationRequest"}
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "Registered",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/RegistrationCreated"}
                            }
                        },
                    },
                    "400": _error(
                        "An accessibility need not on the list (`unknown_need`), or a request "
                        "that could not be read"
                    ),
                    "404": _error("No such public event"),
                    "409": _error(
                        "Registration not possible now; `code` is one of: "
                        + ", ".join(r.value for r in Refusal)
                    ),
                    "422": _error("Invalid fields; `fields` has a message per field"),
                    "429": _error("Too many requests"),
                },
            },
        },
        "/events/{event_id}/checkins": {
            "parameters": _EVENT_ID,
            "post": {
                "operationId": "checkIn",
                "summary": "Check in a ticket code or a registration (staff)",
                "security": _STAFF,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _CHECKIN_REQUEST}},
                },
                "responses": {
                    "200": _json(
                        {"$ref": "#/components/schemas/CheckInResult"}, "The result, good or bad"
                    ),
                    "422": _error("Invalid fields"),
                    **_STAFF_ERRORS,
                },
            },
        },
        "/events/{event_id}/checkins/sync": {
            "parameters": _EVENT_ID,
            "post": {
                "operationId": "syncCheckIns",
                "summary": "An offline device's queued check-ins, in order (staff)",
                "security": _STAFF,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["checkins"],
                                "additionalProperties": False,
                                "properties": {
                                    "checkins": {
                                        "type": "array",
                                        "maxItems": 1000,
                                        # Each item is checked on its own: one that is not a
                                        # check-in request is answered as `invalid` in
                                        # `results`, and the rest of the queue goes on.
                                        "items": {},
                                        "description": "check-in requests (as for checkIn); "
                                        "each is answered in `results`, an invalid one as `invalid`",
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["results"],
                            "properties": {
                                "results": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/CheckInResult"},
                                }
                            },
                        }
                    ),
                    "422": _error("Not a list of check-ins"),
                    **_STAFF_ERRORS,
                },
            },
        },
        "/events/{event_id}/checkins/{checkin_id}": {
            "parameters": [
                *_EVENT_ID,
                {"name": "checkin_id", "in": "path", "required": True, "schema": _ID},
            ],
            "delete": {
                "operationId": "undoCheckIn",
                "summary": "Undo a check-in made by mistake (staff)",
                "security": _STAFF,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "checkin_id": {"type": "integer"},
                                "undone": {"type": "boolean"},
                                "registration_id": {"type": "integer"},
                                "name": {"type": "string", "description": "whose check-in"},
                                "people": {"type": "integer"},
                                "checked_in_people": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        }
                    ),
                    **_STAFF_ERRORS,
                },
            },
        },
        "/events/{event_id}/checkins/state": {
            "parameters": _EVENT_ID,
            "get": {
                "operationId": "checkInState",
                "summary": "Live counts at the door (staff)",
                "security": _STAFF,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["checked_in_people", "confirmed_people", "capacity"],
                            "properties": {
                                "checked_in_people": {
                                    "type": "integer",
                                    "description": english("people_checked_in"),
                                },
                                "confirmed_people": {
                                    "type": "integer",
                                    "description": english("places_taken"),
                                },
                                "capacity": _PLACES,
                                "walk_in_people": {
                                    "type": "integer",
                                    "description": english("walk_ins"),
                                },
                            },
                        }
                    ),
                    **_STAFF_ERRORS,
                },
            },
        },
        "/events/{event_id}/checkins/offline": {
            "parameters": _EVENT_ID,
            "get": {
                "operationId": "offlineTicketList",
                "summary": "The event's tickets for working offline: SHA-256 of each code, booking code, name, party, state, activities and needs (staff)",
                "security": _STAFF,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["tickets"],
                            "properties": {
                                "event_id": {"type": "integer"},
                                "generated_at": {"type": "string", "format": "date-time"},
                                "tickets": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "ticket": {"type": "string"},
                                            "booking_code": {"type": "string"},
                                            "registration_id": {"type": "integer"},
                                            "name": {"type": "string"},
                                            "party_size": {"type": "integer"},
                                            "status": {"type": "string"},
                                            "checked_in_people": {"type": "integer"},
                                            "activities": _TITLES,
                                            "needs": {"type": "string"},
                                            "access_needs": {
                                                "type": "array",
                                                "items": {"type": "string", "enum": _NEED_NAMES},
                                            },
                                            "needs_text": _NEEDS_TEXT,
                                            "search": {
                                                "type": "string",
                                                "description": "the folded words it is found"
                                                " by, each after a space",
                                            },
                                        },
                                    },
                                },
                            },
                        }
                    ),
                    **_STAFF_ERRORS,
                },
            },
        },
        "/events/{event_id}/attendees": {
            "parameters": [
                *_EVENT_ID,
                {
                    "name": "q",
                    "in": "query",
                    "schema": {"type": "string", "maxLength": 100},
                    "description": "words of a name or a phone number",
                },
            ],
            "get": {
                "operationId": "findAttendees",
                "summary": "Registrations whose words begin with those of q (name, phone digits or booking code; case and diacritics ignored), with people checked in (staff)",
                "security": _STAFF,
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "attendees": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "registration_id": {"type": "integer"},
                                            "name": {"type": "string"},
                                            "phone": {
                                                "type": ["string", "null"],
                                                "description": "null for door-only accounts",
                                            },
                                            "party_size": {"type": "integer"},
                                            "status": {"type": "string"},
                                            "checked_in_people": {"type": "integer"},
                                            "activities": _TITLES,
                                            "needs": {"type": "string"},
                                            "access_needs": {
                                                "type": "array",
                                                "items": {"type": "string", "enum": _NEED_NAMES},
                                            },
                                            "needs_text": _NEEDS_TEXT,
                                            "booking_code": {"type": "string"},
                                        },
                                    },
                                }
                            },
                        }
                    ),
                    **_STAFF_ERRORS,
                },
            },
        },
        "/events/{event_id}/walkins": {
            "parameters": _EVENT_ID,
            "post": {
                "operationId": "walkIn",
                "summary": "Register someone at the door and check them in (staff)",
                "security": _STAFF,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "additionalProperties": False,
                                "properties": {
                                    "name": _NAME,
                                    "people": {
                                        "type": "integer",
                                        "minimum": 1,
                                        "maximum": MAX_PARTY_SIZE,
                                        "default": 1,
                                    },
                                    "nonce": _or_null(_NONCE),
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": _json(
                        {"$ref": "#/components/schemas/CheckInResult"}, "Registered and checked in"
                    ),
                    "409": _error("No places left"),
                    "422": _error("Invalid fields"),
                    **_STAFF_ERRORS,
                },
            },
        },
        "/stats/attendance": {
            "get": {
                "operationId": "attendanceTotals",
                "summary": "Attendance totals, optionally grouped; never a person (ministry, admins; organisers: their own)",
                "description": "Each field of Totals is described where it is defined. Only "
                "events that have ended count towards no-shows, people who waited in vain and the "
                "attendance rate; upcoming_events and upcoming_people_registered show the rest "
                "apart. attendance_rate is null for a group without an ended event.",
                "security": _STAFF,
                "parameters": [
                    {
                        "name": "group_by",
                        "in": "query",
                        "schema": {
                            "type": "string",
                            "enum": ["municipality", "campaign", "kind", "target_group", "month"],
                        },
                    },
                    {"name": "date_from", "in": "query", "schema": _DATE},
                    {"name": "date_to", "in": "query", "schema": _DATE},
                    {"name": "municipality", "in": "query", "schema": _ID},
                    {"name": "campaign", "in": "query", "schema": _ID},
                    {
                        "name": "year",
                        "in": "query",
                        "description": "Events starting in this year (Riga time)",
                        "schema": {"type": "integer", "minimum": 1900, "maximum": 2999},
                    },
                    {
                        "name": "month",
                        "in": "query",
                        "description": "Events starting in this month (1-12): of `year` when "
                        "given, otherwise of every year",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 12},
                    },
                    {
                        "name": "kind",
                        "in": "query",
                        "schema": {"type": "string", "enum": [k.value for k in EventKind]},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "required": ["totals"],
                            "properties": {
                                "filters": {"type": "object"},
                                "totals": {"$ref": "#/components/schemas/Totals"},
                                "group_by": {"type": "string"},
                                "groups": {
                                    "type": "array",
                                    "items": {
                                        "allOf": [
                                            {"$ref": "#/components/schemas/Totals"},
                                            {
                                                "type": "object",
                                                "required": ["key", "label"],
                                                "properties": {
                                                    "key": {"type": "string"},
                                                    "label": {"type": "string"},
                                                },
                                            },
                                        ]
                                    },
                                },
                            },
                        }
                    ),
                    "400": _error("Unknown group_by or filter"),
                    "401": _error("Not signed in and no valid token"),
                    "403": _error("The account may not read totals"),
                },
            },
        },
        "/registrations/{token}": {
            "parameters": [
                {
                    "name": "token",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "pattern": SINGLE_LINE_PATTERN},
                }
            ],
            "get": {
                "operationId": "getRegistration",
                "summary": "The registration this private token belongs to",
                "responses": {
                    "200": {
                        "description": "The registration",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Registration"}
                            }
                        },
                    },
                    "404": _error("Unknown token"),
                    "429": _error("Too many requests"),
                },
            },
            "patch": {
                "operationId": "changeRegistration",
                "summary": "Change the registration, as its private link does; the fields sent change",
                "description": "Until the event starts, under the rules a new registration meets: "
                "more people, or coming in person instead of watching online, need free places "
                "(409 `no_room` otherwise); an activity that is full puts the party on its waiting "
                "list. `access_needs` replaces the ticked needs (`[]` unticks them all). Every "
                "change is confirmed by mail.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/RegistrationChange"}
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "Changed (or nothing to change)",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Registration"}
                            }
                        },
                    },
                    "400": _error(
                        "An accessibility need not on the list (`unknown_need`), or a request "
                        "that could not be read"
                    ),
                    "404": _error("Unknown token"),
                    "409": _error(
                        "Cancelled, too late to change online (`not_changeable`), or no room "
                        "(`no_room`)"
                    ),
                    "422": _error("Invalid fields; `fields` has a message per field"),
                    "429": _error("Too many requests"),
                },
            },
            "delete": {
                "operationId": "cancelRegistration",
                "summary": "Cancel the registration; its places go to the waiting list",
                "responses": {
                    "200": {
                        "description": "Cancelled",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Registration"}
                            }
                        },
                    },
                    "404": _error("Unknown token"),
                    "409": _error("Already cancelled, or too late to change online"),
                    "429": _error("Too many requests"),
                },
            },
        },
    },
    "components": {
        "securitySchemes": {
            "session": {
                "type": "apiKey",
                "in": "cookie",
                "name": "session",
                "description": "the organiser's signed-in session; writes also need the X-CSRFToken header",
            },
            "token": {
                "type": "http",
                "scheme": "bearer",
                "description": "a personal API token (account page, or `flask users token`)",
            },
        },
        "schemas": {
            "Error": _ERROR,
            "Totals": {
                "type": "object",
                "description": "Every number is defined once (services/measures.py); no-shows, "
                "waited in vain and the attendance rate count only events that have ended, and "
                "upcoming events are counted apart.",
                "required": [*METRICS, "attendance_rate", "needs"],
                "properties": {
                    **{
                        name: {"type": "integer", "minimum": 0, "description": english(name)}
                        for name in METRICS
                    },
                    "attendance_rate": {
                        "type": ["number", "null"],
                        "minimum": 0,
                        "maximum": 1,
                        "description": english("attendance_rate")
                        + " A fraction from 0 to 1; null where there is none.",
                    },
                    "needs": {
                        "type": "object",
                        "description": f"{english('needs')} {english_needs_hidden()} "
                        "A hidden count is null.",
                        "required": _NEED_NAMES,
                        "additionalProperties": False,
                        "properties": {
                            name: {"type": ["integer", "null"], "minimum": 0}
                            for name in _NEED_NAMES
                        },
                    },
                },
            },
            "CheckInResult": {
                "type": "object",
                "required": ["result", "ok", "message"],
                "properties": {
                    "result": {
                        "type": "string",
                        "enum": [
                            "checked_in",
                            "already_checked_in",
                            "malformed",
                            "unknown_ticket",
                            "other_event",
                            "cancelled",
                            "waitlisted",
                            "too_many_people",
                            "not_found",
                            "invalid",
                        ],
                    },
                    "ok": {"type": "boolean"},
                    "message": {"type": "string"},
                    "checkin_id": {"type": ["integer", "null"]},
                    "nonce": {"type": ["string", "null"]},
                    "attendee": {
                        "type": ["object", "null"],
                        "properties": {
                            "registration_id": {"type": "integer"},
                            "name": {"type": "string"},
                            "party_size": {"type": "integer"},
                            "checked_in_people": {"type": "integer"},
                            "walk_in": {"type": "boolean"},
                            "activities": _TITLES,
                            "needs": {
                                "type": "string",
                                "description": "accessibility needs in words",
                            },
                            "access_needs": {
                                "type": "array",
                                "items": {"type": "string", "enum": _NEED_NAMES},
                            },
                            "needs_text": _NEEDS_TEXT,
                            "booking_code": {"type": "string"},
                        },
                    },
                    "previous": {
                        "type": ["object", "null"],
                        "properties": {
                            "at": {"type": "string", "format": "date-time"},
                            "time": {"type": "string"},
                            "by": {"type": ["string", "null"]},
                        },
                    },
                },
            },
            "EventSummary": _EVENT_SUMMARY,
            "Event": {
                "allOf": [
                    {"$ref": "#/components/schemas/EventSummary"},
                    {
                        "type": "object",
                        "required": ["registration", "activities", "speakers"],
                        "properties": {
                            "description": {"type": "string"},
                            "venue_name": {"type": "string"},
                            "venue_address": {"type": "string"},
                            "desk_opens_at": _TIME,
                            "stream_url": {
                                "type": ["string", "null"],
                                "description": "The online stream's link when its organiser "
                                "made it public; otherwise null, and registrants taking part "
                                "online find it in their registration "
                                "(GET /registrations/{token}) and their mails.",
                            },
                            "accessibility": {"type": "string"},
                            **_texts(Event.TRANSLATED),
                            "language": {
                                "type": "string",
                                "description": "the language the event is held in",
                            },
                            "campaign": {"type": ["string", "null"]},
                            "registration": {
                                "type": "object",
                                "required": [
                                    "state",
                                    "message",
                                    "capacity",
                                    "places_left",
                                    "waitlisted_people",
                                ],
                                "properties": {
                                    "state": {
                                        "type": "string",
                                        "enum": [s.value for s in WindowState],
                                    },
                                    "message": {"type": "string"},
                                    "opens_at": _TIME,
                                    "closes_at": _TIME,
                                    "capacity": _PLACES,
                                    "places_left": _PLACES,
                                    "waitlisted_people": {"type": "integer", "minimum": 0},
                                },
                            },
                            "speakers": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "name": {"type": "string"},
                                        "title": {"type": "string"},
                                        "organisation": {"type": "string"},
                                        "role": {
                                            "type": "string",
                                            "enum": ["moderator", "panellist"],
                                        },
                                        **_texts(Speaker.TRANSLATED),
                                    },
                                },
                            },
                            "activities": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["id", "title", "places_left"],
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "title": {"type": "string"},
                                        "kind": {"type": "string"},
                                        "starts_at": {"type": "string", "format": "date-time"},
                                        "ends_at": {"type": "string", "format": "date-time"},
                                        "location": {"type": "string"},
                                        "capacity": _PLACES,
                                        "places_left": _PLACES,
                                        "waiting_parties": {
                                            "type": "integer",
                                            "minimum": 0,
                                            "description": "parties on its own waiting list",
                                        },
                                        **_texts(Activity.TRANSLATED),
                                    },
                                },
                            },
                        },
                    },
                ]
            },
            "RegistrationRequest": {
                "type": "object",
                "required": ["name", "consent"],
                "additionalProperties": False,
                "description": "An email address or a phone number is required; null or blank "
                "stands for a field left out. `activity_ids` are ids of this event's activities "
                "and `attendance` is required at a hybrid event: the server answers 422 for the "
                "field otherwise.",
                "anyOf": [
                    {"required": ["email"], "properties": {"email": _EMAIL}},
                    {"required": ["phone"], "properties": {"phone": _PHONE}},
                ],
                "properties": {
                    "name": _NAME,
                    "email": {"anyOf": [{"type": "null"}, _EMAIL, _BLANK]},
                    "phone": {"anyOf": [{"type": "null"}, _PHONE, _BLANK]},
                    "party_size": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PARTY_SIZE,
                        "default": 1,
                    },
                    "activity_ids": {
                        "type": "array",
                        "items": _ID,
                        "default": [],
                        "description": "ids of this event's activities",
                    },
                    "attendance": {
                        "type": ["string", "null"],
                        "enum": [a.value for a in Attendance] + [None],
                        "description": "required for a hybrid event",
                    },
                    "needs": {
                        "type": ["string", "null"],
                        "maxLength": MAX_NEEDS_LENGTH,
                        "pattern": MULTI_LINE_PATTERN,
                        "description": "other accessibility needs, in words",
                    },
                    "access_needs": {"anyOf": [{"type": "null"}, _ACCESS_NEEDS]},
                    "language": {"type": "string", "enum": list(LANGUAGES), "default": "lv"},
                    "consent": {"const": True, "description": "must be true"},
                    "join_waitlist": {
                        "type": "boolean",
                        "default": True,
                        "description": "false: answer 409 `full` (or `activity_full`) instead of"
                        " waiting for the event (or for an activity)",
                    },
                    "follow_up_consent": {
                        "type": "boolean",
                        "default": False,
                        "description": "optional: true if the resident agrees that the social "
                        "service contacts them after the event if they could not come (ask; "
                        "never preset). They can withdraw it through their private link.",
                    },
                },
            },
            "RegistrationChange": {
                "type": "object",
                "additionalProperties": False,
                "description": "What to change; a field left out (or null) stays as it is. What "
                "the registration and its event allow is checked as for a new one (422 for the "
                "field): an email or a phone number must remain, and an address may not be "
                "another registration's of the event; `activity_ids` are ids of the event's "
                "activities, `attendance` changes only at a hybrid event, and `party_size` is "
                "not below the people already let in.",
                "properties": {
                    "party_size": {
                        "type": ["integer", "null"],
                        "minimum": 1,
                        "maximum": MAX_PARTY_SIZE,
                    },
                    "attendance": {
                        "type": ["string", "null"],
                        "enum": [a.value for a in Attendance] + [None],
                        "description": "only at a hybrid event",
                    },
                    "activity_ids": {
                        "anyOf": [{"type": "null"}, {"type": "array", "items": _ID}],
                        "description": "all the activities wanted (ids of this event's)",
                    },
                    "needs": {
                        "type": ["string", "null"],
                        "maxLength": MAX_NEEDS_LENGTH,
                        "pattern": MULTI_LINE_PATTERN,
                        "description": "other accessibility needs, in words",
                    },
                    "access_needs": {"anyOf": [{"type": "null"}, _ACCESS_NEEDS]},
                    "email": {"anyOf": [{"type": "null"}, _EMAIL, _BLANK]},
                    "phone": {"anyOf": [{"type": "null"}, _PHONE, _BLANK]},
                    "language": {"type": ["string", "null"], "enum": [*LANGUAGES, None]},
                },
            },
            "ActivityChoice": {
                "type": "object",
                "description": "Where the party stands in an activity it asked for",
                "required": ["id", "title", "status", "waitlist_position"],
                "properties": {
                    "id": {"type": "integer"},
                    "title": {"type": "string"},
                    "status": {
                        "type": "string",
                        "enum": ["confirmed", "waitlisted"],
                        "description": "confirmed: the party holds a place in it",
                    },
                    "waitlist_position": {
                        "type": ["integer", "null"],
                        "minimum": 1,
                        "description": "place in the activity's own waiting list; null when"
                        " confirmed, or while the party waits for the event itself",
                    },
                },
            },
            "RegistrationCreated": {
                "type": "object",
                "required": [
                    "status",
                    "waitlist_position",
                    "event_id",
                    "manage_url",
                    "activities",
                    "message",
                ],
                "properties": {
                    "status": {
                        "type": "string",
                        "enum": ["confirmed", "waitlisted"],
                        "description": "the place at the event",
                    },
                    "waitlist_position": {"type": ["integer", "null"], "minimum": 1},
                    "event_id": {"type": "integer"},
                    "manage_url": {"type": ["string", "null"]},
                    "activities": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/ActivityChoice"},
                    },
                    "message": {"type": "string"},
                },
            },
            "Registration": {
                "type": "object",
                "required": ["status", "party_size", "event_id"],
                "properties": {
                    "status": {"type": "string", "enum": ["confirmed", "waitlisted", "cancelled"]},
                    "waitlist_position": {"type": ["integer", "null"]},
                    "name": {"type": "string"},
                    "party_size": {"type": "integer"},
                    "attendance": {"type": "string", "enum": [a.value for a in Attendance]},
                    "activity_ids": {"type": "array", "items": {"type": "integer"}},
                    "activities": {
                        "type": "array",
                        "items": {"$ref": "#/components/schemas/ActivityChoice"},
                    },
                    "needs": {"type": "string", "description": "other accessibility needs"},
                    "access_needs": {
                        "type": "array",
                        "items": {"type": "string", "enum": _NEED_NAMES},
                        "description": "the accessibility needs ticked from the list",
                    },
                    "language": {"type": "string"},
                    "event_id": {"type": "integer"},
                    "event_title": {"type": "string"},
                    "event_title_text": {
                        **_LOCAL_TEXT,
                        "description": "the title in the registrant's language, or Latvian",
                    },
                    "starts_at": {"type": "string", "format": "date-time"},
                    "stream_url": {
                        "type": ["string", "null"],
                        "description": "The online stream's link, for a party that holds a "
                        "place online; null otherwise.",
                    },
                    "follow_up_consent": {
                        "type": "boolean",
                        "description": "whether the resident agrees to be contacted after the "
                        "event if they could not come",
                    },
                },
            },
        },
    },
}

# What any operation may answer besides its own: 400 for a request that cannot be read (a
# NUL byte in a value, a session write without its X-CSRFToken header), 404 where the path
# names something, 413 for a body over 1 MB, 422 for a JSON body that cannot be parsed,
# 429 past a rate limit, 503 while the database cannot be reached (with Retry-After).
for _route, _path in SPEC["paths"].items():
    for _method, _operation in _path.items():
        if _method == "parameters":
            continue
        _responses = _operation["responses"]
        _responses.setdefault("400", _error("The request could not be read"))
        if "{" in _route:
            _responses.setdefault("404", _error("Not found"))
        if "requestBody" in _operation:
            _responses.setdefault("413", _error("The body is larger than 1 MB"))
            _responses.setdefault("422", _error("The body is not JSON, or a field is invalid"))
        _responses.setdefault("429", _error("Too many requests"))
        _responses.setdefault("503", _error("The service is briefly unavailable; retry later"))


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
