"""Who may do what. Every permission question is answered here, so views stay thin and
the rules can be tested without a request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from sqlalchemy import select

from ..extensions import db
from ..models import Event, Organisation, Role, User
from . import NotFound, PermissionDenied
from .locking import shared_event


def is_staff(user: User | None) -> TypeGuard[User]:
    """A signed-in, active staff account (`user` may be Flask-Login's anonymous visitor)."""
    return user is not None and bool(getattr(user, "is_authenticated", False) and user.is_active)


def may_manage_events(user: User | None) -> bool:
    """Organisers and admins manage events; the Ministry only reads totals."""
    return is_staff(user) and user.role in (Role.ORGANISER, Role.ADMIN)


def is_admin(user: User | None) -> bool:
    return is_staff(user) and user.role is Role.ADMIN


def may_read_totals(user: User | None) -> bool:
    """The Ministry and admins read every total, organisers their organisations' ones."""
    return is_staff(user) and user.role in (Role.MINISTRY, Role.ADMIN, Role.ORGANISER)


@dataclass(frozen=True)
class Permissions:
    """What the pages let `user` reach, for the menu (templates ask `can.manage_events`);
    each answer is the rule the pages themselves enforce."""

    manage_events: bool = False  # their events, registrations, check-in, and the audit log
    administer: bool = False  # accounts, organisations, the outbox, the whole audit log
    read_totals: bool = False  # /stats/
    own_api_tokens: bool = False  # /account/ (sign-ins, password, API tokens): any staff member
    door_home: bool = False  # /manage/door: a door-only account's list of events to check in at


def permissions(user: User | None) -> Permissions:
    return Permissions(
        manage_events=may_manage_events(user),
        administer=is_admin(user),
        read_totals=may_read_totals(user),
        own_api_tokens=is_staff(user),
        door_home=is_staff(user) and user.role is Role.DOOR,
    )


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
    if not may_manage_events(user):
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


def event_for_door(user: User, event_id: int, *, shared: bool = False) -> Event:
    """The event, if `user` may check people in there; another organisation's event is
    reported as missing, as for managers. `shared`: read with the FOR KEY SHARE lock that a
    scan takes anyway (services/locking.py), in the same statement."""
    allowed = door_organisation_ids(user)
    event = shared_event(event_id) if shared else db.session.get(Event, event_id)
    if event is None or (allowed is not None and event.organisation_id not in allowed):
        raise NotFound()
    return event


def sees_contacts(user: User) -> bool:
    """Whether `user` may see a registrant's email and phone (the door role may not)."""
    return is_staff(user) and user.role in (Role.ORGANISER, Role.ADMIN)


def require_admin(user: User) -> None:
    if not is_admin(user):
        raise PermissionDenied()


def audit_scope(user: User) -> set[int] | None:
    """Organisations whose audit entries `user` may read; None means all (admin). The
    Ministry reads totals only, so no entries at all."""
    require_organiser(user)
    return managed_organisation_ids(user)
