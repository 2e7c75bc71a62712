"""The OpenAPI 3.1 description of /api/v1, kept beside the routes it describes."""

from __future__ import annotations

from flask import jsonify

from ...models import Attendance, EventKind, TargetGroup
from ...services.registration import LANGUAGES, MAX_PARTY_SIZE, Refusal, WindowState
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
        "url",
    ],
    "properties": {
        "id": {"type": "integer"},
        "title": {"type": "string"},
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
        "url": {"type": "string"},
    },
}
_PLACES = {"type": ["integer", "null"], "minimum": 0, "description": "null: no limit"}

_EVENT_ID = [{"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_STAFF = [{"session": []}, {"token": []}]
_STAFF_ERRORS = {
    "401": _error("Not signed in and no valid token"),
    "403": _error("The account may not check people in"),
    "404": _error("No such event among the caller's organisations"),
}
_TITLES = {"type": "array", "items": {"type": "string"}, "description": "activity titles"}
_CHECKIN_REQUEST = {
    "type": "object",
    "properties": {
        "code": {
            "type": "string",
            "description": "the scanned or typed ticket code, or the ticket's short booking"
            " code (6 characters, unique within the event; case, spaces and dashes ignored)",
        },
        "registration_id": {
            "type": "integer",
            "description": "instead of a code: someone found in the list",
        },
        "people": {
            "type": "integer",
            "minimum": 1,
            "description": "default: everyone of the party not yet in",
        },
        "nonce": {
            "type": "string",
            "pattern": "^[A-Za-z0-9_.:-]{8,64}$",
            "description": "makes a retry idempotent",
        },
        "device": {"type": "string", "maxLength": 64},
        "scanned_at": {
            "type": "string",
            "format": "date-time",
            "description": "when an offline device saw it",
        },
    },
}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SPEC = {
    "openapi": "3.1.0",
    "info": {
        "title": "eventsvc API",
        "version": "1",
        "description": "Public community events: the calendar, one event, and registering for it. "
        "Messages are in the language of the Accept-Language header (lv, en).",
    },
    "servers": [{"url": "/api/v1"}],
    "paths": {
        "/events": {
            "get": {
                "operationId": "listEvents",
                "summary": "Upcoming public events, soonest first",
                "parameters": [
                    {"name": "municipality", "in": "query", "schema": {"type": "integer"}},
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
                    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
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
            "parameters": [
                {"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
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
            "parameters": [
                {"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "post": {
                "operationId": "register",
                "summary": "Register a party; confirmed if it fits, otherwise on the waiting list",
                "description": "With an email address, the ticket and the private manage link are sent "
                "there and `manage_url` is null; an address that is already registered gets exactly the "
                "same answer (and its ticket again by email). Without email, `manage_url` is the only key.",
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
                                "properties": {
                                    "checkins": {
                                        "type": "array",
                                        "maxItems": 1000,
                                        "items": _CHECKIN_REQUEST,
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
                {
                    "name": "checkin_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                },
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
                                "checked_in_people": {"type": "integer"},
                                "confirmed_people": {"type": "integer"},
                                "capacity": _PLACES,
                                "walk_in_people": {"type": "integer"},
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
                {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 100}},
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
                                "properties": {
                                    "name": {"type": "string"},
                                    "people": {"type": "integer", "minimum": 1},
                                    "nonce": {"type": "string"},
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
                    {
                        "name": "date_from",
                        "in": "query",
                        "schema": {"type": "string", "format": "date"},
                    },
                    {
                        "name": "date_to",
                        "in": "query",
                        "schema": {"type": "string", "format": "date"},
                    },
                    {"name": "municipality", "in": "query", "schema": {"type": "integer"}},
                    {"name": "campaign", "in": "query", "schema": {"type": "integer"}},
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
                {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
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
                "required": [
                    "events",
                    "registrations",
                    "people_registered",
                    "people_checked_in",
                    "attendance_rate",
                ],
                "properties": {
                    **{
                        name: {"type": "integer", "minimum": 0}
                        for name in (
                            "events",
                            "registrations",
                            "people_registered",
                            "people_in_person",
                            "people_online",
                            "people_checked_in",
                            "checked_in_registered",
                            "walk_ins",
                            "no_shows",
                            "waitlisted_never_placed",
                        )
                    },
                    "attendance_rate": {
                        "type": ["number", "null"],
                        "description": "checked in from registrations ÷ registered in person",
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
                            "needs": {"type": "string", "description": "accessibility needs"},
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
                            "stream_url": {"type": ["string", "null"]},
                            "accessibility": {"type": "string"},
                            "language": {"type": "string"},
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
                "properties": {
                    "name": {"type": "string", "maxLength": 120},
                    "email": {"type": ["string", "null"], "format": "email"},
                    "phone": {
                        "type": ["string", "null"],
                        "description": "required when there is no email",
                    },
                    "party_size": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_PARTY_SIZE,
                        "default": 1,
                    },
                    "activity_ids": {"type": "array", "items": {"type": "integer"}, "default": []},
                    "attendance": {
                        "type": ["string", "null"],
                        "enum": [a.value for a in Attendance] + [None],
                        "description": "required for a hybrid event",
                    },
                    "needs": {"type": "string", "maxLength": 2000},
                    "language": {"type": "string", "enum": list(LANGUAGES), "default": "lv"},
                    "consent": {"type": "boolean", "description": "must be true"},
                    "join_waitlist": {
                        "type": "boolean",
                        "default": True,
                        "description": "false: answer 409 `full` instead of waiting",
                    },
                },
            },
            "RegistrationCreated": {
                "type": "object",
                "required": ["status", "waitlist_position", "event_id", "manage_url", "message"],
                "properties": {
                    "status": {"type": "string", "enum": ["confirmed", "waitlisted"]},
                    "waitlist_position": {"type": ["integer", "null"], "minimum": 1},
                    "event_id": {"type": "integer"},
                    "manage_url": {"type": ["string", "null"]},
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
                    "language": {"type": "string"},
                    "event_id": {"type": "integer"},
                    "event_title": {"type": "string"},
                    "starts_at": {"type": "string", "format": "date-time"},
                },
            },
        },
    },
}

# Any operation may answer 400: a request that cannot be read (a NUL byte in a value, a
# session write without its X-CSRFToken header).
for _path in SPEC["paths"].values():
    for _method, _operation in _path.items():
        if _method != "parameters":
            _operation["responses"].setdefault("400", _error("The request could not be read"))


@bp.get("/openapi.json")
def openapi():
    return jsonify(SPEC)
