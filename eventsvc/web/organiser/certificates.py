"""Attendance certificates of a training: issue them (one or everyone let in), download them."""

from __future__ import annotations

import logging

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import HiddenField, StringField
from wtforms.validators import Optional

from ...extensions import db
from ...models import EventKind, Registration
from ...services import ServiceError, ValidationFailed, access
from ...services import certificates as service
from ...services.pdf_fonts import FontMissing
from ...timezones import utcnow
from ..boundary import discard
from ..forms import FlaskForm
from . import bp

log = logging.getLogger(__name__)


class IssueForm(FlaskForm):
    hours = StringField(
        _l("Hours on the certificate"),
        description=_l("The training's length in hours, e.g. 6 or 7.5."),
    )
    registration_id = HiddenField(validators=[Optional()])


def pdf_response(certificate, filename: str) -> ResponseReturnValue:
    """The PDF, or a plain error page when the server cannot make one (no font)."""
    try:
        body = service.certificate_pdf(certificate)
    except FontMissing as exc:
        log.error("%s", exc.message)
        return render_template(
            "error.html",
            code=503,
            message=_("Certificates cannot be made on this server at the moment."),
        ), 503
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/events/<int:event_id>/certificates", methods=["GET", "POST"])
def certificates(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    form = IssueForm()
    if request.method == "GET":
        form.hours.data = str(service.default_hours(event)).rstrip("0").rstrip(".")
    elif form.validate_on_submit():
        one = (
            int(form.registration_id.data) if (form.registration_id.data or "").isdigit() else None
        )
        try:
            issued = service.issue(current_user, event, form.hours.data, utcnow(), one)
        except ValidationFailed as exc:
            discard()  # what comes back reads the rows as stored; nothing is kept
            form.hours.errors = [*form.hours.errors, exc.errors["hours"]]
        except ServiceError as exc:
            discard()  # what comes back reads the rows as stored; nothing is kept
            flash(exc.message, "error")
            return redirect(url_for(".certificates", event_id=event.id))
        else:
            flash(_("Certificates issued: %(n)d.", n=issued), "success")
            return redirect(url_for(".certificates", event_id=event.id))
    return render_template(
        "organiser/certificates.html",
        event=event,
        form=form,
        training=event.kind is EventKind.TRAINING,
        attendees=service.attendees(current_user, event),
        number=service.number,
    ), 422 if form.errors else 200


@bp.get("/events/<int:event_id>/certificates/<int:registration_id>.pdf")
def certificate_pdf(event_id: int, registration_id: int):
    event = access.event_for_manager(current_user, event_id)
    registration = db.session.get(Registration, registration_id)
    if registration is None or registration.event_id != event.id:
        abort(404)
    certificate = service.certificate_of(registration)
    if certificate is None:
        abort(404)
    return pdf_response(certificate, f"certificate-{service.number(certificate)}.pdf")
