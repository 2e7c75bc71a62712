"""An event's registrations as organisers see them: search, filter, CSV, attendance sheet."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Event, Registration, RegistrationStatus
from ..timezones import to_riga
from . import NotFound, name_search
from .spreadsheet import csv_bytes


def registrations_query(
    event: Event, search: str = "", status: RegistrationStatus | None = None
) -> Select[Registration]:
    """Registrations of `event`, waiting list in queue order after the confirmed ones."""
    query = (
        select(Registration)
        .where(Registration.event_id == event.id)
        .options(selectinload(Registration.activities), selectinload(Registration.activity_waits))
        .order_by(Registration.status, Registration.id)
    )
    if status is not None:
        query = query.where(Registration.status == status)
    # As at the door: each word typed begins a word of the name, the phone's digits or the
    # booking code, case and diacritics ignored; or it is part of the email address.
    for term, condition in name_search.conditions(event.id, search):
        query = query.where(or_(condition, func.coalesce(Registration.email, "").like(f"%{term}%")))
    return query


def registrations_count(event: Event) -> int:
    """How many registrations (any status) the event has: the rows of its CSV."""
    return (
        db.session.scalar(
            select(func.count(Registration.id)).where(Registration.event_id == event.id)
        )
        or 0
    )


def registration_of_event(event: Event, registration_id: int) -> Registration:
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        raise NotFound()
    return registration


CSV_COLUMNS = (
    "id",
    "status",
    "name",
    "email",
    "phone",
    "party_size",
    "attendance",
    "activities",
    "needs",
    "language",
    "source",
    "registered_at",
)


def registrations_csv(event: Event, labels: Callable[[object], str]) -> bytes:
    """The event's registrations for Excel (spreadsheet.csv_bytes: no cell runs as a formula);
    `labels` translates the header and enum values into the organiser's language."""
    return csv_bytes(
        [labels(column) for column in CSV_COLUMNS],
        (
            [
                r.id,
                labels(r.status),
                r.name,
                r.email or "",
                r.phone or "",
                r.party_size,
                labels(r.attendance),
                "; ".join(
                    [a.title for a in r.activities]
                    + [  # on the activity's own waiting list
                        f"{w.activity.title} ({labels(RegistrationStatus.WAITLISTED)})"
                        for w in r.activity_waits
                        if r.status is RegistrationStatus.CONFIRMED
                    ]
                ),
                r.needs,
                r.language,
                r.source.value,
                # Riga time, as organisers read it
                to_riga(r.created_at).strftime("%Y-%m-%d %H:%M"),
            ]
            for r in db.session.scalars(registrations_query(event))
        ),
    )
