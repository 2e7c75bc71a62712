"""Administrators keep staff accounts, organisations and municipalities in the browser."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Municipality, Organisation, OrganisationKind, Role, User
from eventsvc.services import PermissionDenied, ValidationFailed
from eventsvc.services.accounts import UserData, save_user
from eventsvc.services.organisations import OrganisationData, save_organisation, slugify

from .conftest import FreshContextClient, login, post_form

NEW_PASSWORD = "ļoti droša parole 42"


def user_by_email(email: str) -> User | None:
    _db.session.expire_all()
    return _db.session.scalar(select(User).where(User.email == email))


def test_admin_adds_an_organiser_who_can_then_sign_in(app, client, world):
    login(client, world.admin.email)
    response = post_form(
        client,
        "/admin/users/new",
        {
            "name": "Inese Liepa",
            "email": "Inese.Liepa@Tukums.lv",
            "role": "organiser",
            "organisations": str(world.org_a.id),
            "password": NEW_PASSWORD,
            "active": "y",
        },
    )
    assert response.status_code == 302 and response.location == "/admin/users"
    created = user_by_email("inese.liepa@tukums.lv")
    assert created.role is Role.ORGANISER and [o.id for o in created.organisations] == [
        world.org_a.id
    ]
    assert NEW_PASSWORD not in created.password_hash and created.check_password(NEW_PASSWORD)
    assert "inese.liepa@tukums.lv" in client.get("/admin/users").get_data(as_text=True)

    other = app.test_client()
    assert login(other, "inese.liepa@tukums.lv", NEW_PASSWORD).location == "/manage/"


@pytest.mark.parametrize(
    "fields, bad_field",
    [
        ({"email": "a@example.lv"}, "email"),  # organiser A has it already
        ({"password": "short"}, "password"),
        ({"organisations": None}, "organisations"),
        ({"role": "ministry"}, "organisations"),  # the Ministry belongs to no organisation here
        ({"email": "not-an-address"}, "email"),
    ],
)
def test_account_form_errors_stand_next_to_their_field(client, world, fields, bad_field):
    login(client, world.admin.email)
    data = {
        "name": "X",
        "email": "x@example.lv",
        "role": "organiser",
        "organisations": str(world.org_a.id),
        "password": NEW_PASSWORD,
        "active": "y",
        **fields,
    }
    response = post_form(
        client, "/admin/users/new", {k: v for k, v in data.items() if v is not None}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{bad_field}-error"' in body
    assert user_by_email("x@example.lv") is None


def test_disabling_an_account_and_keeping_the_password(client, world):
    login(client, world.admin.email)
    old_hash = world.organiser_b.password_hash
    url = f"/admin/users/{world.organiser_b.id}"
    form = client.get(url).get_data(as_text=True)
    assert 'value="b@example.lv"' in form and "checked" in form
    response = post_form(
        client,
        url,
        {
            "name": "B",
            "email": "b@example.lv",
            "role": "organiser",
            "organisations": str(world.org_b.id),
            "password": "",
        },
    )  # "active" unticked
    assert response.status_code == 302
    changed = user_by_email("b@example.lv")
    assert changed.is_active_account is False and changed.password_hash == old_hash
    assert (
        post_form(
            FreshContextClient(client.application),
            "/login",
            {"email": "b@example.lv", "password": "correct horse battery"},
        ).status_code
        == 422
    )


def test_an_admin_cannot_lock_themselves_out(client, world):
    login(client, world.admin.email)
    url = f"/admin/users/{world.admin.id}"
    response = post_form(
        client,
        url,
        {
            "name": "A",
            "email": world.admin.email,
            "role": "organiser",
            "organisations": str(world.org_a.id),
            "active": "y",
        },
    )
    assert response.status_code == 422 and 'id="role-error"' in response.get_data(as_text=True)
    response = post_form(client, url, {"name": "A", "email": world.admin.email, "role": "admin"})
    assert response.status_code == 422 and 'id="active-error"' in response.get_data(as_text=True)
    assert user_by_email(world.admin.email).role is Role.ADMIN


def test_admin_adds_a_municipality_and_an_organisation(client, world):
    login(client, world.admin.email)
    assert (
        post_form(
            client,
            "/admin/municipalities",
            {"name": "Ludzas novads"},
            form_url="/admin/organisations",
        ).status_code
        == 302
    )
    again = post_form(
        client, "/admin/municipalities", {"name": "ludzas novads"}, form_url="/admin/organisations"
    )
    assert again.status_code == 422 and 'id="name-error"' in again.get_data(as_text=True)
    ludza = _db.session.scalar(select(Municipality).where(Municipality.name == "Ludzas novads"))
    assert ludza.slug == "ludzas-novads"

    response = post_form(
        client,
        "/admin/organisations/new",
        {
            "name": "Ludzas novada Sociālais dienests",
            "kind": "social_service",
            "municipality_id": str(ludza.id),
            "email": "SD@Ludza.lv",
            "phone": "+371 65700000",
        },
    )
    assert response.status_code == 302
    org = _db.session.scalar(
        select(Organisation).where(Organisation.slug == "ludzas-novada-socialais-dienests")
    )
    assert (org.kind, org.municipality_id, org.email) == (
        OrganisationKind.SOCIAL_SERVICE,
        ludza.id,
        "sd@ludza.lv",
    )
    assert "Ludzas novada Sociālais dienests" in client.get("/admin/organisations").get_data(
        as_text=True
    )

    duplicate = post_form(
        client,
        "/admin/organisations/new",
        {"name": world.org_a.name, "kind": "ngo", "municipality_id": "0"},
    )
    assert duplicate.status_code == 422 and 'id="name-error"' in duplicate.get_data(as_text=True)


def test_renaming_an_organisation_keeps_its_events_and_slug_rules(client, world):
    login(client, world.admin.email)
    url = f"/admin/organisations/{world.org_a.id}"
    response = post_form(
        client,
        url,
        {
            "name": "Tukuma novada Labklājības pārvalde",
            "kind": "social_service",
            "municipality_id": str(world.tukums.id),
            "slug": world.org_b.slug,
        },
    )
    assert response.status_code == 422 and 'id="slug-error"' in response.get_data(as_text=True)
    response = post_form(
        client,
        url,
        {
            "name": "Tukuma novada Labklājības pārvalde",
            "kind": "social_service",
            "municipality_id": str(world.tukums.id),
            "slug": "tukums-lp",
        },
    )
    assert response.status_code == 302
    _db.session.expire_all()
    assert (
        _db.session.get(Organisation, world.org_a.id).name,
        _db.session.get(Organisation, world.org_a.id).slug,
    ) == ("Tukuma novada Labklājības pārvalde", "tukums-lp")


def test_only_admins_reach_the_admin_pages(client, world):
    for url in (
        "/admin/users",
        "/admin/users/new",
        f"/admin/users/{world.admin.id}",
        "/admin/organisations",
        "/admin/organisations/new",
        f"/admin/organisations/{world.org_a.id}",
    ):
        assert client.get(url).status_code == 302  # to the sign-in page
    for user in (world.organiser_a, world.ministry):
        login(client, user.email)
        for url in ("/admin/users", "/admin/organisations", f"/admin/users/{world.admin.id}"):
            assert client.get(url).status_code == 403, (user.email, url)
        post_form(client, "/logout", {}, form_url="/stats/")


def test_the_service_layer_refuses_non_admins(db, world):
    with pytest.raises(PermissionDenied):
        save_user(world.organiser_a, UserData("z@example.lv", "Z", Role.ADMIN, [], NEW_PASSWORD))
    with pytest.raises(PermissionDenied):
        save_organisation(world.ministry, OrganisationData("Jauna", OrganisationKind.NGO))
    with pytest.raises(ValidationFailed):
        save_user(world.admin, UserData("z@example.lv", "Z", Role.ORGANISER, [], NEW_PASSWORD))


def test_slugs_drop_latvian_marks():
    assert slugify("Ādažu novada Sociālais dienests") == "adazu-novada-socialais-dienests"
    assert slugify("  Rēzeknes  valstspilsēta! ") == "rezeknes-valstspilseta"


def test_admin_changes_are_in_the_audit_log_without_values(client, world):
    from eventsvc.models import AuditEntry

    login(client, world.admin.email)
    post_form(
        client,
        "/admin/users/new",
        {
            "name": "Inese Liepa",
            "email": "inese@tukums.lv",
            "role": "organiser",
            "organisations": str(world.org_a.id),
            "password": NEW_PASSWORD,
            "active": "y",
        },
    )
    post_form(
        client,
        f"/admin/users/{world.organiser_b.id}",
        {
            "name": "B",
            "email": "b@example.lv",
            "role": "organiser",
            "organisations": str(world.org_b.id),
            "password": NEW_PASSWORD,
        },
    )
    post_form(
        client, "/admin/municipalities", {"name": "Ludzas novads"}, form_url="/admin/organisations"
    )
    _db.session.expire_all()
    entries = {(e.action, e.target_type): e for e in _db.session.scalars(select(AuditEntry))}
    created = entries[("user.create", "user")]
    assert created.actor_id == world.admin.id and "inese" not in created.detail.lower()
    changed = entries[("user.update", "user")].detail
    role, fields = json.loads(changed)
    assert role == {"m": "role: %(role)s", "a": {"role": ["role", "organiser"]}}
    assert {"name", "active", "password"} <= set(
        fields["a"]["fields"][1:]
    ) and NEW_PASSWORD not in changed
    assert json.loads(entries[("municipality.create", "municipality")].detail)["a"] == {
        "slug": "ludzas-novads"
    }
    client.set_cookie("lang", "en")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Staff account changed" in page
    assert (
        "role: Organiser; changed: " in page
        and "Name and surname" in page
        and "Account active" in page
    )
    assert "short name: ludzas-novads" in page
    client.set_cookie("lang", "lv")
    page = client.get("/admin/audit").get_data(as_text=True)
    assert (
        "loma: Organizators; mainīts: " in page
        and "Konts aktīvs" in page
        and "īsais nosaukums: ludzas-novads" in page
    )


def test_hostile_admin_input_is_a_field_error(client, world):
    login(client, world.admin.email)
    response = post_form(
        client,
        "/admin/organisations/new",
        {"name": "Jauna", "kind": "ngo", "municipality_id": "99999999999999999999"},
    )
    assert response.status_code == 422 and 'id="municipality_id-error"' in response.get_data(
        as_text=True
    )
    response = post_form(
        client,
        "/admin/users/new",
        {
            "name": "   ",
            "email": "x" * 130 + "@example.lv",
            "role": "ministry",
            "password": NEW_PASSWORD,
            "active": "y",
        },
    )
    assert response.status_code == 422 and 'id="name-error"' in response.get_data(as_text=True)
