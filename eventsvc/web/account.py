"""A staff member's own account: personal API tokens for devices and scripts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import StringField

from ..services import ValidationFailed
from ..services.api_tokens import create_token, revoke_token, tokens_of
from ..timezones import utcnow
from .forms import FlaskForm, add_errors

bp = Blueprint("account", __name__, url_prefix="/account")


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name of the new token"), description=_l("e.g. the door phone of the culture house")
    )


@bp.before_request
@login_required
def require_login():
    return None


@bp.route("/tokens", methods=["GET", "POST"])
def tokens():
    form = TokenForm()
    new_token = None
    status = 200
    if form.validate_on_submit():
        try:
            _, new_token = create_token(current_user, form.name.data, utcnow())
        except ValidationFailed as exc:
            add_errors(form, exc.errors)
            status = 422
        else:
            form = TokenForm(formdata=None)
    return render_template(
        "account/tokens.html",
        form=form,
        tokens=tokens_of(current_user),
        new_token=new_token,
        revoke_form=FlaskForm(),
    ), status


@bp.post("/tokens/<int:token_id>/revoke")
def revoke(token_id: int):
    if FlaskForm().validate_on_submit():
        revoke_token(current_user, token_id, utcnow())
        flash(_("The token is revoked."), "success")
    return redirect(url_for(".tokens"))
