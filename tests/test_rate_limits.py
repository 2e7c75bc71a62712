"""Public write endpoints are rate-limited per client; the answer is a clear 429."""

from __future__ import annotations

import pytest

from eventsvc.extensions import limiter

from . import factories
from .conftest import TEST_RATE_LIMIT, csrf_from


@pytest.fixture
def limited(app):
    app.config["RATELIMIT_REGISTRATION"] = "3 per minute"
    limiter.reset()
    yield
    app.config["RATELIMIT_REGISTRATION"] = TEST_RATE_LIMIT
    limiter.reset()


def test_registration_api_answers_429_after_the_limit(client, world, in_days, limited):
    event = factories.event(world.org_a, in_days(10), capacity=50)
    codes = [
        client.post(f"/api/v1/events/{event.id}/registrations", json={"name": ""}).status_code
        for _ in range(4)
    ]
    assert codes == [422, 422, 422, 429]
    response = client.post(f"/api/v1/events/{event.id}/registrations", json={"name": ""})
    assert response.status_code == 429 and response.json["error"]["code"] == "rate_limited"
    # Another client address has its own allowance.
    other = client.post(
        f"/api/v1/events/{event.id}/registrations",
        json={"name": ""},
        environ_base={"REMOTE_ADDR": "10.1.2.3"},
    )
    assert other.status_code == 422
    # Reading is not limited by the registration allowance.
    assert client.get(f"/api/v1/events/{event.id}").status_code == 200


def test_registration_form_answers_429_page(client, world, in_days, limited):
    event = factories.event(world.org_a, in_days(10), capacity=50)
    token = csrf_from(client, f"/events/{event.id}")
    codes = [
        client.post(f"/events/{event.id}/register", data={"csrf_token": token}).status_code
        for _ in range(4)
    ]
    assert codes == [422, 422, 422, 429]
    page = client.post(f"/events/{event.id}/register", data={"csrf_token": token}).get_data(
        as_text=True
    )
    assert "Pārāk daudz pieprasījumu" in page


@pytest.mark.parametrize(
    "address, key",
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # IPv4 seen through an IPv6 socket
        ("not an address", "not an address"),
    ],
)
def test_rate_limits_count_an_ipv6_client_by_its_64_network(app, address, key):
    from eventsvc.extensions import client_network

    with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
        assert client_network() == key


def test_other_addresses_of_one_ipv6_network_share_the_allowance(client, world, in_days, limited):
    event = factories.event(world.org_a, in_days(10), capacity=50)

    def post(address):
        return client.post(
            f"/api/v1/events/{event.id}/registrations",
            json={"name": ""},
            environ_base={"REMOTE_ADDR": address},
        ).status_code

    # A client hopping between addresses of its own /64 is still one client.
    assert [post(f"2001:db8:5:6::{n}") for n in range(1, 5)] == [422, 422, 422, 429]
    assert post("2001:db8:5:7::1") == 422  # the neighbouring network has its own allowance
