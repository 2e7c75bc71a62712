"""The audit log pages: /admin/audit for admins (every entry) and /manage/audit for
organisers (their organisations' entries; admins see everything there too). Which entries
a user reads is decided in services/audit.py; these views only parse filters and render."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from ..i18n import local_date
from ..services import access, audit
from ..services.events import events_for_manager
from .forms import FlaskForm, page_arg

bp = Blueprint("audit", __name__)


class AuditFilterForm(FlaskForm):
    event = SelectField(_l("Event"), validators=[Optional()])
    action = SelectField(_l("Action"), validators=[Optional()])


@bp.before_request
@login_required
def require_login():
    return None


@bp.get("/admin/audit")
def admin_log():
    access.require_admin(current_user)
    return _log_page("audit.admin_log")


@bp.get("/manage/audit")
def manage_log():
    access.require_organiser(current_user)
    return _log_page("audit.manage_log")


def _log_page(endpoint: str):
    form = AuditFilterForm(request.args, meta={"csrf": False})
    form.event.choices = [SelectChoice("", _("All events"))] + [
        SelectChoice(str(e.id), f"{e.title} ({local_date(e.starts_at, 'short')})")
        for e in events_for_manager(current_user)
    ]
    form.action.choices = [SelectChoice("", _("All actions"))] + [
        SelectChoice(a.value, audit.action_label(a)) for a in audit.Action
    ]
    valid = form.validate()  # an event that is not the user's is no choice: the filter is ignored
    event_id = int(form.event.data) if valid and form.event.data else None
    action = form.action.data if valid and form.action.data else None
    result = audit.entries_for(current_user, event_id=event_id, action=action, page=page_arg())
    return render_template(
        "audit/log.html",
        form=form,
        page=result.page,
        events=result.events,
        args={k: v for k, v in (("event", event_id), ("action", action)) if v},
        endpoint=endpoint,
        action_label=audit.action_label,
        target_label=audit.target_label,
        detail_text=audit.detail_text,
    )
