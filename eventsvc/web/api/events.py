"""Public event endpoints: GET /api/v1/events (the calendar, filtered and paged) and
GET /api/v1/events/<id> (one event with its places left and registration window)."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import gettext as _

from ...extensions import db
from ...models import EventKind, TargetGroup
from ...services import calendar as calendar_service
from ...services.calendar import CalendarFilter
from ...services.input_rules import EARLIEST_YEAR, LATEST_YEAR, parse_date
from ...services.registration import availability, places_left_by_event, registration_window
from ...timezones import utcnow
from ..forms import MAX_PAGE
from . import bp
from .errors import api_error
from .serialize import event_detail, event_summary


def _filters() -> CalendarFilter | None:
    args = request.args  # a filter given empty ("?to=") is not understood either
    try:
        municipality = _whole_number(args["municipality"]) if "municipality" in args else None
        if municipality is not None and not 0 < municipality < 2**31:
            return None
        filters = CalendarFilter(
            municipality_id=municipality,
            kind=EventKind(args["kind"]) if "kind" in args else None,
            target_group=TargetGroup(args["target_group"]) if "target_group" in args else None,
            date_from=parse_date(args["from"]) if "from" in args else None,
            date_to=parse_date(args["to"]) if "to" in args else None,
        )
    except ValueError:
        return None
    if ("from" in args and filters.date_from is None) or ("to" in args and filters.date_to is None):
        return None
    return filters


def _whole_number(value: str) -> int:
    """A query value as a number, or 0 when it is none (never the default: "?page=x" is an
    error, not the first page)."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else 0


@bp.get("/events")
def list_events():
    filters = _filters()
    if filters is None:
        return api_error(
            400,
            "bad_filter",
            _(
                "Unknown filter: municipality is an id, kind and target_group known values, from and to dates (YYYY-MM-DD, years %(first)d to %(last)d).",
                first=EARLIEST_YEAR,
                last=LATEST_YEAR,
            ),
        )
    page_number = _whole_number(request.args.get("page", "1"))
    per_page = _whole_number(
        request.args.get("per_page", str(current_app.config["EVENTS_PER_PAGE"]))
    )
    if not (1 <= page_number <= MAX_PAGE and 1 <= per_page <= 100):
        return api_error(
            400,
            "bad_page",
            _("page is a number from 1 to %(pages)d, per_page from 1 to 100.", pages=MAX_PAGE),
        )
    now = utcnow()
    page = db.paginate(
        calendar_service.calendar_query(filters, now),
        page=page_number,
        per_page=per_page,
        max_per_page=100,
        error_out=False,
    )
    places_left = places_left_by_event(page.items)
    return jsonify(
        events=[
            event_summary(e, registration_window(e, now), places_left[e.id]) for e in page.items
        ],
        page=page.page,
        pages=page.pages,
        total=page.total,
    )


@bp.get("/events/<int:event_id>")
def get_event(event_id: int):
    event = calendar_service.public_event(event_id)
    return jsonify(event_detail(event, registration_window(event, utcnow()), availability(event)))
