"""Data-subject requests: everything held about one email address, as a download."""

from __future__ import annotations

from flask import Response, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import EmailField
from wtforms.validators import InputRequired

from ...services import ValidationFailed, privacy
from ...timezones import to_riga, utcnow
from ..forms import FlaskForm, add_errors
from . import bp


class DataRequestForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[InputRequired(_l("Enter the email address."))],
        description=_l("The address the person registered with."),
    )


@bp.route("/data-requests", methods=["GET", "POST"])
def data_request():
    """A POST (with its CSRF token), so that the address never appears in a URL or a log."""
    form = DataRequestForm()
    nothing_found, status = False, 200
    if form.validate_on_submit():
        now = utcnow()
        try:
            document = privacy.data_subject_export(current_user, form.email.data, now)
        except ValidationFailed as exc:
            add_errors(form, exc.errors)
            status = 422
        else:
            if document["registrations"]:
                response = Response(privacy.export_json(document), mimetype="application/json")
                filename = f"data-request-{to_riga(now):%Y%m%d-%H%M}.json"
                response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
                response.headers["Cache-Control"] = "private, no-store"
                return response
            nothing_found = True
    elif form.is_submitted():
        status = 422
    return render_template(
        "organiser/data_request.html", form=form, nothing_found=nothing_found
    ), status
