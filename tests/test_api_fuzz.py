"""schemathesis against /api/v1/openapi.json: every operation gets generated requests, valid
and invalid ones, and no answer may be a server error or contradict the document (its status
codes, content types and response schemas).

Bounded to stay fast: a fixed number of examples per operation and mode, derandomized (the
same requests every run), no example database. Staff operations are called with an
organiser's Bearer token; operations on one event or registration get, besides random ids,
the ids of real ones, so that the answers behind the 404s are fuzzed too.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, EventFormat, EventKind
from eventsvc.services import registration as rules
from eventsvc.services.api_tokens import create_token

from . import factories

EXAMPLES = 10  # per operation, per mode, per set of path parameters
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def seeded(world, in_days, now):
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
    return {"event_id": [event.id, festival.id], "token": [registration.manage_token]}, token


def test_the_api_keeps_to_its_openapi_document(app, seeded):
    known, token = seeded
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {token}"}
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # The document describes every API route (but itself).
    routes = {
        (method, "/" + rule.rule.removeprefix("/api/v1/"))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(o.method.upper(), o.path) for o in operations}
    assert {
        (m, p.replace("<int:", "{").replace("<", "{").replace(">", "}")) for m, p in routes
    } == described

    for operation in operations:
        names = [name for name in known if "{" + name + "}" in operation.path]
        real = [
            {name: known[name][i % len(known[name])] for name in names}
            for i in range(max((len(known[n]) for n in names), default=0))
        ]
        runs = [(GenerationMode.POSITIVE, {}), (GenerationMode.NEGATIVE, {})]
        # Registering is tried on both events (one of them hybrid, with an activity).
        positive = real if operation.path.endswith("/registrations") else real[:1]
        runs += [(GenerationMode.POSITIVE, fixed) for fixed in positive] + [
            (GenerationMode.NEGATIVE, fixed) for fixed in real[:1]
        ]
        for mode, fixed in runs:
            strategy = operation.as_strategy(
                generation_mode=mode, path_parameters=fixed or None, headers=headers
            )

            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
            )
            @given(case=strategy)
            def run(case):
                case.call_and_validate(checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                pass  # negative mode, with every input fixed: nothing left to make invalid
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(
                    f"{operation.label} [{mode.value}, {fixed}]: {type(exc).__name__}: {exc}"[:3000]
                )
    assert not failures, "\n\n".join(failures)
