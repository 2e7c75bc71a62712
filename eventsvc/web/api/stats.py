"""GET /api/v1/stats/attendance: the attendance totals as JSON, for the Ministry and
organisers (the same numbers and the same access rules as /stats/)."""

from __future__ import annotations

from typing import Any

from flask import jsonify, request
from flask_babel import gettext as _

from ...services import stats
from ...services.stats import METRICS, GroupBy
from ...timezones import utcnow
from ..stats import FILTER_ARGS, parse_filters
from . import bp
from .auth import api_user
from .errors import api_error


def _json(totals, needs) -> dict:
    body = {name: getattr(totals, name) for name in METRICS}
    body["attendance_rate"] = totals.attendance_rate
    # Per need, its count, or null where the minimum group size hides it (services/stats.py).
    body["needs"] = {need.value: n for need, n in needs.items()}
    return body


@bp.get("/stats/attendance")
def attendance():
    """Totals for the Ministry's reporting tools; organisers get their own organisations'."""
    user = api_user()
    scope = stats.require_stats_reader(user)
    group_by = request.args.get("group_by")
    if group_by is not None and group_by not in GroupBy._value2member_map_:
        return api_error(
            400,
            "bad_group_by",
            _("group_by is one of: %(values)s.", values=", ".join(g.value for g in GroupBy)),
        )
    form, filters = parse_filters(request.args, for_api=True)
    given_empty = [name for name in FILTER_ARGS if request.args.get(name) == ""]
    if filters is None or given_empty:
        return api_error(
            400,
            "bad_filter",
            _("Unknown filter: %(fields)s.", fields=", ".join([*form.errors, *given_empty])),
            {name: " ".join(map(str, messages)) for name, messages in form.errors.items()},
        )
    now = utcnow()
    body: dict[str, Any] = {
        "filters": {k: v for k, v in request.args.items() if k != "group_by"},
        "totals": _json(*stats.summary(filters, scope, now)),
    }
    if group_by is not None:
        body["group_by"] = group_by
        body["groups"] = [
            {"key": row.key, "label": row.label, **_json(row.totals, row.needs)}
            for row in stats.breakdown(GroupBy(group_by), filters, scope, now)
        ]
    return jsonify(body)
