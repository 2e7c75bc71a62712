"""Organisations and municipalities, as administrators keep them, and each organisation's
public contacts (which its own organisers keep too)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute

from ..extensions import db
from ..models import Municipality, Organisation, OrganisationKind, User
from . import PermissionDenied, ValidationFailed, access, audit
from .input_rules import check_text, text_problem
from .registration import is_phone_number


def slugify(name: str) -> str:
    """'Ādažu novada Sociālais dienests' -> 'adazu-novada-socialais-dienests' (for URLs and the CLI)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:80] or "org"


def _taken(
    model: type[Organisation | Municipality],
    column: InstrumentedAttribute[str],
    value: str,
    existing_id: int | None,
) -> bool:
    owner = db.session.scalar(select(model.id).where(func.lower(column) == value.lower()))
    return owner is not None and owner != existing_id


@dataclass
class OrganisationData:
    name: str
    kind: OrganisationKind
    municipality_id: int | None = None
    slug: str = ""
    email: str | None = None
    phone: str | None = None


def save_organisation(
    actor: User, data: OrganisationData, existing: Organisation | None = None
) -> Organisation:
    access.require_admin(actor)
    errors: dict[str, str] = {}
    check_text(
        errors,
        {"name": data.name, "slug": data.slug, "email": data.email, "phone": data.phone},
    )
    name = data.name.strip() if "name" not in errors else ""
    slug = slugify(data.slug.strip() or name) if "slug" not in errors else ""
    existing_id = existing.id if existing else None
    if "name" not in errors and not name:
        errors["name"] = _("Enter the organisation's name.")
    elif "name" not in errors and _taken(Organisation, Organisation.name, name, existing_id):
        errors["name"] = _("An organisation with this name already exists.")
    if "slug" not in errors and _taken(Organisation, Organisation.slug, slug, existing_id):
        errors["slug"] = _("This short name is taken by another organisation.")
    if data.municipality_id is not None and (
        not 0 < data.municipality_id < 2**31
        or db.session.get(Municipality, data.municipality_id) is None
    ):
        errors["municipality_id"] = _("Choose a municipality from the list.")
    email, phone = _public_contacts(data.email, data.phone, errors)
    if errors:
        raise ValidationFailed(errors)
    organisation = existing or Organisation()
    before = (
        {c: getattr(organisation, c) for c in _ORGANISATION_FIELDS} if existing is not None else {}
    )
    organisation.name = name
    organisation.slug = slug
    organisation.kind = data.kind
    organisation.municipality_id = data.municipality_id
    organisation.email, organisation.phone = email, phone
    db.session.add(organisation)
    db.session.flush()
    _record_change(actor, organisation, before, created=existing is None)
    return organisation


def _public_contacts(
    email: str | None, phone: str | None, errors: dict[str, str]
) -> tuple[str | None, str | None]:
    """The contacts residents see, cleaned; a wrong one goes into `errors` (residents would
    call or write to it, so it must be usable)."""
    check_text(errors, {"email": email, "phone": phone})
    email = (email or "").strip() or None
    if email is not None and "email" not in errors:
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = _("Enter a valid email address, like name@example.lv.")
    phone = (phone or "").strip() or None
    if phone is not None and "phone" not in errors and not is_phone_number(phone):
        errors["phone"] = _("Enter a phone number with digits only, like +371 20000000.")
    return email, phone


def update_public_contacts(
    actor: User, organisation_id: int, email: str | None, phone: str | None
) -> Organisation:
    """An organiser keeps their own organisation's phone and email (admins any)."""
    access.require_organiser(actor)
    organisation = db.session.get(Organisation, organisation_id)
    if organisation is None or not access.can_manage_organisation(actor, organisation_id):
        raise PermissionDenied()
    errors: dict[str, str] = {}
    clean_email, clean_phone = _public_contacts(email, phone, errors)
    if errors:
        raise ValidationFailed(errors)
    before = {c: getattr(organisation, c) for c in _ORGANISATION_FIELDS}
    organisation.email, organisation.phone = clean_email, clean_phone
    db.session.flush()
    _record_change(actor, organisation, before, created=False)
    return organisation


def _record_change(
    actor: User, organisation: Organisation, before: dict[str, object], created: bool
) -> None:
    changed = [c for c in _ORGANISATION_FIELDS if before.get(c) != getattr(organisation, c)]
    audit.record(
        audit.Action.ORGANISATION_CREATE if created else audit.Action.ORGANISATION_UPDATE,
        actor=actor,
        target_type="organisation",
        target_id=organisation.id,
        organisation_id=organisation.id,
        detail=[
            audit.part(
                audit.N_("changed: %(fields)s"), fields=audit.names("organisation_field", changed)
            )
        ]
        if changed
        else "",
    )


_ORGANISATION_FIELDS = ("name", "slug", "kind", "municipality_id", "email", "phone")


def add_municipality(actor: User, name: str) -> Municipality:
    access.require_admin(actor)
    problem = text_problem(name)
    if problem is not None:
        raise ValidationFailed({"name": problem})
    name = name.strip()
    if not name:
        raise ValidationFailed({"name": _("Enter the municipality's name.")})
    if _taken(Municipality, Municipality.name, name, None) or _taken(
        Municipality, Municipality.slug, slugify(name), None
    ):
        raise ValidationFailed({"name": _("This municipality is already in the list.")})
    municipality = Municipality(name=name, slug=slugify(name))
    db.session.add(municipality)
    db.session.flush()
    audit.record(
        audit.Action.MUNICIPALITY_CREATE,
        actor=actor,
        target_type="municipality",
        target_id=municipality.id,
        detail=audit.part(audit.N_("short name: %(slug)s"), slug=municipality.slug),
    )
    return municipality


def list_organisations() -> list[tuple[Organisation, int, int]]:
    """Each organisation with its number of events and of organisers."""
    from ..models import Event, memberships

    events = (
        select(func.count(Event.id))
        .where(Event.organisation_id == Organisation.id)
        .scalar_subquery()
    )
    members = (
        select(func.count())
        .select_from(memberships)
        .where(memberships.c.organisation_id == Organisation.id)
        .scalar_subquery()
    )
    return [
        tuple(row)
        for row in db.session.execute(
            select(Organisation, events, members).order_by(Organisation.name)
        )
    ]


def list_organisations_plain() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.name)))


def list_municipalities() -> list[Municipality]:
    return list(db.session.scalars(select(Municipality).order_by(Municipality.name)))
