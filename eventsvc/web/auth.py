"""Staff sign-in. Residents never sign in: their manage link is their key."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..extensions import limiter
from ..models import Role
from ..services import ServiceError, sessions
from ..services.accounts import authenticate
from ..timezones import utcnow
from .forms import FlaskForm

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)]
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


def safe_next(target: str | None) -> str | None:
    """Only a path on our own site: never an absolute or scheme-relative URL."""
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return None
    if any(
        ord(c) < 32 or ord(c) == 127 for c in target
    ):  # browsers drop tabs and newlines: "/\t/evil"
        return None
    return target


# --- throttling: sign-in attempts count per client address and per email address tried -----
# Every attempt is counted before the password is checked (the limiter's test-and-increment is
# atomic), so a burst of parallel guesses cannot slip through before the first is counted.


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _login_limit_per_email() -> str:
    return current_app.config["RATELIMIT_LOGIN_PER_EMAIL"]


def _email_key() -> str:
    """The email address being tried, hashed: the limiter's storage never holds addresses."""
    email = (request.form.get("email") or "").strip().lower()
    return "login-email:" + hashlib.sha256(email.encode()).hexdigest()


def _throttled(limit):
    """The form again, still usable, with a clear message (429)."""
    form = LoginForm()
    form.password.errors = [
        _("Too many failed sign-in attempts. Please wait a few minutes and try again.")
    ]
    form.password.data = None
    return current_app.make_response((render_template("auth/login.html", form=form), 429))


def home_for(user) -> str:
    if user.role in (Role.ORGANISER, Role.ADMIN):
        return url_for("organiser.events")
    if user.role is Role.DOOR:
        return url_for("organiser.door_events")  # their coming events, a door each
    return url_for("stats.dashboard")  # the Ministry reads totals


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], on_breach=_throttled)
@limiter.limit(_login_limit_per_email, key_func=_email_key, methods=["POST"], on_breach=_throttled)
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data, utcnow())
        except ServiceError as exc:
            form.password.errors = [*form.password.errors, exc.message]
        else:
            sign_in(user, remember=form.remember.data)
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form), 422 if form.errors else 200


def sign_in(user, *, remember: bool) -> None:
    """A new server-side session for `user` on this device (sign-in, or a new password on
    the account page), and its secret in this browser's cookies. The request's boundary
    commits it with the answer (or, if that fails, takes the cookie back too)."""
    sessions.start(user, utcnow(), remembered=remember, user_agent=request.user_agent.string)
    session.clear()  # a fresh session: nothing carried over from before
    login_user(user, remember=remember)


def signed_out(message: str):
    """This browser forgets its sign-in (the caller has ended the session on the server):
    to the calendar, with the door's offline data removed from the device."""
    session.clear()
    logout_user()  # after clear(): it asks for the remember cookie to be deleted too
    flash(message, "success")
    response = redirect(url_for("public.calendar"))
    # A door phone keeps attendee names for offline work: signing out removes them.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.post("/logout")
@login_required
def logout():
    sessions.end(current_user.current_session)
    return signed_out(_("You have signed out."))
