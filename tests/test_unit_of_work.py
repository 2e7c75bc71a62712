"""One unit of work per request, command or job (eventsvc/transactions.py, web/boundary.py):
views never commit; the request's end commits a normal answer and keeps nothing of an error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

import eventsvc
from eventsvc.extensions import db as _db
from eventsvc.models import ApiToken, CheckIn, OutboxMessage, Registration
from eventsvc.services import registration as rules
from eventsvc.services.api_tokens import create_token

from . import factories
from .conftest import csrf_from, login


@pytest.fixture
def event(world, in_days):
    return factories.event(world.org_a, in_days(1), capacity=10)


@pytest.fixture
def parties(event, now):
    people = [
        rules.register(event.id, factories.registration_request(name=name), now).registration
        for name in ("Anna Bērziņa", "Jānis Ozols")
    ]
    _db.session.commit()
    return people


def test_every_view_runs_in_one_unit_of_work(app):
    unwrapped = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and not getattr(view, "unit_of_work", False)
    ]
    assert unwrapped == []


def test_only_the_unit_of_work_commits_or_rolls_back():
    """Nothing commits or rolls back but the unit of work (eventsvc/transactions.py)."""
    root = Path(eventsvc.__file__).parent
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "transactions.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"session\.(commit|rollback)\(\)", line)
    ]
    assert found == []


def test_a_synced_queue_keeps_each_good_scan_whatever_comes_after_it(client, world, event, parties):
    """Each item of an offline queue is its own transaction: a bad item does not undo the
    scans before it, and the scans after it still count."""
    anna, janis = parties
    login(client, world.organiser_a.email)
    page = client.get(f"/manage/events/{event.id}/checkin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    queue = [
        {"code": anna.ticket_secret, "nonce": "dev3:00000001"},
        {"code": janis.ticket_secret, "nonce": "dev3:00000002", "people": 0},  # refused
        {"registration_id": janis.id, "nonce": "dev3:00000003"},
    ]
    synced = client.post(
        f"/api/v1/events/{event.id}/checkins/sync",
        json={"checkins": queue},
        headers={"X-CSRFToken": token},
    )
    assert [r["result"] for r in synced.json["results"]] == ["checked_in", "invalid", "checked_in"]
    assert set(_db.session.scalars(select(CheckIn.registration_id))) == {anna.id, janis.id}


def test_a_nul_byte_in_one_queued_item_costs_only_that_item(client, world, event, parties):
    """Elsewhere a NUL byte refuses the whole request (400); a door's queue answers the item
    that holds one as invalid and keeps the scans queued with it."""
    anna, janis = parties
    login(client, world.organiser_a.email)
    page = client.get(f"/manage/events/{event.id}/checkin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    queue = [
        {"code": anna.ticket_secret, "nonce": "dev4:00000001"},
        {"code": "abc\u0000", "nonce": "dev4:00000002"},
        {"registration_id": janis.id, "nonce": "dev4:00000003", "device": "durvis\u0000"},
        {"registration_id": janis.id, "nonce": "dev4:00000004"},
    ]
    synced = client.post(
        f"/api/v1/events/{event.id}/checkins/sync",
        json={"checkins": queue},
        headers={"X-CSRFToken": token},
    )
    assert synced.status_code == 200
    results = [r["result"] for r in synced.json["results"]]
    assert results[0] == results[3] == "checked_in" and results[1] != "checked_in"
    assert results[2] == "invalid"
    assert set(_db.session.scalars(select(CheckIn.registration_id))) == {anna.id, janis.id}


def test_a_refused_call_still_records_that_its_token_was_used(client, world, event, now):
    token, plain = create_token(world.organiser_a, "door", now)
    _db.session.commit()
    refused = client.post(
        f"/api/v1/events/{event.id}/checkins",
        json={"code": 12},
        headers={"Authorization": f"Bearer {plain}"},
    )
    assert refused.status_code == 422
    _db.session.expire_all()
    assert _db.session.get(ApiToken, token.id).last_used_at is not None


def test_an_erasure_removes_the_mailbox_copies_once_it_is_stored(app, client, event, now, tmp_path):
    registration = rules.register(
        event.id, factories.registration_request(email="zelma@example.lv"), now
    ).registration
    _db.session.commit()
    message_id = _db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.registration_id == registration.id)
    )
    copy = tmp_path / f"{message_id:08d}.eml"
    copy.write_text("To: zelma@example.lv")
    saved = app.config["EVENTSVC_MAIL_BACKEND"], app.config["EVENTSVC_MAILBOX_DIR"]
    app.config.update(EVENTSVC_MAIL_BACKEND="mailbox", EVENTSVC_MAILBOX_DIR=str(tmp_path))
    try:
        page = f"/r/{registration.manage_token}/erase"
        response = client.post(page, data={"csrf_token": csrf_from(client, page)})
    finally:
        app.config.update(EVENTSVC_MAIL_BACKEND=saved[0], EVENTSVC_MAILBOX_DIR=saved[1])
    assert response.status_code == 302
    assert not copy.exists()
    _db.session.expire_all()
    assert _db.session.get(Registration, registration.id).anonymised_at is not None
    assert _db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_every_row_lock_is_taken_in_the_lock_module():
    """Row locks and queue claims only in services/locking.py, where their order is written."""
    root = Path(eventsvc.__file__).parent
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if path.name != "locking.py"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"with_for_update|skip_locked=|\"BEGIN IMMEDIATE", line)
    ]
    assert found == []
