"""Who may do what. Every permission question is answered here, so views stay thin and
the rules can be tested without a request."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..models import Event, Organisation, Role, User
from . import NotFound, PermissionDenied


def is_staff(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.is_active


def managed_organisation_ids(user: User) -> set[int] | None:
    """Organisations whose events `user` manages; None means all of them (admin)."""
    if user.role is Role.ADMIN:
        return None
    if user.role is Role.ORGANISER:
        return {org.id for org in user.organisations}
    return set()


def can_manage_organisation(user: User, organisation_id: int) -> bool:
    allowed = managed_organisation_ids(user)
    return allowed is None or organisation_id in allowed


def can_manage_event(user: User, event: Event) -> bool:
    return can_manage_organisation(user, event.organisation_id)


def require_organiser(user: User) -> None:
    """Organisers and admins manage events; the Ministry only reads totals."""
    if not is_staff(user) or user.role not in (Role.ORGANISER, Role.ADMIN):
        raise PermissionDenied()


def organisations_managed_by(user: User) -> list[Organisation]:
    require_organiser(user)
    allowed = managed_organisation_ids(user)
    query = select(Organisation).order_by(Organisation.name)
    if allowed is not None:
        query = query.where(Organisation.id.in_(allowed))
    return list(db.session.scalars(query))


def event_for_manager(user: User, event_id: int) -> Event:
    """The event, if `user` may manage it. Another organisation's event is reported as
    missing, so ids cannot be probed."""
    require_organiser(user)
    event = db.session.get(Event, event_id)
    if event is None or not can_manage_event(user, event):
        raise NotFound()
    return event


# --- the door ------------------------------------------------------------------------------
# Door volunteers (Role.DOOR) check people in, register walk-ins and find names at their
# organisations' events, and nothing else: no event editing, exports, audit log or totals
# (every check above refuses them), and of a registrant they see the name, the party and
# the needs to be met at the door, never the contact details.

DOOR_ROLES = (Role.ORGANISER, Role.ADMIN, Role.DOOR)


def require_door(user: User) -> None:
    if not is_staff(user) or user.role not in DOOR_ROLES:
        raise PermissionDenied()


def door_organisation_ids(user: User) -> set[int] | None:
    """Organisations at whose events `user` works the door; None means all (admin)."""
    require_door(user)
    if user.role is Role.ADMIN:
        return None
    return {org.id for org in user.organisations}


def event_for_door(user: User, event_id: int) -> Event:
    """The event, if `user` may check people in there; another organisation's event is
    reported as missing, as for managers."""
    allowed = door_organisation_ids(user)
    event = db.session.get(Event, event_id)
    if event is None or (allowed is not None and event.organisation_id not in allowed):
        raise NotFound()
    return event


def sees_contacts(user: User) -> bool:
    """Whether `user` may see a registrant's email and phone (the door role may not)."""
    return is_staff(user) and user.role in (Role.ORGANISER, Role.ADMIN)


def require_admin(user: User) -> None:
    if not is_staff(user) or user.role is not Role.ADMIN:
        raise PermissionDenied()


def audit_scope(user: User) -> set[int] | None:
    """Organisations whose audit entries `user` may read; None means all (admin). The
    Ministry reads totals only, so no entries at all."""
    require_organiser(user)
    return managed_organisation_ids(user)
