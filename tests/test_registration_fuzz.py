"""Random bodies against the registration endpoints: a clear 4xx (or a registration), never a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import factories
from .conftest import csrf_from

FIELDS = [
    "name",
    "email",
    "phone",
    "party_size",
    "activity_ids",
    "attendance",
    "needs",
    "language",
    "consent",
    "join_waitlist",
]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=300),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
json_bodies = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=10), json_values, max_size=10),
    json_values,
)
form_bodies = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=10),
    st.text(max_size=300) | st.lists(st.text(max_size=20), max_size=3),
    max_size=10,
)


def has_nul(body) -> bool:
    """A NUL byte anywhere: refused up front with 400 (PostgreSQL keeps none; web/__init__.py)."""
    return "\\u0000" in json.dumps(body)


FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(10), capacity=5)


@FUZZ
@given(payload=json_bodies)
def test_random_json_never_breaks_the_api(client, event, payload):
    response = client.post(f"/api/v1/events/{event.id}/registrations", json=payload)
    assert response.status_code in (201, 409, 422) or (
        response.status_code == 400 and has_nul(payload)
    ), (payload, response.status_code)
    assert response.is_json
    if response.status_code != 201:
        assert response.json["error"]["message"]


@FUZZ
@given(data=form_bodies)
def test_random_forms_never_break_the_page(client, event, data):
    token = csrf_from(client, f"/events/{event.id}")
    response = client.post(f"/events/{event.id}/register", data={**data, "csrf_token": token})
    assert response.status_code in (302, 409, 422) or (
        response.status_code == 400 and has_nul(data)
    ), (data, response.status_code)
