"""schemathesis against /api/v1/openapi.json, with every check it has (the equivalent of
`schemathesis run --checks all`): no server error; status codes, content types, headers and
bodies as the document says; schema-valid requests accepted and schema-invalid ones
refused; methods the document does not name answered 405 with Allow; no credentials
ignored; nothing usable after it was deleted.

The run is schemathesis' own engine (the CLI's, in-process) against the app served over
HTTP: every phase (examples, coverage, fuzzing, stateful sequences), a fixed number of
examples per operation, derandomized with a fixed seed (the same requests every run), no
example database. Staff operations carry an organiser's Bearer token; event ids are real
ones half of the time, so that what lies behind the 404s is fuzzed too.
"""

from __future__ import annotations

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, EventFormat, EventKind
from eventsvc.services import registration as rules
from eventsvc.services.api_tokens import create_token

from . import factories

EXAMPLES = 10  # per operation and phase
SEED = 20261118
# Registering: the two rules a schema cannot say, because they depend on the event's own
# current data (its activities, whether it is hybrid). The document names them, and the
# server answers them with a 422 for that field; any other 422 to a schema-valid
# registration is still a failure (the check below).
EVENT_DEPENDENT_FIELDS = {"activity_ids", "attendance"}
# A change depends on the registration as it is too (the document says so): an email or a
# phone must remain, an address another registration of the event has is refused, and the
# party cannot shrink below the people already let in.
CHANGE_DEPENDENT_FIELDS = EVENT_DEPENDENT_FIELDS | {"email", "phone", "party_size"}
DEPENDENT_FIELDS = {
    "register": EVENT_DEPENDENT_FIELDS,
    "changeRegistration": CHANGE_DEPENDENT_FIELDS,
}


@schemathesis.check
def refuses_valid_registrations_only_for_the_event(ctx, response, case):
    """A schema-valid registration (or change) refused with 422 names only the fields that
    depend on the event (and the registration)."""
    meta = case.meta
    operation = case.operation.definition.raw.get("operationId")
    if (
        operation in DEPENDENT_FIELDS
        and meta is not None
        and meta.generation.mode.is_positive
        and response.status_code == 422
    ):
        fields = set(response.json()["error"].get("fields", {}))
        assert fields and fields <= DEPENDENT_FIELDS[operation], (
            f"a schema-valid {operation} was refused for {sorted(fields)}"
        )


def seeded_world(world, in_days, now):
    """A plain event with a registration, a hybrid festival with an activity, and a token."""
    event = factories.event(world.org_a, in_days(10), capacity=30)
    festival = factories.event(
        world.org_a,
        in_days(12),
        kind=EventKind.FESTIVAL,
        format=EventFormat.HYBRID,
        stream_url="https://video.example.lv/live",
        title="Pagalmu svētki",
    )
    festival.activities.append(
        Activity(
            title="Darbnīca", starts_at=festival.starts_at, ends_at=festival.ends_at, capacity=5
        )
    )
    registration = rules.register(
        event.id, factories.registration_request(name="Anna Bērziņa"), now
    ).registration
    _, token = create_token(world.organiser_a, "fuzz", now)
    _db.session.commit()
    return {"events": [event.id, festival.id], "tokens": [registration.manage_token]}, token


def failures_of(stream) -> list[str]:
    """Each failed check (and each error of the engine itself) of a run, in words."""
    found = []
    for event in stream:
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.failure_info is None:
                        continue
                    failure = check.failure_info.failure
                    case = event.recorder.cases[case_id].value
                    found.append(
                        f"{failure.code} {check.name} in {event.recorder.label}: {failure.title}"
                        f"\n  {failure.message}"
                        f"\n  {case.method} {case.formatted_path} query={case.query} "
                        f"body={case.body!r}"[:1500]
                    )
        elif isinstance(event, events.NonFatalError | events.FatalError):
            found.append(f"engine error: {event.info.title}: {event.info.message}"[:1500])
    return sorted(set(found))


def test_the_api_keeps_to_its_openapi_document(app, live_server, world, in_days, now):
    known, token = seeded_world(world, in_days, now)
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "workers": 1,
            "generation": {
                "max-examples": EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "checks": {"enabled": True},  # all of them
            "operations": [
                {
                    "include-operation-id": operation,
                    "checks": {
                        "positive_data_acceptance": {
                            # 422 only as refuses_valid_registrations_only_for_the_event allows
                            "expected-statuses": ["2xx", "404", "409", "422", "429"]
                        }
                    },
                }
                for operation in DEPENDENT_FIELDS
            ],
            "auth": {"openapi": {"token": {"bearer": token}}},
            "dictionaries": {
                "events": {"values": known["events"]},
                "tokens": {"values": known["tokens"]},
            },
            "parameters": {
                "path.event_id": {"dictionary": "events", "probability": 0.5},
                "path.token": {"dictionary": "tokens", "probability": 0.5},
            },
        }
    )
    schema = schemathesis.openapi.from_url(f"{live_server}/api/v1/openapi.json", config=config)

    # The document describes every API route (but itself).
    routes = {
        (method, "/" + rule.rule.removeprefix("/api/v1/"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(o.method.upper(), o.path) for o in (r.ok() for r in schema.get_all_operations())}
    assert {
        (m, p.replace("<int:", "{").replace("<", "{").replace(">", "}")) for m, p in routes
    } == described

    failures = failures_of(from_schema(schema).execute())
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures)
