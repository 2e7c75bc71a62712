"""Attendance totals: the Ministry's dashboard (organisers see their own organisations')."""

from __future__ import annotations

from babel.dates import get_month_names
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms import DateField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from .. import needs as need_list
from ..extensions import db
from ..i18n import choices, label, local_date
from ..models import Campaign, Event, EventKind, Municipality
from ..services import audit, stats
from ..services.measures import EVERY_MEASURE, GLOSSARY, NEEDS, NEEDS_HIDDEN
from ..services.stats import METRICS, GroupBy, StatsFilter
from ..timezones import to_riga, utcnow
from . import stats_exports
from .forms import FlaskForm, filter_problems
from .input_guard import RequestRefused
from .same_origin import same_origin_only

bp = Blueprint("stats", __name__, url_prefix="/stats")

# The glossary, in its order (services/measures.py defines each). The tables show upcoming
# events and their people in one column ("upcoming") to fit 1366 px; the downloads carry every
# measure, each in its own column.
MEASURE_KEYS = [m.key for m in GLOSSARY]
COLUMNS = [k for k in MEASURE_KEYS if not k.startswith("upcoming_")] + ["upcoming"]
# The tables by municipality, kind … leave out the follow-up calls (a small number, shown in the
# headline, the per-event table and every download) so that their columns fit 1366 px.
TABLE_COLUMNS = [k for k in COLUMNS if k != "follow_up_calls"]
EXPORT_COLUMNS = MEASURE_KEYS + [k for k in EVERY_MEASURE if k in METRICS and k not in MEASURE_KEYS]
METRIC_LABELS = {key: m.label for key, m in EVERY_MEASURE.items()}
GROUP_LABELS = {
    GroupBy.MUNICIPALITY: _l("By municipality"),
    GroupBy.CAMPAIGN: _l("By campaign or pilot"),
    GroupBy.KIND: _l("By kind of event"),
    GroupBy.TARGET_GROUP: _l("By target group"),
    GroupBy.MONTH: _l("By month"),
}
# What a row of each table is (the first column's header).
ROW_LABELS = {
    GroupBy.MUNICIPALITY: _l("Municipality"),
    GroupBy.CAMPAIGN: _l("Campaign or pilot"),
    GroupBy.KIND: _l("Kind of event"),
    GroupBy.TARGET_GROUP: _l("Target group"),
    GroupBy.MONTH: _l("Month"),
}
FIRST_YEAR = 2024  # the service's first events


class StatsFilterForm(FlaskForm):
    year = SelectField(_l("Year"), validators=[Optional()])
    month = SelectField(_l("Month"), validators=[Optional()])
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

    def validate_year(self, field):
        """The API's year is not checked against the list: a year we can hold, or refused."""
        value = field.data or ""
        if (
            not field.validate_choice
            and value
            and not (value.isascii() and value.isdigit() and 1900 <= int(value) <= 2999)
        ):
            raise ValidationError(_l("Not a valid choice."))

    def validate_month(self, field):
        if field.data and not self.year.data and not self.for_api:
            raise ValidationError(_l("Choose the year of the month too."))


def _years() -> list[int]:
    """From the first events to the year after the last one planned."""
    last = db.session.scalar(select(func.max(Event.local_month)))
    until = max(int(last[:4]) if last else 0, to_riga(utcnow()).year) + 1
    return list(range(until, FIRST_YEAR - 1, -1))


def month_name(month: int) -> str:
    return get_month_names("wide", "stand-alone", locale=get_locale())[month]


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
    form.year.validate_choice = not for_api
    form.year.choices = [SelectChoice("", _("Any year"))] + [
        SelectChoice(str(y), str(y)) for y in _years()
    ]
    form.month.choices = [SelectChoice("", _("Any month"))] + [
        SelectChoice(str(m), month_name(m)) for m in range(1, 13)
    ]
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
        year=int(form.year.data) if form.year.data else None,
        month=int(form.month.data) if form.month.data else None,
    )


def _valid_filters() -> StatsFilter:
    """The filters of a file download; a value not understood is refused (400), not ignored:
    a file does not show why it holds everything."""
    form, filters = parse_filters(request.args)
    if filters is None:
        raise RequestRefused(filter_problems(form), "bad_filter")
    return filters


def describe_filters(filters: StatsFilter) -> list[str]:
    """The filters applied, in words, for subtitles, captions and the downloads."""
    parts = []
    if filters.municipality_id is not None:
        municipality = db.session.get(Municipality, filters.municipality_id)
        parts.append(municipality.name if municipality else "?")
    if filters.campaign_id is not None:
        campaign = db.session.get(Campaign, filters.campaign_id)
        parts.append(campaign.name if campaign else "?")
    if filters.kind is not None:
        parts.append(label(filters.kind))
    if filters.year is not None:
        parts.append(
            f"{month_name(filters.month)} {filters.year}" if filters.month else str(filters.year)
        )
    if filters.date_from and filters.date_to:
        parts.append(
            f"{local_date(filters.date_from, 'medium')} – {local_date(filters.date_to, 'medium')}"
        )
    elif filters.date_from:
        parts.append(_("from %(day)s", day=local_date(filters.date_from, "medium")))
    elif filters.date_to:
        parts.append(_("until %(day)s", day=local_date(filters.date_to, "medium")))
    return parts


def subtitle(filters: StatsFilter, scoped: bool) -> str:
    """What the page's totals are totals of."""
    parts = describe_filters(filters)
    if scoped:
        whose = (
            _("Totals of your organisations' events: %(filters)s.", filters=" · ".join(parts))
            if parts
            else _("Totals of your organisations' events.")
        )
    elif parts:
        whose = _("Totals for %(filters)s.", filters=" · ".join(parts))
    else:
        whose = _("Totals of all municipalities.")
    return whose + " " + _("No person is shown here, only numbers.")


def caption(group_by: GroupBy, filters: StatsFilter) -> str:
    parts = describe_filters(filters)
    name = str(GROUP_LABELS[group_by])
    return f"{name}: {' · '.join(parts)}" if parts else name


def value(totals, metric: str):
    return getattr(totals, metric)


@bp.before_request
@login_required
def require_reader():
    stats.require_stats_reader(current_user)


def _scope():
    return stats.require_stats_reader(current_user)


FILTER_ARGS = ("year", "month", "date_from", "date_to", "municipality", "campaign", "kind")


def _filter_args() -> dict:
    """The filters of this request, to carry into links and exports."""
    return {k: v for k, v in request.args.items() if k in FILTER_ARGS and v}


def row_filter(group_by: GroupBy, key: str) -> dict | None:
    """The filter that narrows the events list to one row of a table (where one exists)."""
    if group_by is GroupBy.MUNICIPALITY:
        return {"municipality": key}
    if group_by is GroupBy.CAMPAIGN:
        return {"campaign": key} if key != "0" else None
    if group_by is GroupBy.KIND:
        return {"kind": key}
    if group_by is GroupBy.MONTH:
        year, month = (int(part) for part in key.split("-"))
        return {"year": str(year), "month": str(month)}
    return None  # target groups are no filter of their own


@bp.get("/")
def dashboard():
    form, filters = parse_filters(request.args)
    filters = filters or StatsFilter()
    now, scope = utcnow(), _scope()
    sort = request.args.get("sort") if request.args.get("sort") in MEASURE_KEYS else None
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
        table_columns=TABLE_COLUMNS,
        measures=EVERY_MEASURE,
        group_labels=GROUP_LABELS,
        row_labels=ROW_LABELS,
        args=args,
        sort=sort,
        subtitle=subtitle(filters, scope is not None),
        caption=lambda group_by: caption(group_by, filters),
        row_filter=row_filter,
    ), 400 if form.errors else 200


def _download(
    kind: str, filename: str, title: str, header: list[str], rows, filters, more_glossary=()
):
    """CSV or XLSX of a totals table; `more_glossary` (column, what it counts) follows the
    measures' definitions on the XLSX's About sheet."""
    rates = {header.index(str(METRIC_LABELS["attendance_rate"]))}
    if kind == "xlsx":
        glossary = [
            (str(EVERY_MEASURE[c].label), str(EVERY_MEASURE[c].definition)) for c in EXPORT_COLUMNS
        ]
        return stats_exports.xlsx(
            filename + ".xlsx",
            title,
            header,
            rows,
            rates,
            about=[title, *describe_filters(filters or StatsFilter())],
            glossary=[*glossary, *more_glossary],
        )
    return stats_exports.csv(filename + ".csv", header, rows, rates)


def _needs_glossary() -> list[tuple[str, str]]:
    hidden = _("A hidden count reads “%(word)s” in this file.", word=_("hidden"))
    return [
        (str(need_list.LABELS[need]), f"{NEEDS.definition} {NEEDS_HIDDEN} {hidden}")
        for need in need_list.NEEDS
    ]


def _need_cells(row) -> list[int | str]:
    """A row's count of each need, or the word "hidden" where the page shows ‹5."""
    return [_("hidden") if row.needs[need] is None else row.needs[need] for need in need_list.NEEDS]


def _table(group: str, kind: str):
    if group not in GroupBy._value2member_map_:
        abort(404)
    group_by = GroupBy(group)
    filters, scope = _valid_filters(), _scope()
    rows = stats.breakdown(group_by, filters or StatsFilter(), scope, utcnow())
    _record_export(scope, group, len(rows), filters)
    return _download(
        kind,
        f"attendance-by-{group}",
        caption(group_by, filters or StatsFilter()),
        [str(ROW_LABELS[group_by])]
        + [str(METRIC_LABELS[c]) for c in EXPORT_COLUMNS]
        + [str(need_list.LABELS[need]) for need in need_list.NEEDS],
        (
            [row.label] + [value(row.totals, c) for c in EXPORT_COLUMNS] + _need_cells(row)
            for row in rows
        ),
        filters,
        more_glossary=_needs_glossary(),
    )


@bp.get("/<group>.csv")
@same_origin_only
def table_csv(group: str):
    return _table(group, "csv")


@bp.get("/<group>.xlsx")
@same_origin_only
def table_xlsx(group: str):
    return _table(group, "xlsx")


def _events(kind: str):
    filters, scope = _valid_filters(), _scope()
    lines = stats.events_behind(filters or StatsFilter(), scope, utcnow())
    columns = [c for c in EXPORT_COLUMNS if c not in stats.EVENT_COUNTS]
    _record_export(scope, "event", len(lines), filters)
    return _download(
        kind,
        "attendance-by-event",
        _("The events behind the totals"),
        [_("Event"), _("Starts"), _("Municipality"), _("Ended")]
        + [str(METRIC_LABELS[c]) for c in columns],
        (
            [line.title, to_riga(line.starts_at).replace(tzinfo=None), line.municipality]
            + [bool(line.totals.ended_events)]
            + [value(line.totals, c) for c in columns]
            for line in lines
        ),
        filters,
    )


@bp.get("/events.csv")
@same_origin_only
def events_csv():
    return _events("csv")


@bp.get("/events.xlsx")
@same_origin_only
def events_xlsx():
    return _events("xlsx")


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
            audit.part(audit.N_("filters: %(f)s"), f=audit.names("stats_filter", used))
            if used
            else None,
        ],
    )


@bp.get("/events")
def events():
    """The events behind a total: titles, dates and counts."""
    form, filters = parse_filters(request.args)
    filters = filters or StatsFilter()
    lines = stats.events_behind(filters, _scope(), utcnow())
    args = _filter_args()
    return render_template(
        "stats/events.html",
        form=form,
        lines=lines,
        columns=[c for c in COLUMNS if c not in (*stats.EVENT_COUNTS, "upcoming")],
        measures=EVERY_MEASURE,
        args=args,
        subtitle=subtitle(filters, _scope() is not None),
        back=url_for(".dashboard", **args),
    ), 400 if form.errors else 200


@bp.get("/needs")
def needs():
    """Anonymous counts of the accessibility needs ticked, per group; a count under the
    minimum group size is hidden (services/stats.py never hands it out)."""
    form, filters = parse_filters(request.args)
    filters = filters or StatsFilter()
    now, scope = utcnow(), _scope()
    totals, counts = stats.summary(filters, scope, now)
    return render_template(
        "stats/needs.html",
        form=form,
        args=_filter_args(),
        subtitle=subtitle(filters, scope is not None),
        totals=totals,
        counts=counts,
        needs=[(need, need_list.LABELS[need]) for need in need_list.NEEDS],
        tables=[(g, stats.breakdown(g, filters, scope, now)) for g in GroupBy],
        group_labels=GROUP_LABELS,
        row_labels=ROW_LABELS,
        caption=lambda group_by: caption(group_by, filters),
        measures=EVERY_MEASURE,
        definition=NEEDS.definition,
        hidden_rule=NEEDS_HIDDEN,
    ), 400 if form.errors else 200


FEEDBACK_GROUPS = (GroupBy.MUNICIPALITY, GroupBy.CAMPAIGN, GroupBy.KIND, GroupBy.MONTH)


@bp.get("/feedback")
def feedback():
    """Anonymous feedback totals (never the free text: that is for the event's organisers)."""
    from ..services import feedback as feedback_service

    form, filters = parse_filters(request.args)
    filters = filters or StatsFilter()
    scope = _scope()
    return render_template(
        "stats/feedback.html",
        form=form,
        args=_filter_args(),
        subtitle=subtitle(filters, scope is not None),
        totals=feedback_service.feedback_headline(filters, scope),
        tables=[
            (g, feedback_service.feedback_breakdown(g, filters, scope)) for g in FEEDBACK_GROUPS
        ],
        group_labels=GROUP_LABELS,
        row_labels=ROW_LABELS,
        caption=lambda group_by: caption(group_by, filters),
        min_group=feedback_service.MIN_GROUP,
    ), 400 if form.errors else 200
