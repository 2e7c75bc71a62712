"""An organiser sees and edits only their organisations' events, whatever the URL says."""

from __future__ import annotations

import pytest

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, EventStatus, Speaker
from eventsvc.services import NotFound, PermissionDenied, access

from . import factories
from .conftest import login, post_form


@pytest.fixture
def events(world, in_days):
    mine = factories.event(world.org_a, in_days(10), title="Tukuma pasākums", hours=4)
    theirs = factories.event(
        world.org_b, in_days(10), title="Daugavpils pasākums", status=EventStatus.DRAFT, hours=4
    )
    speaker = Speaker(name="Svešs runātājs")
    activity = Activity(title="Svešā darbnīca", starts_at=theirs.starts_at, ends_at=theirs.ends_at)
    theirs.speakers.append(speaker)
    theirs.activities.append(activity)
    _db.session.commit()
    return mine, theirs, speaker, activity


def test_organiser_cannot_reach_another_organisations_event_by_url(client, world, events):
    mine, theirs, speaker, activity = events
    login(client, world.organiser_a.email)
    assert "Daugavpils pasākums" not in client.get("/manage/").get_data(as_text=True)
    for url in (
        f"/manage/events/{theirs.id}",
        f"/manage/events/{theirs.id}/edit",
        f"/manage/events/{theirs.id}/cancel",
        f"/manage/events/{theirs.id}/speakers/new",
        f"/manage/events/{theirs.id}/speakers/{speaker.id}",
        f"/manage/events/{theirs.id}/activities/{activity.id}",
        # Their speaker and activity reached through my own event's URL.
        f"/manage/events/{mine.id}/speakers/{speaker.id}",
        f"/manage/events/{mine.id}/activities/{activity.id}",
    ):
        assert client.get(url).status_code == 404, url
    token_page = f"/manage/events/{mine.id}"
    for url in (
        f"/manage/events/{theirs.id}/publish",
        f"/manage/events/{theirs.id}/cancel",
        f"/manage/events/{theirs.id}/speakers/{speaker.id}/delete",
        f"/manage/events/{mine.id}/speakers/{speaker.id}/delete",
        f"/manage/events/{mine.id}/activities/{activity.id}/delete",
    ):
        assert post_form(client, url, {}, form_url=token_page).status_code == 404, url
    _db.session.refresh(theirs)
    assert theirs.status is EventStatus.DRAFT
    assert _db.session.get(Speaker, speaker.id) is not None
    assert _db.session.get(Activity, activity.id) is not None


def test_organiser_cannot_move_an_event_into_another_organisation(client, world, events):
    from .test_organiser_pages import event_form

    mine, *_ = events
    login(client, world.organiser_a.email)
    response = post_form(
        client,
        f"/manage/events/{mine.id}/edit",
        event_form(world, mine.starts_at, organisation_id=str(world.org_b.id)),
    )
    assert response.status_code == 422
    _db.session.refresh(mine)
    assert mine.organisation_id == world.org_a.id


def test_admin_manages_every_organisation(client, world, events):
    _, theirs, *_ = events
    login(client, world.admin.email)
    assert client.get(f"/manage/events/{theirs.id}/edit").status_code == 200


def test_ministry_and_anonymous_users_cannot_manage(client, world, events):
    mine, *_ = events
    assert client.get("/manage/").status_code == 302  # to the sign-in page
    assert "/login" in client.get(f"/manage/events/{mine.id}").location
    login(client, world.ministry.email)
    assert client.get("/manage/").status_code == 403
    assert client.get(f"/manage/events/{mine.id}").status_code == 403


def test_service_layer_refuses_too(db, world, events):
    mine, theirs, *_ = events
    with pytest.raises(NotFound):
        access.event_for_manager(world.organiser_a, theirs.id)
    with pytest.raises(PermissionDenied):
        access.event_for_manager(world.ministry, mine.id)
    assert access.event_for_manager(world.organiser_a, mine.id) is mine
    assert [o.id for o in access.organisations_managed_by(world.organiser_b)] == [world.org_b.id]


MENU = {  # the header's links, and the permission that shows each
    "/manage/": "manage_events",
    "/manage/audit": "manage_events",
    "/admin/audit": "administer",
    "/stats/": "read_totals",
    "/admin/users": "administer",
    "/admin/organisations": "administer",
    "/admin/outbox": "administer",
    "/account/": "own_api_tokens",
    "/manage/door": "door_home",  # my account: sign-ins, password, API tokens
}


def _menu_links(html: str) -> set[str]:
    import re

    menu = html.split('<ul class="menu">', 1)[1].split("</ul>", 1)[0]
    return set(re.findall(r'href="([^"]+)"', menu)) & set(MENU)


@pytest.mark.parametrize("who", ["organiser_a", "ministry", "admin", None])
def test_the_menu_shows_what_the_access_rules_allow(client, world, who):
    """base.html asks `can.…` (services/access.py) and repeats no role check: each link in the
    menu is one the user may open, and each page they may open from it is in the menu."""
    user = getattr(world, who) if who else None
    can = access.permissions(user)
    for allowed, rule in (
        (can.manage_events, access.require_organiser),
        (can.administer, access.require_admin),
    ):
        if allowed:
            rule(user)
        else:
            with pytest.raises(PermissionDenied):
                rule(user)
    if user is not None:
        login(client, user.email)
    shown = _menu_links(client.get("/").get_data(as_text=True))
    expected = {url for url, permission in MENU.items() if getattr(can, permission)}
    # An admin's audit link is the whole log; an organiser's their organisations' part.
    expected -= {"/manage/audit"} if can.administer else {"/admin/audit"}
    assert shown == expected
    for url in shown:
        assert client.get(url).status_code == 200, url
    assert bool(shown) == (user is not None)


def test_base_template_asks_the_access_rules_not_the_role():
    from pathlib import Path

    base = (Path(__file__).parent.parent / "templates" / "base.html").read_text()
    assert ".role" not in base and "can.manage_events" in base
