"""The audit log: every kind of action leaves an entry with the right actor, organisation
and event; organisers read only their organisations' entries, the Ministry none; and no
entry or audit page ever holds a resident's name, email, phone or needs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    ActorKind,
    ApiToken,
    AuditEntry,
    CheckIn,
    EventKind,
    EventStatus,
    Registration,
    RegistrationSource,
    RegistrationStatus,
    SpeakerRole,
)
from eventsvc.services import PermissionDenied, ServiceError, audit
from eventsvc.services import checkin as door
from eventsvc.services import events as event_service
from eventsvc.services import registration as rules
from eventsvc.services.api_tokens import create_token
from eventsvc.services.events import EventData

from . import factories
from .conftest import login, post_form

# People with names, addresses, phones and needs that appear nowhere else, so that any
# trace of them in the log or on its pages is found.
RESIDENT = dict(
    name="Ksenija Zvaigznīte-Ābele",
    email="ksenija.zvaigznite@example.lv",
    phone="+371 29 876 543",
    needs="dzirdes cilpa un suns-pavadonis Reksis",
)
CALLER = dict(
    name="Valdemārs Pūpoliņš", phone="+371 26 555 019", needs="ratiņkrēsls ar elektrisko piedziņu"
)
WAITING = dict(name="Gunta Lazdiņa-Mežule", email="gunta.lazdina@example.lv", needs="vieglā valoda")
WALK_IN = "Ojārs Dzeltenkalns"
PERSONAL = [
    "Ksenija",
    "Zvaigzn",
    "ksenija.zvaigznite",
    "876 543",
    "876543",
    "Reksis",
    "dzirdes cilpa",
    "Valdemārs",
    "Pūpoliņš",
    "555 019",
    "555019",
    "ratiņkrēsls",
    "Gunta",
    "Lazdiņa",
    "gunta.lazdina",
    "vieglā valoda",
    "Ojārs",
    "Dzeltenkalns",
]


def entries(**where) -> list[AuditEntry]:
    _db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return list(_db.session.scalars(query))


def only(action: str) -> AuditEntry:
    found = entries(action=action)
    assert len(found) == 1, [(e.action, e.detail) for e in entries()]
    return found[0]


def text_of(response) -> str:
    return response.get_data(as_text=True)


def shown(entry: AuditEntry, language: str = "en") -> str:
    """The entry's detail as the audit page shows it to a reader of `language`."""
    with force_locale(language):
        return audit.detail_text(entry.detail)


def event_data(world, starts_at, **fields) -> EventData:
    values = dict(
        kind=EventKind.DISCUSSION,
        title="Kopienas diskusija",
        organisation_id=world.org_a.id,
        municipality_id=world.tukums.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        venue_name="Tumes kultūras nams",
        capacity=20,
    )
    values.update(fields)
    return EventData(**values)


# --- what each action records -------------------------------------------------------------


def test_event_life_is_recorded_with_the_organiser_and_organisation(world, in_days, now):
    organiser = world.organiser_a
    event = event_service.create_event(organiser, event_data(world, in_days(10)))
    event_service.publish_event(organiser, event, now)
    event_service.unpublish_event(organiser, event)
    event_service.update_event(
        organiser, event, event_data(world, in_days(10), title="Jauns nosaukums", capacity=30), now
    )
    event_service.update_event(
        organiser, event, event_data(world, in_days(10), title="Jauns nosaukums", capacity=30), now
    )
    event_service.cancel_event(organiser, event, now)
    _db.session.commit()

    log = entries()
    assert [e.action for e in log] == [
        "event.create",
        "event.publish",
        "event.unpublish",
        "event.update",
        "event.cancel",
    ]
    for entry in log:  # an unchanged save records nothing
        assert (entry.actor_kind, entry.actor_id) == (ActorKind.STAFF, organiser.id)
        assert (entry.organisation_id, entry.event_id) == (world.org_a.id, event.id)
        assert (entry.target_type, entry.target_id) == ("event", event.id)
    assert [shown(e) for e in log] == [
        "status: Draft",
        "Draft → Published",
        "Published → Draft",
        "changed: Places (people), Title; places 20 → 30",
        "Draft → Cancelled",
    ]
    assert json.loads(log[1].detail) == {
        "m": "%(old)s → %(new)s",
        "a": {"old": ["event_status", "draft"], "new": ["event_status", "published"]},
    }
    assert json.loads(log[3].detail) == [
        {"m": "changed: %(fields)s", "a": {"fields": ["event_field", "capacity", "title"]}},
        {"m": "places %(old)s → %(new)s", "a": {"old": 20, "new": 30}},
    ]
    assert shown(log[3], "lv") == "mainīts: Vietu skaits (cilvēki), Nosaukums; vietu skaits 20 → 30"
    assert (
        shown(log[3], "ru")
        == "изменено: Количество мест (человек), Название; количество мест 20 → 30"
    )


def test_a_refused_action_leaves_no_entry(world, in_days, now):
    event = factories.event(world.org_a, in_days(5), capacity=10)
    rules.register(event.id, factories.registration_request(), now)
    _db.session.commit()
    with pytest.raises(ServiceError):
        event_service.unpublish_event(world.organiser_a, event)  # people have registered
    _db.session.rollback()
    with pytest.raises(ServiceError):
        event_service.publish_event(world.organiser_a, event, now)  # not a draft
    _db.session.rollback()
    assert entries() == []


def test_registrations_by_organiser_and_resident_and_the_waiting_list(world, in_days, now):
    event = factories.event(world.org_a, in_days(5), capacity=3)
    resident = rules.register(
        event.id, factories.registration_request(**RESIDENT, party_size=2), now
    ).registration
    assert entries() == []  # a resident's own registration is theirs, not an audited staff action
    phoned = rules.register(
        event.id,
        factories.registration_request(**CALLER),
        now,
        RegistrationSource.ORGANISER,
        by_user=world.organiser_a,
    ).registration
    waiting = rules.register(
        event.id, factories.registration_request(**WAITING, party_size=2), now
    ).registration
    rules.change_party_size(
        phoned, 1, now, by_user=world.organiser_a
    )  # the same size: nothing happens
    rules.change_party_size(resident, 1, now)  # the resident, through the manage link
    rules.cancel_registration(
        phoned, now, by_user=world.organiser_a
    )  # frees a place: the waiting party moves up
    _db.session.commit()

    created = only("registration.create")
    assert (created.actor_kind, created.actor_id, created.target_id) == (
        ActorKind.STAFF,
        world.organiser_a.id,
        phoned.id,
    )
    assert shown(created) == "Confirmed, party size 1"
    size = only("registration.party_size")
    assert (size.actor_kind, size.actor_id, size.target_id) == (
        ActorKind.RESIDENT,
        None,
        resident.id,
    )
    assert json.loads(size.detail) == {
        "m": "party size %(old)d → %(new)d",
        "a": {"old": 2, "new": 1},
    }
    assert shown(size) == "party size 2 → 1"
    cancelled = only("registration.cancel")
    assert (cancelled.actor_kind, cancelled.actor_id, cancelled.target_id) == (
        ActorKind.STAFF,
        world.organiser_a.id,
        phoned.id,
    )
    assert shown(cancelled) == "Confirmed → Cancelled"
    promoted = only("registration.promote")
    assert (promoted.actor_kind, promoted.actor_id, promoted.target_id) == (
        ActorKind.SYSTEM,
        None,
        waiting.id,
    )
    assert shown(promoted) == "Waiting list → Confirmed, party size 2"
    assert shown(promoted, "lv") == "Rindas saraksts → Apstiprināta, cilvēku skaits 2"
    for entry in entries():
        assert (entry.organisation_id, entry.event_id, entry.target_type) == (
            world.org_a.id,
            event.id,
            "registration",
        )

    rules.cancel_registration(resident, now)
    rules.change_party_size(waiting, 3, now, by_user=world.organiser_b)  # grows into free places
    _db.session.commit()
    by_resident = [
        e for e in entries(action="registration.cancel") if e.actor_kind is ActorKind.RESIDENT
    ]
    assert [e.target_id for e in by_resident] == [resident.id]
    grown = entries(action="registration.party_size")[-1]
    assert (grown.actor_id, shown(grown)) == (world.organiser_b.id, "party size 2 → 3")


def test_checkins_undo_and_walk_ins_are_recorded(world, in_days, now):
    event = factories.event(world.org_a, in_days(0, 1), capacity=10)
    family = rules.register(
        event.id, factories.registration_request(**RESIDENT, party_size=3), now
    ).registration
    _db.session.commit()
    partial = door.check_in_ticket(event, family.ticket_secret, world.organiser_a, now, people=2)
    door.undo_checkin(event, partial.checkin.id, world.organiser_a, now)
    door.check_in_registration(event, family.id, world.organiser_a, now)
    door.check_in_ticket(
        event, family.ticket_secret, world.organiser_a, now
    )  # already in: nothing new
    door.check_in_ticket(event, "not a ticket", world.organiser_a, now)
    walk_in = door.register_walk_in(
        event, WALK_IN, 2, world.organiser_a, now, nonce="door:00000001"
    )
    door.register_walk_in(
        event, WALK_IN, 2, world.organiser_a, now, nonce="door:00000001"
    )  # a retry
    _db.session.commit()

    log = entries()
    assert [e.action for e in log] == [
        "checkin.create",
        "checkin.undo",
        "checkin.create",
        "checkin.walk_in",
    ]
    for entry in log:
        assert (entry.actor_kind, entry.actor_id, entry.target_type) == (
            ActorKind.STAFF,
            world.organiser_a.id,
            "checkin",
        )
        assert (entry.organisation_id, entry.event_id) == (world.org_a.id, event.id)
    assert log[0].target_id == log[1].target_id == partial.checkin.id
    assert shown(log[0]) == f"registration {family.id}: +2 (ticket scanned), 2/3 in"
    assert shown(log[1]) == f"registration {family.id}: −2, 0/3 in"
    assert shown(log[2]) == f"registration {family.id}: +3 (found in the list), 3/3 in"
    assert shown(log[3]) == f"registration {walk_in.registration.id}: +2 (walk-in), 2/2 in"
    assert json.loads(log[0].detail)["a"] == {
        "id": family.id,
        "n": 2,
        "how": ["checkin_method", "scan"],
        "done": 2,
        "of": 3,
    }
    assert (
        shown(log[3], "ru")
        == f"регистрация {walk_in.registration.id}: +2 (без регистрации), пришли 2/2"
    )
    assert log[3].target_id == walk_in.checkin.id
    assert not entries(
        action="registration.create"
    )  # the walk-in's registration is part of its entry


def test_checkin_through_the_api_with_a_token(client, world, in_days, now):
    event = factories.event(world.org_a, in_days(0, 1), capacity=10)
    family = rules.register(event.id, factories.registration_request(**RESIDENT), now).registration
    _, token = create_token(world.organiser_a, "durvju telefons", now)
    _db.session.commit()
    response = client.post(
        f"/api/v1/events/{event.id}/checkins",
        json={"code": family.ticket_secret},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200 and response.json["ok"]
    entry = only("checkin.create")
    assert (entry.actor_id, entry.organisation_id, entry.event_id) == (
        world.organiser_a.id,
        world.org_a.id,
        event.id,
    )


def test_exports_are_recorded(client, world, in_days, now):
    event = factories.event(world.org_a, in_days(5), capacity=10)
    for person in (RESIDENT, WAITING):
        rules.register(event.id, factories.registration_request(**person), now)
    _db.session.commit()
    login(client, world.organiser_a.email)
    assert client.get(f"/manage/events/{event.id}/registrations.csv").status_code == 200
    sheet = client.get(f"/manage/events/{event.id}/attendance-sheet")
    assert sheet.status_code == 200 and RESIDENT["name"] in text_of(
        sheet
    )  # the sheet itself still names people
    assert client.get(f"/stats/municipality.csv?municipality={world.tukums.id}").status_code == 200
    assert client.get("/stats/events.csv").status_code == 200

    csv_entry = only("export.registrations_csv")
    assert (csv_entry.actor_id, csv_entry.organisation_id, csv_entry.event_id) == (
        world.organiser_a.id,
        world.org_a.id,
        event.id,
    )
    assert (csv_entry.target_type, csv_entry.target_id, shown(csv_entry)) == (
        "event",
        event.id,
        "file: CSV (;); rows: 2",
    )
    assert json.loads(csv_entry.detail) == [
        {"m": "file: %(kind)s", "a": {"kind": "CSV (;)"}},
        {"m": "rows: %(n)d", "a": {"n": 2}},
    ]
    sheet_entry = only("export.attendance_sheet")
    assert (sheet_entry.organisation_id, sheet_entry.event_id, shown(sheet_entry)) == (
        world.org_a.id,
        event.id,
        "rows: 2",
    )
    stats_entries = entries(action="export.stats_csv")
    assert [(e.actor_id, e.organisation_id, e.event_id, e.target_type) for e in stats_entries] == [
        (world.organiser_a.id, world.org_a.id, None, "stats")
    ] * 2
    assert (
        shown(stats_entries[0])
        == f"totals by municipality; filters: Municipality: {world.tukums.id}; rows: 1"
    )
    assert shown(stats_entries[1]) == "totals by event; rows: 1"
    assert (
        shown(stats_entries[0], "lv")
        == f"kopsummas pa pašvaldībām; filtri: Pašvaldība: {world.tukums.id}; rindas: 1"
    )

    ministry = client.application.test_client()
    login(ministry, world.ministry.email)
    assert ministry.get("/stats/kind.csv").status_code == 200
    by_ministry = entries(action="export.stats_csv", actor_id=world.ministry.id)
    assert [e.organisation_id for e in by_ministry] == [
        None
    ]  # about all organisations: admins read it


def test_api_tokens_made_and_revoked(client, runner, world, now):
    login(client, world.organiser_a.email)
    post_form(client, "/account/tokens", {"name": "Tumes durvis"})
    token = _db.session.scalar(select(ApiToken))
    post_form(client, f"/account/tokens/{token.id}/revoke", {}, form_url="/account/tokens")
    post_form(
        client, f"/account/tokens/{token.id}/revoke", {}, form_url="/account/tokens"
    )  # twice: one entry
    made, revoked = only("api_token.create"), only("api_token.revoke")
    for entry in (made, revoked):
        assert (entry.actor_kind, entry.actor_id, entry.organisation_id) == (
            ActorKind.STAFF,
            world.organiser_a.id,
            world.org_a.id,
        )
        assert (entry.target_type, entry.target_id, entry.event_id) == ("api_token", token.id, None)
        assert "Tumes" not in entry.detail

    assert runner.invoke(args=["users", "token", world.organiser_b.email]).exit_code == 0
    by_cli = entries(action="api_token.create", organisation_id=world.org_b.id)
    assert [(e.actor_kind, e.actor_id) for e in by_cli] == [(ActorKind.SYSTEM, None)]
    create_token(world.admin, "skripts", now)  # an admin belongs to no organisation: admins only
    _db.session.commit()
    assert [
        e.organisation_id for e in entries(action="api_token.create", actor_id=world.admin.id)
    ] == [None]


def test_record_refuses_a_staff_kind_without_the_user(world):
    with pytest.raises(ValueError):
        audit.record(audit.Action.EVENT_CREATE, actor=ActorKind.STAFF, target_type="event")


# --- who reads what -----------------------------------------------------------------------


@pytest.fixture
def two_organisations(world, in_days, now):
    """A logged action in each organisation, and one for admins only."""
    event_a = factories.event(world.org_a, in_days(5), title="Tukuma kopienas diskusija")
    event_b = factories.event(world.org_b, in_days(5), title="Daugavpils slepenā pēcpusdiena")
    event_service.cancel_event(world.organiser_a, event_a, now)
    event_service.cancel_event(world.organiser_b, event_b, now)
    create_token(world.admin, "skripts", now)
    _db.session.commit()
    return event_a, event_b


def test_organisers_read_only_their_organisations_entries(world, two_organisations):
    event_a, event_b = two_organisations
    mine = audit.entries_for(world.organiser_a).page.items
    assert [(e.action, e.event_id) for e in mine] == [("event.cancel", event_a.id)]
    assert audit.entries_for(world.organiser_a, event_id=event_b.id).page.items == []
    assert [e.event_id for e in audit.entries_for(world.organiser_b).page.items] == [event_b.id]
    everything = audit.entries_for(world.admin).page.items
    assert [e.action for e in everything] == [
        "api_token.create",
        "event.cancel",
        "event.cancel",
    ]  # newest first
    with pytest.raises(PermissionDenied):
        audit.entries_for(world.ministry)


def test_organiser_pages_show_only_their_organisations(client, world, two_organisations):
    event_a, event_b = two_organisations
    login(client, world.organiser_a.email)
    page = text_of(client.get("/manage/audit"))
    assert event_a.title in page and event_b.title not in page
    assert f'href="/manage/events/{event_a.id}"' in page
    probing = client.get(
        f"/manage/audit?event={event_b.id}"
    )  # another organisation's event is no choice
    assert probing.status_code == 200 and event_b.title not in text_of(probing)
    assert client.get("/admin/audit").status_code == 403
    assert "/manage/audit" in text_of(client.get("/manage/"))  # in the menu
    event_page = text_of(client.get(f"/manage/events/{event_a.id}"))
    assert f"/manage/audit?event={event_a.id}" in event_page

    admin = client.application.test_client()
    login(admin, world.admin.email)
    for url in ("/admin/audit", "/manage/audit"):
        page = text_of(admin.get(url))
        assert event_a.title in page and event_b.title in page
    assert "/admin/audit" in text_of(admin.get("/admin/outbox"))


def test_ministry_and_anonymous_are_refused(client, world, two_organisations):
    assert client.get("/manage/audit").status_code == 302  # to the sign-in page
    assert client.get("/admin/audit").status_code == 302
    login(client, world.ministry.email)
    assert client.get("/manage/audit").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert "/audit" not in text_of(client.get("/stats/"))  # no menu link either


def test_filters_pagination_and_riga_time(client, world, in_days, now):
    event = factories.event(world.org_a, in_days(5), title="Garā sanāksme")
    other = factories.event(world.org_a, in_days(6), title="Otrā sanāksme")
    for _ in range(55):
        audit.record(
            audit.Action.EXPORT_ATTENDANCE_SHEET,
            actor=world.organiser_a,
            target_type="event",
            target_id=event.id,
            event=event,
            detail=audit.part(audit.N_("rows: %(n)d"), n=0),
        )
    first = audit.record(
        audit.Action.EVENT_PUBLISH,
        actor=world.organiser_a,
        target_type="event",
        target_id=other.id,
        event=other,
        detail=audit.transition(EventStatus.DRAFT, EventStatus.PUBLISHED),
    )
    first.at = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)  # 12:30 in Riga (summer time)
    _db.session.commit()

    result = audit.entries_for(world.organiser_a, per_page=50)
    assert (result.page.total, len(result.page.items)) == (56, 50)
    assert (
        result.page.items[0].action == "export.attendance_sheet"
        and result.events[event.id].title == event.title
    )
    assert audit.entries_for(world.organiser_a, page=2).page.items[-1].id == first.id  # oldest last
    assert [e.id for e in audit.entries_for(world.organiser_a, event_id=other.id).page.items] == [
        first.id
    ]
    assert audit.entries_for(world.organiser_a, action="event.publish").page.total == 1

    login(client, world.organiser_a.email)
    page = text_of(client.get("/manage/audit"))
    assert 'rel="next"' in page and "?page=2" in page
    second = text_of(client.get("/manage/audit?page=2"))
    assert "12:30</time>" in second and "09:30</time>" not in second
    assert "Pasākums publicēts" in second  # the action in words, in Latvian
    assert (
        "Melnraksts → Publicēts" in second and "rindas: 0" in page
    )  # and the detail, in Latvian too
    filtered = text_of(client.get(f"/manage/audit?event={other.id}"))
    assert "Otrā sanāksme" in filtered and "Garā sanāksme</a>" not in filtered
    by_action = text_of(client.get("/manage/audit?action=event.publish"))
    assert by_action.count("<tr>") == 2  # the header row and one entry
    assert client.get("/manage/audit?action=nonsense&page=999").status_code == 200


# --- no personal data -----------------------------------------------------------------------


def test_no_resident_data_in_any_entry_or_audit_page(client, world, in_days, now):
    event = factories.event(world.org_a, in_days(0, 1), capacity=2, title="Durvju pasākums")
    resident = rules.register(
        event.id, factories.registration_request(**RESIDENT, party_size=2), now
    ).registration
    waiting = rules.register(
        event.id, factories.registration_request(**WAITING, party_size=1), now
    ).registration
    _db.session.commit()
    login(client, world.organiser_a.email)

    # An organiser registers a caller by phone (waiting list) and cancels; the resident makes
    # room for the waiting party, and cancels later.
    response = post_form(
        client,
        f"/manage/events/{event.id}/registrations/new",
        {
            "name": CALLER["name"],
            "phone": CALLER["phone"],
            "email": "",
            "party_size": "1",
            "needs": CALLER["needs"],
            "language": "lv",
            "consent": "y",
        },
    )
    assert response.status_code == 302
    caller = _db.session.scalar(select(Registration).where(Registration.phone == CALLER["phone"]))
    page = f"/manage/events/{event.id}/registrations/{caller.id}"
    assert post_form(
        client, page + "/party-size", {"party_size": "1"}, form_url=page
    ).status_code in (302, 422)
    assert (
        post_form(client, page + "/cancel", {}, form_url=page).status_code == 302
    )  # the waiting party moves up
    manage = f"/r/{resident.manage_token}"
    resident_client = client.application.test_client()
    assert (
        post_form(
            resident_client, manage + "/party-size", {"party_size": "1"}, form_url=manage
        ).status_code
        == 302
    )

    # At the door: a scan, a search, an undo, a walk-in.
    door_page = f"/manage/events/{event.id}/checkin"
    post_form(
        client,
        door_page,
        {"action": "code", "code": resident.ticket_secret, "nonce": "page:00000001"},
    )
    _db.session.expire_all()
    waiting = _db.session.get(Registration, waiting.id)
    post_form(
        client,
        door_page,
        {"action": "person", "registration_id": str(waiting.id), "nonce": "page:00000002"},
    )
    checkin = _db.session.scalar(select(CheckIn).where(CheckIn.registration_id == resident.id))
    post_form(client, f"{door_page}/{checkin.id}/undo", {}, form_url=door_page)
    cancel_page = f"/r/{resident.manage_token}/cancel"
    assert post_form(resident_client, cancel_page, {}).status_code == 302
    assert (
        post_form(
            client,
            door_page,
            {"action": "walk_in", "name": WALK_IN, "people": "1", "nonce": "page:00000003"},
        ).status_code
        == 200
    )

    # Exports, and the event's own life.
    client.get(f"/manage/events/{event.id}/registrations.csv")
    client.get(f"/manage/events/{event.id}/attendance-sheet")
    client.get("/stats/events.csv")
    post_form(client, f"/manage/events/{event.id}/cancel", {})

    actions = {e.action for e in entries()}
    assert actions >= {
        "registration.create",
        "registration.cancel",
        "registration.party_size",
        "registration.promote",
        "checkin.create",
        "checkin.undo",
        "checkin.walk_in",
        "export.registrations_csv",
        "export.attendance_sheet",
        "export.stats_csv",
        "event.cancel",
    }, actions
    rows = _db.session.execute(select(AuditEntry.__table__)).all()
    stored = "\n".join(" ".join(str(value) for value in row) for row in rows)
    for word in PERSONAL:
        assert word.lower() not in stored.lower(), word

    admin = client.application.test_client()
    login(admin, world.admin.email)
    pages = [
        client.get("/manage/audit"),
        client.get(f"/manage/audit?event={event.id}"),
        admin.get("/admin/audit"),
    ]
    pages += [client.get(f"/manage/audit?action={action}") for action in actions]
    for response in pages:
        assert response.status_code == 200
        body = text_of(response)
        assert "Durvju pasākums" in body
        for word in PERSONAL:
            assert word.lower() not in body.lower(), word
    assert re.search(
        r">\s*(iedzīvotājs|resident)\s*<", text_of(pages[0])
    )  # the resident is named only so


# --- the detail in the reader's language ------------------------------------------------------


def test_the_audit_page_shows_the_detail_in_the_readers_language(client, world, in_days, now):
    event = factories.event(world.org_a, in_days(5), capacity=10, title="Valodu pasākums")
    family = rules.register(
        event.id, factories.registration_request(**RESIDENT, party_size=1), now
    ).registration
    rules.change_party_size(family, 3, now, by_user=world.organiser_a)
    rules.cancel_registration(family, now, by_user=world.organiser_a)
    event_service.update_event(
        world.organiser_a,
        event,
        event_data(world, event.starts_at, title="Valodu pasākums", capacity=30),
        now,
    )
    _db.session.commit()
    login(client, world.organiser_a.email)

    expected = {
        "lv": [
            "cilvēku skaits 1 → 3",
            "Apstiprināta → Atcelts",
            "vietu skaits 10 → 30",
            "Vietu skaits (cilvēki)",
        ],
        "ru": [
            "число человек 1 → 3",
            "Подтверждена → Отменено",
            "количество мест 10 → 30",
            "Количество мест (человек)",
        ],
        "en": ["party size 1 → 3", "Confirmed → Cancelled", "places 10 → 30", "Places (people)"],
    }
    for language, words in expected.items():
        client.set_cookie("lang", language)
        page = text_of(client.get(f"/manage/audit?event={event.id}"))
        for word in words:
            assert word in page, (language, word)
        if language != "en":
            for english in ("party size", "confirmed", "cancelled", "capacity", "places"):
                assert english not in page.split("<tbody>")[-1].lower(), (language, english)
        assert '{"m"' not in page and "&#34;m&#34;" not in page  # never the stored JSON


def test_details_of_other_forms_are_shown_as_stored(client, world, in_days):
    """Entries written before the detail became JSON (English text), or anything else that is
    not a detail we know, are shown as they are, never an error."""
    event = factories.event(world.org_a, in_days(5), title="Vecais pasākums")
    stored = [
        "party size 1 → 3",
        "{not json",
        "[1, 2]",
        '{"m": 5}',
        '{"m": "x %(n)d", "a": {"n": "ten"}}',
        '{"m": "rows: %(n)d", "a": {}}',
        '{"m": "by %(who)s", "a": {"who": ["??", "x"]}}',
    ]
    for detail in stored:
        _db.session.add(
            AuditEntry(
                actor_kind=ActorKind.SYSTEM,
                action="event.update",
                organisation_id=world.org_a.id,
                event_id=event.id,
                target_type="event",
                target_id=event.id,
                detail=detail,
            )
        )
    _db.session.commit()
    with force_locale("en"):
        shown_as = [audit.detail_text(detail) for detail in stored]
    assert shown_as[:4] == stored[:4]
    assert shown_as[4:] == [
        "x %(n)d",
        "rows: %(n)d",
        "by x",
    ]  # the message id when its arguments do not fit
    login(client, world.organiser_a.email)
    for language in ("lv", "ru", "en"):
        client.set_cookie("lang", language)
        response = client.get("/manage/audit")
        assert response.status_code == 200
        assert "party size 1 → 3" in text_of(response) and "{not json" in text_of(response)


def test_a_long_detail_is_cut_to_fit_and_stays_json(world):
    every_field = [
        "accessibility",
        "campaign_id",
        "capacity",
        "description",
        "desk_opens_at",
        "ends_at",
        "format",
        "kind",
        "language",
        "municipality_id",
        "organisation_id",
        "registration_closes_at",
        "registration_opens_at",
        "starts_at",
        "stream_url",
        "summary",
        "target_groups",
        "title",
        "venue_address",
        "venue_name",
    ]
    detail = audit.encode_detail(
        [
            audit.part(
                audit.N_("changed: %(fields)s"), fields=audit.names("event_field", every_field)
            ),
            audit.transition(None, 30, audit.N_("places %(old)s → %(new)s")),
        ]
    )
    assert len(detail) <= audit.DETAIL_LENGTH
    first, places = json.loads(detail)
    assert (
        first["a"]["fields"][:3] == ["event_field", "accessibility", "campaign_id"]
        and first["a"]["fields"][-1] == "…"
    )
    assert places == {"m": "places %(old)s → %(new)s", "a": {"old": None, "new": 30}}
    with force_locale("en"):
        assert audit.detail_text(detail).startswith("changed: Accessibility, Campaign or pilot, ")
        assert audit.detail_text(detail).endswith(", …; places – → 30")

    many = [audit.part(audit.N_("status: %(status)s"), status=audit.value(EventStatus.DRAFT))] * 5
    detail = audit.encode_detail([*many, audit.part(audit.N_("rows: %(n)d"), n=7)])
    assert len(detail) <= audit.DETAIL_LENGTH
    parts = json.loads(detail)
    assert (
        parts[0] == many[0]
        and parts[-1] == {"m": "rows: %(n)d", "a": {"n": 7}}
        and {"m": "…"} in parts
    )
    assert audit.encode_detail([]) == "" and audit.encode_detail("plain text") == "plain text"
    assert json.loads(
        audit.encode_detail(
            audit.transition(RegistrationStatus.CONFIRMED, RegistrationStatus.CANCELLED)
        )
    ) == {
        "m": "%(old)s → %(new)s",
        "a": {
            "old": ["registration_status", "confirmed"],
            "new": ["registration_status", "cancelled"],
        },
    }


# --- the pages in a browser -------------------------------------------------------------------

from .test_accessibility import ORGANISER, axe_violations, demo, new_page, on_sqlite, sign_in  # noqa: E402,F401


@on_sqlite
def test_audit_pages_pass_axe(demo, live_server, browser):  # noqa: F811
    """WCAG 2.1 AA (axe-core) on both audit pages, with the demo's entries, in Latvian."""
    festival, _ = demo
    found = {}
    for email, paths in (
        (ORGANISER, ("/manage/audit", f"/manage/audit?event={festival.id}&action=event.publish")),
        ("admin@demo.eventsvc.lv", ("/admin/audit",)),
    ):
        context, page = new_page(browser, live_server, "lv")
        sign_in(page, live_server, email)
        for path in paths:
            response = page.goto(live_server + path)
            assert response.status == 200, path
            assert page.locator("table.data tbody tr").count() >= 1, path
            found[path] = axe_violations(page)
        context.close()
    assert {path: v for path, v in found.items() if v} == {}


def test_an_organiser_following_a_private_link_is_recorded_as_themselves(
    client, world, in_days, now
):
    """The printed ticket carries the manage link; whoever uses it while signed in as the
    event's organiser is named in the log, not hidden behind "a resident"."""
    from eventsvc.models import AuditEntry

    event = factories.event(world.org_a, in_days(5), capacity=10)
    registration = rules.register(
        event.id, factories.registration_request(party_size=3), now
    ).registration
    _db.session.commit()
    login(client, world.organiser_a.email)
    token = registration.manage_token
    assert (
        post_form(
            client, f"/r/{token}/party-size", {"party_size": "2"}, form_url=f"/r/{token}"
        ).status_code
        == 302
    )
    assert (
        post_form(client, f"/r/{token}/cancel", {}, form_url=f"/r/{token}/cancel").status_code
        == 302
    )
    _db.session.expire_all()
    entries = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.target_id == registration.id)
    ).all()
    assert {(e.action, e.actor_id) for e in entries} == {
        ("registration.party_size", world.organiser_a.id),
        ("registration.cancel", world.organiser_a.id),
    }


def test_programme_changes_and_the_door_list_are_recorded(client, world, in_days, now):
    from eventsvc.models import Speaker
    from eventsvc.services.events import (
        ActivityData,
        SpeakerData,
        remove_part,
        save_activity,
        save_speaker,
    )

    event = factories.event(world.org_a, in_days(5), capacity=10, hours=4)
    speaker = save_speaker(
        world.organiser_a, event, SpeakerData("Linda Medne", "", "", SpeakerRole.PANELLIST, 1)
    )
    activity = save_activity(
        world.organiser_a,
        event,
        ActivityData("Darbnīca", event.starts_at, event.ends_at, capacity=5),
        None,
        now,
    )
    save_activity(
        world.organiser_a,
        event,
        ActivityData("Darbnīca", event.starts_at, event.ends_at, capacity=8),
        activity,
        now,
    )
    remove_part(world.organiser_a, event, _db.session.get(Speaker, speaker.id))
    _db.session.commit()
    _, plain = create_token(world.organiser_a, "door phone", now)
    _db.session.commit()
    response = client.get(
        f"/api/v1/events/{event.id}/checkins/offline", headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 200
    _db.session.expire_all()
    entries = _db.session.scalars(
        select(AuditEntry).where(AuditEntry.event_id == event.id).order_by(AuditEntry.id)
    ).all()
    shown_en = [shown(e, "en") for e in entries if e.action == "event.update"]
    assert shown_en == [
        f"speaker {speaker.id} added",
        f"activity {activity.id} added; places – → 5",
        f"activity {activity.id} changed; places 5 → 8",
        f"speaker {speaker.id} removed",
    ]
    assert all(e.actor_id == world.organiser_a.id for e in entries)
    (door_list,) = [e for e in entries if e.action == "export.door_list"]
    assert shown(door_list, "en") == "rows: 0"
