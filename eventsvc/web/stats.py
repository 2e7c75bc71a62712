"""Attendance totals: the Ministry's dashboard (organisers see their own organisations')."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from ..extensions import db
from ..i18n import choices
from ..models import Campaign, EventKind, Municipality
from ..services import audit, stats
from ..services.spreadsheet import csv_bytes
from ..services.stats import METRICS, GroupBy, StatsFilter
from ..timezones import to_riga, utcnow
from .forms import FlaskForm, filter_problems
from .input_guard import RequestRefused
from .same_origin import same_origin_only

bp = Blueprint("stats", __name__, url_prefix="/stats")

METRIC_LABELS = {
    "events": _l("Events"),
    "registrations": _l("Registrations"),
    "people_registered": _l("People registered"),
    "people_in_person": _l("In person"),
    "people_online": _l("Online"),
    "people_checked_in": _l("People checked in"),
    "checked_in_registered": _l("Registered and came"),
    "walk_ins": _l("Walk-ins"),
    "no_shows": _l("No-shows"),
    "waitlisted_never_placed": _l("Waited, never got a place"),
    "attendance_rate": _l("Attendance rate"),
}
COLUMNS = [m for m in METRICS if m != "checked_in_registered"] + ["attendance_rate"]
GROUP_LABELS = {
    GroupBy.MUNICIPALITY: _l("By municipality"),
    GroupBy.CAMPAIGN: _l("By campaign or pilot"),
    GroupBy.KIND: _l("By kind of event"),
    GroupBy.TARGET_GROUP: _l("By target group"),
    GroupBy.MONTH: _l("By month"),
}


class StatsFilterForm(FlaskForm):
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    municipality = SelectField(_l("Municipality"), validators=[Optional()])
    campaign = SelectField(_l("Campaign or pilot"), validators=[Optional()])
    kind = SelectField(_l("Kind of event"), validators=[Optional()])
    for_api = False

    def validate_date_to(self, field):
        if (
            not self.for_api
            and field.data
            and self.date_from.data
            and field.data < self.date_from.data
        ):
            raise ValidationError(_l("The end date must not be before the start date."))

    def validate_municipality(self, field):
        _database_id(field)

    def validate_campaign(self, field):
        _database_id(field)


def _database_id(field) -> None:
    """An id outside the lists (the API's filters are not checked against them) is still a
    number the database holds."""
    value = field.data or ""
    if (
        not field.validate_choice
        and value
        and not (value.isascii() and value.isdigit() and 0 < int(value) < 2**31)
    ):
        raise ValidationError(_l("Not a valid choice."))


def parse_filters(args, for_api: bool = False) -> tuple[StatsFilterForm, StatsFilter | None]:
    """The filters from a query string; None when a value is not understood. A person is told
    when the end date comes before the start, or picks from the lists; the API answers an
    empty range, or an id with no events, with zeros, as it does any filter without events."""
    form = StatsFilterForm(args, meta={"csrf": False})
    form.for_api = for_api
    form.municipality.validate_choice = form.campaign.validate_choice = not for_api
    form.municipality.choices = [SelectChoice("", _("All municipalities"))] + [
        SelectChoice(str(m.id), m.name)
        for m in db.session.scalars(select(Municipality).order_by(Municipality.name))
    ]
    form.campaign.choices = [SelectChoice("", _("All campaigns"))] + [
        SelectChoice(str(c.id), c.name)
        for c in db.session.scalars(select(Campaign).order_by(Campaign.name))
    ]
    form.kind.choices = [SelectChoice("", _("All kinds")), *choices(EventKind)]
    if not form.validate():
        return form, None
    return form, StatsFilter(
        date_from=form.date_from.data,
        date_to=form.date_to.data,
        municipality_id=int(form.municipality.data) if form.municipality.data else None,
        campaign_id=int(form.campaign.data) if form.campaign.data else None,
        kind=EventKind(form.kind.data) if form.kind.data else None,
    )


def _valid_filters() -> StatsFilter:
    """The filters of a file download; a value not understood is refused (400), not ignored:
    a file does not show why it holds everything."""
    form, filters = parse_filters(request.args)
    if filters is None:
        raise RequestRefused(filter_problems(form), "bad_filter")
    return filters


def value(totals, metric: str):
    return getattr(totals, metric)


@bp.before_request
@login_required
def require_reader():
    stats.require_stats_reader(current_user)


def _scope():
    return stats.require_stats_reader(current_user)


FILTER_ARGS = ("date_from", "date_to", "municipality", "campaign", "kind")


def _filter_args() -> dict:
    """The filters of this request, to carry into links and exports."""
    return {k: v for k, v in request.args.items() if k in FILTER_ARGS and v}


def row_filter(group_by: GroupBy, key: str) -> dict | None:
    """The filter that narrows the events list to one row of a table (where one exists)."""
    import calendar

    if group_by is GroupBy.MUNICIPALITY:
        return {"municipality": key}
    if group_by is GroupBy.CAMPAIGN:
        return {"campaign": key} if key != "0" else None
    if group_by is GroupBy.KIND:
        return {"kind": key}
    if group_by is GroupBy.MONTH:
        year, month = (int(part) for part in key.split("-"))
        return {
            "date_from": f"{key}-01",
            "date_to": f"{key}-{calendar.monthrange(year, month)[1]:02d}",
        }
    return None  # target groups are no filter of their own


@bp.get("/")
def dashboard():
    form, filters = parse_filters(request.args)
    filters = filters or StatsFilter()
    now, scope = utcnow(), _scope()
    sort = request.args.get("sort") if request.args.get("sort") in COLUMNS else None
    tables = []
    for group_by in GroupBy:
        rows = stats.breakdown(group_by, filters, scope, now)
        if sort:
            rows.sort(
                key=lambda r: (value(r.totals, sort) is None, value(r.totals, sort) or 0),
                reverse=True,
            )
        tables.append((group_by, rows))
    args = _filter_args()
    return render_template(
        "stats/dashboard.html",
        form=form,
        totals=stats.headline(filters, scope, now),
        tables=tables,
        columns=COLUMNS,
        labels=METRIC_LABELS,
        group_labels=GROUP_LABELS,
        args=args,
        sort=sort,
        scoped=scope is not None,
        row_filter=row_filter,
    ), 400 if form.errors else 200


def _csv(filename: str, header: list[str], rows) -> Response:
    """For Excel, no cell a formula (services/spreadsheet.py)."""
    return Response(
        csv_bytes(header, rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<group>.csv")
@same_origin_only
def table_csv(group: str):
    if group not in GroupBy._value2member_map_:
        abort(404)
    filters, scope = _valid_filters(), _scope()
    rows = stats.breakdown(GroupBy(group), filters or StatsFilter(), scope, utcnow())
    _record_export(scope, group, len(rows), filters)
    return _csv(
        f"attendance-by-{group}.csv",
        [str(GROUP_LABELS[GroupBy(group)])] + [str(METRIC_LABELS[c]) for c in COLUMNS],
        ([row.label] + [_csv_value(value(row.totals, c)) for c in COLUMNS] for row in rows),
    )


@bp.get("/events.csv")
@same_origin_only
def events_csv():
    filters, scope = _valid_filters(), _scope()
    lines = stats.events_behind(filters or StatsFilter(), scope, utcnow())
    columns = [c for c in COLUMNS if c != "events"]
    _record_export(scope, "event", len(lines), filters)
    return _csv(
        "attendance-by-event.csv",
        [_("Event"), _("Starts"), _("Municipality")] + [str(METRIC_LABELS[c]) for c in columns],
        (
            [line.title, to_riga(line.starts_at).strftime("%Y-%m-%d %H:%M"), line.municipality]
            + [_csv_value(value(line.totals, c)) for c in columns]
            for line in lines
        ),
    )


def _record_export(
    scope: set[int] | None, table: str, rows: int, filters: StatsFilter | None
) -> None:
    """The audit log's note of a download: which table (a GroupBy value or "event"), which
    filters, how many rows."""
    used = [
        [name, audit.value(value)]
        for name, value in vars(filters or StatsFilter()).items()
        if value is not None
    ]
    audit.record_export(
        current_user,
        audit.Action.EXPORT_STATS,
        organisation_ids=scope,
        rows=rows,
        detail=[
            audit.part(audit.N_("totals %(t)s"), t=audit.names("stats_table", [table])),
            used and audit.part(audit.N_("filters: %(f)s"), f=audit.names("stats_filter", used)),
        ],
    )


def _csv_value(v):
    return "" if v is None else (f"{v:.3f}" if isinstance(v, float) else v)


@bp.get("/events")
def events():
    """The events behind a total: titles, dates and counts."""
    form, filters = parse_filters(request.args)
    lines = stats.events_behind(filters or StatsFilter(), _scope(), utcnow())
    args = _filter_args()
    return render_template(
        "stats/events.html",
        form=form,
        lines=lines,
        columns=COLUMNS,
        labels=METRIC_LABELS,
        back=url_for(".dashboard", **args),
    ), 400 if form.errors else 200
