"""Models → JSON for the API. Public fields only: a registration is shown to its holder."""

from __future__ import annotations

from flask import url_for

from ...i18n import current_language
from ...models import TEXT_LANGUAGES, Event, Registration
from ...services.registration import (
    ActivityChoice,
    Availability,
    RegistrationWindow,
    activity_choices,
    stream_link,
    waitlist_position,
)


def _time(value):
    return value.isoformat() if value else None


def texts(item, names: tuple[str, ...], language: str | None = None) -> dict:
    """The localised text (Accept-Language, or a registrant's language) with the language
    it is in: the Latvian where the requested one is not written (models.events.Translated).
    The plain fields stay the Latvian; `translations` carries the other languages as written."""
    language = language or current_language()
    return {
        "text": {
            name: {"text": local.text, "lang": local.lang}
            for name in names
            for local in [item.text(name, language)]
        },
        "translations": {
            lang: {name: getattr(item, f"{name}_{lang}") for name in names}
            for lang in TEXT_LANGUAGES
        },
    }


def event_summary(event: Event, window: RegistrationWindow, places_left: int | None) -> dict:
    return {
        "id": event.id,
        "title": event.title,
        "kind": event.kind.value,
        "status": event.status.value,
        "summary": event.summary,
        "starts_at": _time(event.starts_at),
        "ends_at": _time(event.ends_at),
        "municipality": event.municipality.name,
        "organisation": event.organisation.name,
        "format": event.format.value,
        "target_groups": [g.value for g in event.target_groups],
        "registration_state": window.state.value,
        "registration_closes_at": _time(window.closes_at),
        "capacity": event.capacity,
        "places_left": places_left,
        # No place left now: a new registration goes on the waiting list.
        "full": places_left == 0,
        "url": url_for("public.event", event_id=event.id, _external=True),
        **texts(event, ("title", "summary")),
    }


def event_detail(event: Event, window: RegistrationWindow, places: Availability) -> dict:
    return {
        **event_summary(event, window, places.places_left),
        **texts(event, Event.TRANSLATED),
        "description": event.description,
        "venue_name": event.venue_name,
        "venue_address": event.venue_address,
        "desk_opens_at": _time(event.desk_opens_at),
        "stream_url": event.stream_url if event.stream_public else None,
        "accessibility": event.accessibility,
        "language": event.language,
        "campaign": event.campaign.name if event.campaign else None,
        "registration": {
            "state": window.state.value,
            "message": window.describe(),
            "opens_at": _time(window.opens_at),
            "closes_at": _time(window.closes_at),
            "capacity": places.capacity,
            "places_left": places.places_left,
            "waitlisted_people": places.waitlisted_people,
        },
        "speakers": [
            {
                "name": s.name,
                "title": s.title,
                "organisation": s.organisation,
                "role": s.role.value,
                **texts(s, s.TRANSLATED),
            }
            for s in event.speakers
        ],
        "activities": [
            {
                "id": a.id,
                "title": a.title,
                "kind": a.kind.value,
                "starts_at": _time(a.starts_at),
                "ends_at": _time(a.ends_at),
                "location": a.location,
                "capacity": a.capacity,
                "places_left": places.activities[a.id].left,
                "waiting_parties": places.activities[a.id].waiting_parties,
                **texts(a, a.TRANSLATED),
            }
            for a in event.activities
        ],
    }


def activity_choice(choice: ActivityChoice) -> dict:
    """Where a party stands in one activity it asked for."""
    return {
        "id": choice.activity.id,
        "title": choice.activity.title,
        "status": choice.status.value,
        "waitlist_position": choice.position,
    }


def registration(item: Registration) -> dict:
    choices = activity_choices(item)
    return {
        "status": item.status.value,
        "waitlist_position": waitlist_position(item),
        "name": item.name,
        "party_size": item.party_size,
        "attendance": item.attendance.value,
        # What it asked for; a cancelled registration: what it held.
        "activity_ids": [c.activity.id for c in choices] or [a.id for a in item.activities],
        "activities": [activity_choice(c) for c in choices],
        "needs": item.needs,
        "access_needs": [need.value for need in item.access_needs],
        "language": item.language,
        "event_id": item.event_id,
        "event_title": item.event.title,
        # In the registrant's language, like their mails and ticket.
        "event_title_text": texts(item.event, ("title",), item.language)["text"]["title"],
        "starts_at": _time(item.event.starts_at),
        "stream_url": stream_link(item),
        "follow_up_consent": item.follow_up_consent_at is not None,
    }
