"""Public pages: the calendar, an event, and their iCalendar files. No account needed."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote_plus

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..i18n import current_language
from ..models import EventKind, TargetGroup
from ..services import calendar as calendar_service
from ..services.calendar import CalendarFilter
from ..services.ical import calendar_bytes
from ..services.privacy_notice import PRIVACY_NOTICE_DATE
from ..services.registration import availability, places_left_by_event, registration_window
from ..timezones import utcnow
from .forms import CalendarFilterForm, filter_problems, page_arg
from .input_guard import RequestRefused
from .registration_form import registration_form

bp = Blueprint("public", __name__)


def _filters() -> tuple[CalendarFilterForm, CalendarFilter]:
    form = CalendarFilterForm(request.args, meta={"csrf": False})
    form.municipality.choices = [SelectChoice("", _("All municipalities"))] + [
        SelectChoice(str(m.id), m.name) for m in calendar_service.municipalities_with_events()
    ]
    if not form.validate():
        # Bad values in a shared link: the page shows everything, the form says why (400).
        return form, CalendarFilter()
    return form, CalendarFilter(
        municipality_id=int(form.municipality.data) if form.municipality.data else None,
        kind=EventKind(form.kind.data) if form.kind.data else None,
        target_group=TargetGroup(form.target_group.data) if form.target_group.data else None,
        date_from=form.date_from.data,
        date_to=form.date_to.data,
    )


@bp.get("/")
def calendar():
    form, filters = _filters()
    now = utcnow()
    page = db.paginate(
        calendar_service.calendar_query(filters, now),
        page=page_arg(),
        per_page=current_app.config["EVENTS_PER_PAGE"],
        max_per_page=100,
        error_out=False,
    )
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "public/calendar.html",
        form=form,
        page=page,
        args=args,
        windows={e.id: registration_window(e, now) for e in page.items},
        places_left=places_left_by_event(page.items),
        now=now,
        feed_url=url_for(".calendar_feed", **args),
    ), 400 if form.errors else 200


@bp.get("/privacy")
def privacy():
    return render_template("public/privacy.html", notice_date=PRIVACY_NOTICE_DATE)


# The accessibility statement (EU Directive 2016/2102, Cabinet Regulation No. 445): prepared on
# this date by self-assessment; revise the date whenever the statement is reviewed.
ACCESSIBILITY_STATEMENT_DATE = date(2026, 11, 27)


@bp.get("/accessibility")
def accessibility():
    return render_template("public/accessibility.html", prepared_on=ACCESSIBILITY_STATEMENT_DATE)


@bp.get("/calendar.ics")
def calendar_feed():
    form, filters = _filters()
    if form.errors:
        raise RequestRefused(filter_problems(form), "bad_filter")
    now = utcnow()
    events = db.session.scalars(calendar_service.calendar_query(filters, now).limit(500))
    return _ics_response(events, _("Community events"), "calendar.ics", now)


@bp.get("/events/<int:event_id>")
def event(event_id: int):
    return render_event_page(calendar_service.public_event(event_id))


def render_event_page(event, form=None, status: int = 200, refusal: str | None = None):
    """The event page, with the registration form while registration is open; after a
    refused registration, the refusal at its top instead of the form."""
    now = utcnow()
    window = registration_window(event, now)
    places = availability(event)
    if form is None and window.is_open and refusal is None:
        form = registration_form(event, places)
    address = ", ".join(p for p in (event.venue_name, event.venue_address) if p)
    return render_template(
        "public/event.html",
        event=event,
        window=window,
        places=places,
        form=form,
        refusal=refusal,
        now=now,
        map_url=f"https://www.openstreetmap.org/search?query={quote_plus(event.venue_address)}"
        if event.venue_address
        else None,
        address=address,
    ), status


@bp.get("/events/<int:event_id>.ics")
def event_ics(event_id: int):
    event = calendar_service.public_event(event_id)
    # In the page's language, like the page it is linked from.
    title = event.text("title", current_language()).text
    return _ics_response([event], title, f"event-{event.id}.ics", utcnow())


def _ics_response(events, name: str, filename: str, now) -> Response:
    body = calendar_bytes(
        events,
        url_for_event=lambda e: url_for("public.event", event_id=e.id, _external=True),
        uid_domain=request.host.split(":")[0],
        name=name,
        now=now,
        language=current_language(),
    )
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
