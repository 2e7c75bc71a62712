"""Small builders for test data, written straight to the models (no rules applied), so a
test can set up any state, including ones the services would refuse to create."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from werkzeug.security import generate_password_hash

from eventsvc.extensions import db
from eventsvc.models import (
    Campaign,
    CampaignKind,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Municipality,
    Organisation,
    OrganisationKind,
    Role,
    TargetGroup,
    User,
)

PASSWORD = "correct horse battery"
# Hashed once with few iterations: the production hash (scrypt) would cost every test ~0.1 s.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


@dataclass
class World:
    tukums: Municipality
    daugavpils: Municipality
    org_a: Organisation
    org_b: Organisation
    organiser_a: User
    organiser_b: User
    ministry: User
    admin: User
    campaign: Campaign


def user(email: str, role: Role, organisations=()) -> User:
    account = User(
        email=email, name=email.split("@")[0], role=role, organisations=list(organisations)
    )
    account.password_hash = PASSWORD_HASH
    db.session.add(account)
    return account


def world(now: datetime) -> World:
    tukums = Municipality(name="Tukuma novads", slug="tukums")
    daugavpils = Municipality(name="Daugavpils valstspilsēta", slug="daugavpils")
    org_a = Organisation(
        name="Tukuma novada Sociālais dienests",
        slug="tukums-sd",
        kind=OrganisationKind.SOCIAL_SERVICE,
        municipality=tukums,
    )
    org_b = Organisation(
        name="Daugavpils pilsētas Sociālais dienests",
        slug="daugavpils-sd",
        kind=OrganisationKind.SOCIAL_SERVICE,
        municipality=daugavpils,
    )
    campaign = Campaign(name="Savējais savējiem!", kind=CampaignKind.CAMPAIGN)
    db.session.add_all([tukums, daugavpils, org_a, org_b, campaign])
    w = World(
        tukums=tukums,
        daugavpils=daugavpils,
        org_a=org_a,
        org_b=org_b,
        organiser_a=user("a@example.lv", Role.ORGANISER, [org_a]),
        organiser_b=user("b@example.lv", Role.ORGANISER, [org_b]),
        ministry=user("lm@example.lv", Role.MINISTRY),
        admin=user("admin@example.lv", Role.ADMIN),
        campaign=campaign,
    )
    db.session.commit()
    return w


def event(
    organisation: Organisation,
    starts_at: datetime,
    *,
    title: str = "Sociālais darbs kopienā – kā kopā iet tālāk",
    status: EventStatus = EventStatus.PUBLISHED,
    hours: float = 2,
    kind: EventKind = EventKind.DISCUSSION,
    target_groups=(TargetGroup.EVERYONE,),
    **fields,
) -> Event:
    values = dict(
        kind=kind,
        status=status,
        title=title,
        summary="Diskusija",
        organisation=organisation,
        municipality=organisation.municipality,
        venue_name="Tumes kultūras nams",
        venue_address="Pasta iela 1A, Tume, Tukuma novads",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        format=EventFormat.IN_PERSON,
        published_at=starts_at - timedelta(days=30) if status is not EventStatus.DRAFT else None,
    )
    values.update(fields)
    item = Event(**values)
    item.target_groups = list(target_groups)
    db.session.add(item)
    db.session.commit()
    return item


def registration_request(**fields):
    from eventsvc.services.registration import RegistrationRequest

    values = dict(name="Anna Bērziņa", email=None, phone=None, party_size=1, consent=True)
    values.update(fields)
    if values["email"] is None and values["phone"] is None:
        values["email"] = f"person{next(_counter)}@example.lv"
    return RegistrationRequest(**values)


_counter = iter(range(1, 10**9))
