"""Registrations found by what people type: each word typed must begin a word of the name,
the phone's digits or the booking code, case and diacritics ignored (eventsvc/folding.py).
The door and the organiser's list both search this way."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from ..folding import prefix_range, search_terms
from ..models import Registration, RegistrationSearchTerm


def conditions(event_id: int, query: str | None) -> list[tuple[str, ColumnElement[bool]]]:
    """(the folded word, a condition on Registration) for each word of `query`: a range of the
    (event_id, term) index each, whatever the size of the event."""
    found: list[tuple[str, ColumnElement[bool]]] = []
    for term in search_terms(query):
        low, high = prefix_range(term)
        found.append(
            (
                term,
                Registration.id.in_(
                    select(RegistrationSearchTerm.registration_id).where(
                        RegistrationSearchTerm.event_id == event_id,
                        RegistrationSearchTerm.term >= low,
                        RegistrationSearchTerm.term < high,
                    )
                ),
            )
        )
    return found
