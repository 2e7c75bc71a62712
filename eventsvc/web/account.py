"""A staff member's own account: where they are signed in ("sign out everywhere"), their
password, and personal API tokens for devices and scripts."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user, login_required
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import Length

from ..extensions import limiter
from ..i18n import local_date, local_time
from ..services import ValidationFailed, sessions
from ..services.accounts import MIN_PASSWORD_LENGTH, change_own_password
from ..services.api_tokens import create_token, revoke_token, tokens_of
from ..timezones import to_riga, utcnow
from .auth import sign_in, signed_out
from .forms import FlaskForm, add_errors

bp = Blueprint("account", __name__, url_prefix="/account")


class TokenForm(FlaskForm):
    name = StringField(
        _l("Name of the new token"), description=_l("e.g. the door phone of the culture house")
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[Length(max=200)])
    new_password = PasswordField(
        _l("New password"),
        validators=[Length(max=200)],
        description=_l("At least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
    )
    repeated_password = PasswordField(_l("New password again"), validators=[Length(max=200)])
    revoke_tokens = BooleanField(
        _l("Also revoke my API tokens"),
        default=True,
        description=_l(
            "Recommended if the password may be known to someone else. Devices and scripts "
            "that use a token stop working until they get a new one."
        ),
    )


@bp.before_request
@login_required
def require_login():
    return None


def _when(moment: datetime) -> str:
    """'today, 12:00', or '2026. gada 23. nov., 12:00': Riga time."""
    if to_riga(moment).date() == to_riga(utcnow()).date():
        return _("today, %(time)s", time=local_time(moment))
    return _("%(date)s, %(time)s", date=local_date(moment, "medium"), time=local_time(moment))


def _overview(password_form: PasswordForm, status: int = 200):
    idle = current_app.config["EVENTSVC_SESSION_IDLE"]
    return render_template(
        "account/overview.html",
        sessions=sessions.active_sessions(current_user, utcnow()),
        this_session=current_user.current_session,
        password_form=password_form,
        end_form=FlaskForm(),
        when=_when,
        idle_hours=round(idle.total_seconds() / 3600),
    ), status


@bp.get("/")
def overview():
    return _overview(PasswordForm(formdata=None))


@bp.post("/sessions/end")
def end_sessions():
    """Sign out everywhere: every session of the account, this one too, on every device."""
    if not FlaskForm().validate_on_submit():
        return redirect(url_for(".overview"))
    sessions.end_all(current_user)
    return signed_out(_("You have signed out on every device."))


def _password_attempts() -> str:
    return current_app.config["RATELIMIT_LOGIN_PER_EMAIL"]


def _password_key() -> str:
    # Checked before login_required runs: an anonymous caller has no id (and gets the login page).
    return f"password-change:{getattr(current_user, 'id', None)}"


def _too_many_password_attempts(limit):
    form = PasswordForm()
    form.current_password.errors = [
        _("Too many failed sign-in attempts. Please wait a few minutes and try again.")
    ]
    return current_app.make_response(_overview(form, 429))


@bp.post("/password")
@limiter.limit(
    _password_attempts,
    key_func=_password_key,
    methods=["POST"],
    on_breach=_too_many_password_attempts,
)
def change_password():
    """A new password ends every session of the account, everywhere; this device goes on
    with a fresh one (the person in front of it has just proved they know the password)."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return _overview(form, 422)
    remembered = bool(current_user.current_session and current_user.current_session.remembered)
    try:
        revoked = change_own_password(
            current_user,
            form.current_password.data,
            form.new_password.data,
            form.repeated_password.data,
            revoke_tokens=form.revoke_tokens.data,
            now=utcnow(),
        )
    except ValidationFailed as exc:
        add_errors(form, exc.errors)
        return _overview(form, 422)
    sign_in(current_user._get_current_object(), remember=remembered)
    message = _("Your password is changed; you are signed out on every other device.")
    if revoked:
        message += " " + ngettext(
            "%(num)d API token is revoked.", "%(num)d API tokens are revoked.", revoked
        )
    flash(message, "success")
    # The form's address ends in #password-heading (so that its errors are in view);
    # the message stands at the top.
    return redirect(url_for(".overview", _anchor="main"))


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
    elif form.is_submitted():
        status = 422
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
