"""The door: the check-in page, and the door role's list of events. It works as plain forms;
static/js/checkin.js adds the camera, live counts, search as one types and the offline
queue on top, through the JSON API."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import HiddenField, IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional

from ...services import ServiceError, ValidationFailed, access
from ...services import checkin as door
from ...services.registration import MAX_PARTY_SIZE
from ...timezones import utcnow
from ..forms import FlaskForm
from . import bp

# Views the door role may open too (organiser/views.py lets it past the blueprint's check;
# each view asks services/access.py about its event).
DOOR_ENDPOINTS = {
    "organiser.door_events",
    "organiser.checkin",
    "organiser.checkin_submit",
    "organiser.checkin_undo",
    "organiser.checkin_service_worker",
}


class CodeForm(FlaskForm):
    code = StringField("code", validators=[InputRequired()])


class PeopleForm(FlaskForm):
    registration_id = HiddenField()
    people = IntegerField("people", validators=[Optional(), NumberRange(min=1)])


class WalkInForm(FlaskForm):
    name = StringField("name", validators=[InputRequired()])
    people = IntegerField(
        "people", default=1, validators=[InputRequired(), NumberRange(min=1, max=MAX_PARTY_SIZE)]
    )


def _page(event, outcome=None, status=200, refused=None):
    """The door page; `refused` is a submitted form that failed, shown with its messages."""
    search = request.args.get("q", "")[:100].strip()
    return render_template(
        "organiser/checkin.html",
        event=event,
        outcome=outcome,
        counts=door.door_counts(event),
        search=search,
        found=door.door_list(event, search) if search else [],
        manages=access.can_manage_event(current_user, event),
        sees_contacts=access.sees_contacts(current_user),
        nonce=secrets.token_urlsafe(12),  # a reloaded form (F5) replays, not repeats
        code_form=refused if isinstance(refused, CodeForm) else CodeForm(formdata=None),
        people_form=PeopleForm(formdata=None),
        walk_in_form=refused if isinstance(refused, WalkInForm) else WalkInForm(formdata=None),
        max_party_size=MAX_PARTY_SIZE,
    ), status


@bp.get("/door")
def door_events():
    """Where the door role lands: the coming events of their organisations, a door each."""
    return render_template(
        "organiser/door_events.html", events=door.door_events(current_user, utcnow())
    )


@bp.get("/events/<int:event_id>/checkin")
def checkin(event_id: int):
    return _page(access.event_for_door(current_user, event_id))


@bp.post("/events/<int:event_id>/checkin")
def checkin_submit(event_id: int):
    """Without JavaScript: a typed or scanned code, a person from the list, or a walk-in."""
    event = access.event_for_door(current_user, event_id)
    now = utcnow()
    kind = request.form.get("action")
    nonce = request.form.get("nonce") or None
    try:
        if kind == "code":
            form = CodeForm()
            if not form.validate_on_submit():
                return _invalid(event, form)
            outcome = door.check_in_ticket(event, form.code.data, current_user, now, nonce=nonce)
        elif kind == "person":
            form = PeopleForm()
            if not form.validate_on_submit() or not re.fullmatch(
                r"[0-9]{1,9}", form.registration_id.data or ""
            ):
                return _invalid(event, form)
            outcome = door.check_in_registration(
                event,
                int(form.registration_id.data),
                current_user,
                now,
                people=form.people.data,
                nonce=nonce,
            )
        elif kind == "walk_in":
            form = WalkInForm()
            if not form.validate_on_submit():
                return _invalid(event, form)
            outcome = door.register_walk_in(
                event, form.name.data, form.people.data, current_user, now, nonce=nonce
            )
        else:
            return _page(event, status=400)
    except (ValidationFailed, ServiceError) as exc:
        flash(exc.message, "error")
        return _page(event, status=409)
    return _page(event, outcome)


def _invalid(event, form):
    flash(
        _(
            "Please fill in the form: a ticket code, or a name and 1 to %(n)d people.",
            n=MAX_PARTY_SIZE,
        ),
        "error",
    )
    return _page(event, status=422, refused=form)


@bp.post("/events/<int:event_id>/checkin/<int:checkin_id>/undo")
def checkin_undo(event_id: int, checkin_id: int):
    event = access.event_for_door(current_user, event_id)
    if FlaskForm().validate_on_submit():
        checkin = door.undo_checkin(event, checkin_id, current_user, utcnow())
        message = door.undone_message(checkin)
        flash(message, "success")
    return redirect(url_for(".checkin", event_id=event.id))


@bp.get("/checkin-sw.js")
def checkin_service_worker() -> Response:
    """Served from /manage/ so that it may keep the check-in pages loadable offline."""
    assert current_app.static_folder is not None  # the app serves /static (create_app)
    script = (Path(current_app.static_folder) / "js" / "checkin-sw.js").read_bytes()
    response = Response(script, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/manage/"
    return response
