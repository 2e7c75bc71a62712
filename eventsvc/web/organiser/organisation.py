"""An organiser's own organisation: the public phone and email residents call or write to."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import EmailField, TelField
from wtforms.validators import Length, Optional

from ...extensions import db
from ...models import Organisation
from ...services import PermissionDenied, ValidationFailed, access
from ...services import organisations as organisation_service
from ..forms import FlaskForm, add_errors
from . import bp


class PublicContactsForm(FlaskForm):
    phone = TelField(
        _l("Phone for residents"),
        validators=[Optional(), Length(max=40)],
        description=_l("e.g. +371 64000000 — a number someone answers during working hours."),
        render_kw={"autocomplete": "tel"},
    )
    email = EmailField(
        _l("Email for residents"),
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "email"},
    )


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def organisation(organisation_id: int):
    found = db.session.get(Organisation, organisation_id)
    if found is None or not access.can_manage_organisation(current_user, organisation_id):
        raise PermissionDenied()
    form = PublicContactsForm(obj=found)
    if form.validate_on_submit():
        try:
            organisation_service.update_public_contacts(
                current_user, organisation_id, form.email.data, form.phone.data
            )
        except ValidationFailed as exc:
            add_errors(form, exc.errors)
        else:
            flash(_("The public contacts are saved."), "success")
            return redirect(url_for(".events"))
    return render_template(
        "organiser/organisation.html", organisation=found, form=form
    ), 422 if form.errors else 200
