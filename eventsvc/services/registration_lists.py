"""An event's registrations as organisers see them: search, filter, the export (CSV and XLSX),
the attendance sheet."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..folding import fold
from ..i18n import label, language_word, local_date, local_datetime, local_time
from ..models import ActivityWait, CheckIn, Event, Registration, RegistrationStatus
from ..needs import needs_text
from . import NotFound, name_search
from .registration import waitlist_positions
from .spreadsheet import SEMICOLON, About, csv_bytes, xlsx_bytes


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


def attendance_rows(event: Event) -> list[Registration]:
    """The confirmed registrations, by name, for the printed attendance sheet (with their
    activities and the activities they wait for)."""
    rows = db.session.scalars(
        registrations_query(event, status=RegistrationStatus.CONFIRMED).options(
            selectinload(Registration.activity_waits).selectinload(ActivityWait.activity)
        )
    ).all()
    # Ā among the A's, not after Z (the door's folding: case and diacritics set aside).
    return sorted(rows, key=lambda r: (fold(r.name), r.name.casefold(), r.id))


# --- the export (CSV and XLSX, services/spreadsheet.py) ------------------------------------


@dataclass(frozen=True)
class ExportRow:
    """One registration as its export row reads it, with what the registration's own row
    does not hold."""

    registration: Registration
    let_in_at: datetime | None  # the first check-in at the door that was not undone
    waiting_position: int | None  # on the event's waiting list


@dataclass(frozen=True)
class ExportColumn:
    key: str
    header: (
        str | LazyString
    )  # lazy: translated when the file is written, in the organiser's language
    value: Callable[[ExportRow], object]  # numbers stay numbers, times datetimes (UTC)


def _activities(row: ExportRow) -> str:
    registration = row.registration
    held = [a.title for a in registration.activities]
    waiting = [  # on the activity's own waiting list
        f"{w.activity.title} ({label(RegistrationStatus.WAITLISTED)})"
        for w in registration.activity_waits
        if registration.status is RegistrationStatus.CONFIRMED
    ]
    return "; ".join(held + waiting)


# Every column of the registrations' export, in order: one line adds a column to the CSV and
# the XLSX alike. Enums and languages are words in the organiser's language, never codes.
EXPORT_COLUMNS: tuple[ExportColumn, ...] = (
    ExportColumn("id", _l("No."), lambda x: x.registration.id),
    ExportColumn("name", _l("Name"), lambda x: x.registration.name),
    ExportColumn("status", _l("Status"), lambda x: label(x.registration.status)),
    ExportColumn("waiting_position", _l("Place on the waiting list"), lambda x: x.waiting_position),
    ExportColumn("party_size", _l("People"), lambda x: x.registration.party_size),
    ExportColumn("attendance", _l("Taking part"), lambda x: label(x.registration.attendance)),
    ExportColumn("checked_in", _l("People let in"), lambda x: x.registration.checked_in_people),
    ExportColumn("let_in_at", _l("Let in at"), lambda x: x.let_in_at),
    ExportColumn("email", _l("Email"), lambda x: x.registration.email or ""),
    ExportColumn("phone", _l("Phone"), lambda x: x.registration.phone or ""),
    ExportColumn("activities", _l("Activities"), _activities),
    ExportColumn(
        "needs", _l("Accessibility needs"), lambda x: needs_text(x.registration, one_line=False)
    ),
    ExportColumn("language", _l("Language"), lambda x: language_word(x.registration.language)),
    ExportColumn("source", _l("Registered via"), lambda x: label(x.registration.source)),
    ExportColumn("registered_at", _l("Registered at"), lambda x: x.registration.created_at),
    ExportColumn("cancelled_at", _l("Cancelled at"), lambda x: x.registration.cancelled_at),
)
# The columns that stay in view when the XLSX scrolls sideways: the number and the name.
FROZEN_COLUMNS = 2


def _first_let_in(event: Event) -> dict[int, datetime]:
    """When the door first let someone of each party in (check-ins not undone), one query."""
    return dict(
        db.session.execute(
            select(CheckIn.registration_id, func.min(CheckIn.scanned_at))
            .where(CheckIn.event_id == event.id, CheckIn.undone_at.is_(None))
            .group_by(CheckIn.registration_id)
        ).all()
    )


_EXPORT_ORDER = case(
    {RegistrationStatus.CONFIRMED: 0, RegistrationStatus.WAITLISTED: 1},
    value=Registration.status,
    else_=2,
)


def export_rows(event: Event) -> Iterator[ExportRow]:
    """Every registration of the event (any status; confirmed first, the waiting list in its
    order, then the cancelled), as export rows."""
    let_in = _first_let_in(event)
    positions = waitlist_positions(event.id)
    query = (
        registrations_query(event)
        .options(selectinload(Registration.activity_waits).selectinload(ActivityWait.activity))
        .order_by(None)
        .order_by(_EXPORT_ORDER, Registration.id)
    )
    for registration in db.session.scalars(query):
        yield ExportRow(registration, let_in.get(registration.id), positions.get(registration.id))


def export_table(event: Event) -> tuple[list[str], Iterator[list[object]]]:
    """The header (in the current language) and the rows of the event's export."""
    header = [str(column.header) for column in EXPORT_COLUMNS]
    rows = ([column.value(row) for column in EXPORT_COLUMNS] for row in export_rows(event))
    return header, rows


def registrations_csv(event: Event, delimiter: str = SEMICOLON) -> bytes:
    """The event's registrations as CSV: for Latvian Excel (semicolons) or, with COMMA, for
    other programs; no cell runs as a formula (spreadsheet.csv_bytes)."""
    return csv_bytes(*export_table(event), delimiter=delimiter)


def registrations_xlsx(event: Event, now: datetime) -> bytes:
    """The event's registrations as an XLSX workbook, with a sheet that says what it is."""
    header, rows = export_table(event)
    return xlsx_bytes(
        _("Registrations"),
        header,
        rows,
        frozen=f"{chr(ord('A') + FROZEN_COLUMNS)}2",
        about=About(
            sheet=_("About"),
            lines=[
                event.title,
                f"{local_date(event.starts_at)}, {local_time(event.starts_at)}",
                _("Downloaded: %(when)s", when=local_datetime(now, "short")),
                _("Times are Riga time."),
            ],
        ),
    )
