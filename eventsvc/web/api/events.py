"""Public event endpoints: GET /api/v1/events (the calendar, filtered and paged) and
GET /api/v1/events/<id> (one event with its places left and registration window)."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask_babel import gettext as _

from ...extensions import db
from ...models import EventKind, TargetGroup
from ...services import calendar as calendar_service
from ...services.calendar import CalendarFilter
from ...services.registration import availability, registration_window
from ...timezones import utcnow
from ..forms import MAX_PAGE
from . import bp
from .errors import api_error
from .serialize import event_detail, event_summary


def _filters() -> CalendarFilter | None:
    from datetime import date

    args = request.args
    try:
        municipality = int(args["municipality"]) if args.get("municipality") else None
        if municipality is not None and not 0 < municipality < 2**31:
            return None
        return CalendarFilter(
            municipality_id=municipality,
            kind=EventKind(args["kind"]) if args.get("kind") else None,
            target_group=TargetGroup(args["target_group"]) if args.get("target_group") else None,
            date_from=date.fromisoformat(args["from"]) if args.get("from") else None,
            date_to=date.fromisoformat(args["to"]) if args.get("to") else None,
        )
    except ValueError:
        return None


@bp.get("/events")
def list_events():
    filters = _filters()
    if filters is None:
        return api_error(
            400,
            "bad_filter",
            _(
                "Unknown filter: municipality is an id, kind and target_group known values, from and to dates (YYYY-MM-DD)."
            ),
        )
    page_number = request.args.get("page", 1, type=int)
    per_page = request.args.get("per_page", current_app.config["EVENTS_PER_PAGE"], type=int)
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
    return jsonify(
        events=[event_summary(e, registration_window(e, now)) for e in page.items],
        page=page.page,
        pages=page.pages,
        total=page.total,
    )


@bp.get("/events/<int:event_id>")
def get_event(event_id: int):
    event = calendar_service.public_event(event_id)
    return jsonify(event_detail(event, registration_window(event, utcnow()), availability(event)))
