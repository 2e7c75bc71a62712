"""Registering for an event and managing one's own registration through its private link."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
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
from flask_login import current_user
from wtforms import BooleanField, EmailField, IntegerField, RadioField, TelField
from wtforms.validators import InputRequired, NumberRange

from ..extensions import limiter
from ..i18n import LANGUAGE_NAMES, choices
from ..models import Attendance, RegistrationSource, RegistrationStatus
from ..services import ServiceError, ValidationFailed, access, follow_up, privacy
from ..services import registration as rules
from ..services.calendar import public_event
from ..services.registration import RegistrationChange
from ..services.tickets import qr_png, ticket_is_valid
from ..timezones import utcnow
from ..transactions import after_commit
from .boundary import discard
from .forms import FlaskForm, add_errors
from .public import render_event_page
from .registration_form import (
    RegistrationForm,
    activity_choices_of,
    registration_form,
    submit_registration,
    ticked_needs,
)
from .unavailable import form_kept

bp = Blueprint("registration", __name__)


def _form_kept(message: str) -> str:
    """The form as the resident filled it in, when the database could not take it (busy or
    down: web/unavailable.py answers 503 with this page). Built from the request alone."""
    return render_template(
        "registration/unavailable.html",
        form=RegistrationForm(),
        message=message,
        event_id=(request.view_args or {})["event_id"],
        activity_ids=[
            value
            for value in request.form.getlist("activity_ids")[:50]
            if value.isascii() and value.isdigit() and len(value) < 10
        ],
    )


@bp.post("/events/<int:event_id>/register")
@form_kept(_form_kept)
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"])
def register(event_id: int):
    event = public_event(event_id)
    form = registration_form(event, rules.availability(event))
    if form.website.data:
        return _honeypot_answer(event, form)
    submitted = submit_registration(form, event.id, RegistrationSource.WEB)
    outcome = submitted.outcome
    if outcome is not None:
        registration = outcome.registration
        if outcome.manage_link_in_answer:
            # No email to send the link to: the manage page (with the printable ticket) is it.
            flash(
                _("You are registered. Keep this page's address or print your ticket."), "success"
            )
            return redirect(url_for(".manage", token=registration.manage_token))
        # The same answer whether or not this address had registered before.
        session["registration_outcome"] = {
            "event_id": event.id,
            "status": outcome.status.value,
            "position": outcome.waitlist_position,
            "email": form.email.data.strip(),
            "online": _attends_online(event, form),
            "activities": [
                [c.activity.title, c.status.value, c.position] for c in outcome.activities
            ],
        }
        return redirect(url_for(".registered", event_id=event.id))
    if submitted.refusal is not None:
        # Refused as a whole (closed meanwhile, cancelled …): the reason at the top of the
        # page, and no form that looks as if nothing had happened.
        return render_event_page(event, refusal=submitted.refusal, status=submitted.status)
    return render_event_page(event, form=form, status=submitted.status)


def _attends_online(event, form) -> bool:
    return event.format.value == "online" or (
        event.format.value == "hybrid" and form.attendance.data == "online"
    )


def _honeypot_answer(event, form):
    """A filled honeypot: the page a registration with an email address gets, and nothing
    saved or sent. The bot learns nothing; a person never sees the field."""
    current_app.logger.info("registration honeypot filled for event %s; nothing saved", event.id)
    chosen = set(form.activity_ids.data or [])
    session["registration_outcome"] = {
        "event_id": event.id,
        "status": "confirmed",
        "position": None,
        "email": (form.email.data or "").strip()[:254],
        "online": _attends_online(event, form),
        "activities": [[a.title, "confirmed", None] for a in event.activities if a.id in chosen],
    }
    return redirect(url_for(".registered", event_id=event.id))


def _staff_acting_on(registration):
    """An organiser of the event who follows a resident's private link (from a printed ticket,
    helping someone on the phone) acts as themselves: the audit log must say who it was."""
    if current_user.is_authenticated and access.can_manage_event(current_user, registration.event):
        return current_user
    return None


@bp.get("/events/<int:event_id>/registered")
def registered(event_id: int):
    outcome = session.get("registration_outcome")
    if not outcome or outcome.get("event_id") != event_id:
        return redirect(url_for("public.event", event_id=event_id))
    event = public_event(event_id)
    return render_template("registration/registered.html", event=event, outcome=outcome)


# --- the resident's own page, reached by the private link -----------------------------


class PartySizeForm(FlaskForm):
    party_size = IntegerField(
        _l("How many people come (you included)"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(min=1, message=_l("Enter at least 1.")),
        ],
    )


class ConfirmForm(FlaskForm):
    """A button and a CSRF token."""


class FollowUpConsentForm(FlaskForm):
    """The resident's agreement to be contacted after the event, on its own (any time)."""

    follow_up_consent = BooleanField(
        _l("If I cannot come, the social service may contact me afterwards to ask how I am.")
    )


def _follow_up_form(registration) -> FollowUpConsentForm:
    agreed = registration.follow_up_consent_at is not None
    form = FollowUpConsentForm(follow_up_consent=agreed)
    form.follow_up_consent.description = (
        _("Untick it and save to withdraw your agreement.")
        if agreed
        else _("Optional: tick it and save if you agree. You can withdraw it the same way.")
    )
    return form


class ChangeForm(FlaskForm):
    """Everything a resident may change through the private link (services: change_registration)."""

    party_size = IntegerField(
        _l("How many people come (you included)"),
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(min=1, message=_l("Enter at least 1.")),
        ],
    )
    attendance = RadioField(
        _l("How will you take part?"), choices=lambda: choices(Attendance), validate_choice=False
    )
    activity_ids = RegistrationForm.activity_ids
    access_needs = RegistrationForm.access_needs
    needs = RegistrationForm.needs
    email = EmailField(
        _l("Email"),
        description=_l(
            "If you change it, we send your registration to the new address and a notice to "
            "the old one."
        ),
    )
    phone = TelField(_l("Phone"))
    language = RegistrationForm.language

    validate_attendance = RegistrationForm.validate_attendance


def _change_form(registration) -> ChangeForm:
    """The change form: as posted, or filled in from the registration."""
    event = registration.event
    if request.method == "POST":
        form = ChangeForm()
    else:
        form = ChangeForm(
            party_size=registration.party_size,
            attendance=registration.attendance.value,
            activity_ids=[c.activity.id for c in rules.activity_choices(registration)],
            access_needs=[n.value for n in registration.access_needs],
            needs=registration.needs,
            email=registration.email or "",
            phone=registration.phone or "",
            language=registration.language,
        )
    form.activity_ids.choices = activity_choices_of(event, rules.availability(event))
    return form


def _manage_page(registration, change_form=None, status=200):
    from ..services.certificates import certificate_of

    now = utcnow()
    can_change = rules.resident_may_change(registration, now)
    undo_until = rules.resident_undo_until(registration)
    return render_template(
        "registration/manage.html",
        registration=registration,
        certificate=certificate_of(registration),
        event=registration.event,
        position=rules.waitlist_position(registration),
        stream_url=rules.stream_link(registration),
        choices=rules.activity_choices(registration),
        language_name=LANGUAGE_NAMES.get(registration.language, registration.language),
        change_form=change_form or (_change_form(registration) if can_change else None),
        follow_up_form=_follow_up_form(registration),
        cancel_form=ConfirmForm(),
        can_change=can_change,
        # Just cancelled: "Cancelled. Undo", while places allow.
        undo=rules.restore_preview(registration, now, by_user=_staff_acting_on(registration))
        if undo_until is not None and now < undo_until
        else None,
        undo_until=undo_until,
    ), status


@bp.get("/r/<token>")
@limiter.limit(lambda: current_app.config["RATELIMIT_MANAGE_LINK"])
def manage(token: str):
    return _manage_page(rules.registration_by_token(token))


@bp.post("/r/<token>/change")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"])
def change(token: str):
    """The resident's own change of their registration, all fields in one form."""
    registration = rules.registration_by_token(token)
    form = _change_form(registration)
    if not form.validate_on_submit():
        return _manage_page(registration, form, 422)
    hybrid = registration.event.format.value == "hybrid"
    change = RegistrationChange(
        party_size=form.party_size.data,
        attendance=Attendance(form.attendance.data)
        if hybrid and form.attendance.data in Attendance._value2member_map_
        else None,
        activity_ids=list(form.activity_ids.data or []),
        needs=form.needs.data or "",
        access_needs=ticked_needs(form),
        phone=form.phone.data or "",
        email=form.email.data or "",
        language=form.language.data,
    )
    try:
        outcome = rules.change_registration(
            registration, change, utcnow(), by_user=_staff_acting_on(registration)
        )
    except ValidationFailed as exc:
        discard()  # the page shows the registration as it is stored
        add_errors(form, exc.errors)
        return _manage_page(rules.registration_by_token(token), form, 422)
    except ServiceError as exc:  # no room (next to its field); too late, cancelled (on top)
        discard()
        if exc.field is not None and exc.field in form:
            add_errors(form, {exc.field: exc.message})
        else:
            flash(exc.message, "error")
        return _manage_page(rules.registration_by_token(token), form, 409)
    if not outcome.changed:
        flash(_("Nothing was changed."), "success")
    else:
        registration = rules.registration_by_token(token)
        if registration.email:
            flash(
                _(
                    "Your registration is changed. We have sent a confirmation to %(email)s.",
                    email=registration.email,
                ),
                "success",
            )
        else:
            flash(_("Your registration is changed."), "success")
    # To the top, where the message is (not the form's #change, which the browser would keep).
    return redirect(url_for(".manage", token=token, _anchor="main"))


@bp.post("/r/<token>/follow-up")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"])
def follow_up_consent(token: str):
    """Agree, or no longer agree, to be contacted after the event (also after it has ended)."""
    registration = rules.registration_by_token(token)
    form = FollowUpConsentForm()
    if not form.validate_on_submit():
        abort(400)
    agree = bool(form.follow_up_consent.data)
    try:
        changed = follow_up.set_consent(
            registration, agree, utcnow(), by_user=_staff_acting_on(registration)
        )
    except ServiceError as exc:
        discard()  # refused, answered with a flash and a redirect: keep nothing of it
        flash(exc.message, "error")
    else:
        if not changed:
            flash(_("Nothing was changed."), "success")
        elif agree:
            flash(_("Thank you: the social service may contact you if you cannot come."), "success")
        else:
            flash(
                _("Your agreement is withdrawn: nobody will contact you after the event."),
                "success",
            )
    return redirect(url_for(".manage", token=token, _anchor="follow-up-title"))


@bp.post("/r/<token>/party-size")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"])
def change_party_size(token: str):
    """The number of people alone (pages from before the full change form)."""
    registration = rules.registration_by_token(token)
    form = PartySizeForm()

    def page_with(errors, status):
        registration = rules.registration_by_token(token)
        change_form = _change_form(registration)
        change_form.party_size.errors = list(errors)
        return _manage_page(registration, change_form, status)

    if not form.validate_on_submit():
        return page_with(form.party_size.errors or form.errors.get("csrf_token", []), 422)
    try:
        rules.change_party_size(
            registration, form.party_size.data, utcnow(), by_user=_staff_acting_on(registration)
        )
    except ValidationFailed as exc:
        discard()
        return page_with(exc.errors.values(), 422)
    except ServiceError as exc:
        discard()
        return page_with([exc.message], 409)
    flash(_("The number of people is changed."), "success")
    return redirect(url_for(".manage", token=token))


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"], methods=["POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_MANAGE_LINK"], methods=["GET"])
def cancel(token: str):
    registration = rules.registration_by_token(token)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            rules.cancel_registration(
                registration, utcnow(), by_user=_staff_acting_on(registration)
            )
        except ServiceError as exc:
            discard()  # refused, answered with a flash and a redirect: keep nothing of it
            flash(exc.message, "error")
        else:
            flash(_("Your registration is cancelled. Thank you for letting us know."), "success")
        return redirect(url_for(".manage", token=token))
    return render_template(
        "registration/cancel.html",
        registration=registration,
        event=registration.event,
        form=form,
        undo_minutes=rules.RESIDENT_UNDO.seconds // 60,
    )


@bp.post("/r/<token>/restore")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"])
def restore(token: str):
    """The resident's undo of their own cancellation, soon after it, while places allow."""
    registration = rules.registration_by_token(token)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        outcome = rules.restore_registration(
            registration, utcnow(), by_user=_staff_acting_on(registration)
        )
    except ServiceError as exc:
        discard()
        flash(exc.message, "error")
    else:
        if outcome.status is RegistrationStatus.CONFIRMED:
            message = _("The cancellation is undone: your place is reserved again.")
        else:
            message = _(
                "The cancellation is undone: you are back on the waiting list, position %(n)d.",
                n=outcome.waitlist_position or 0,
            )
        if outcome.notified:
            message += " " + _(
                "We have sent a confirmation to %(email)s.", email=registration.email
            )
        flash(message, "success")
    return redirect(url_for(".manage", token=token, _anchor="main"))


@bp.route("/r/<token>/erase", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RATELIMIT_MANAGE_LINK"], methods=["GET"])
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTRATION"], methods=["POST"])
def erase(token: str):
    """The resident's own "erase my data": confirm, then cancel if needed and anonymise."""
    registration = rules.registration_by_token(token)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        erasure = privacy.erase_registration(
            registration, utcnow(), by_user=_staff_acting_on(registration)
        )
        # The development mailbox's copies go once the erasure is stored, never before.
        after_commit(lambda: privacy.remove_mailbox_copies(erasure.message_ids))
        session["registration_erased"] = {"event_id": erasure.event.id, "gave_up": erasure.gave_up}
        return redirect(url_for(".erased"))
    return render_template(
        "registration/erase.html",
        registration=registration,
        event=registration.event,
        form=form,
        gives_up_place=rules.resident_may_change(registration, utcnow()),
    )


@bp.get("/registration-erased")
def erased():
    outcome = session.pop("registration_erased", None)
    if not outcome:
        return redirect(url_for("public.calendar"))
    return render_template("registration/erased.html", gave_up=outcome.get("gave_up"))


# --- the ticket ------------------------------------------------------------------------


@bp.get("/r/<token>/ticket")
@limiter.limit(lambda: current_app.config["RATELIMIT_MANAGE_LINK"])
def ticket(token: str):
    registration = rules.registration_by_token(token)
    return render_template(
        "registration/ticket.html",
        registration=registration,
        event=registration.event,
        qr_url=url_for(".ticket_qr", token=token),
    )


@bp.get("/r/<token>/qr.png")
@limiter.limit(lambda: current_app.config["RATELIMIT_MANAGE_LINK"])
def ticket_qr(token: str):
    return qr_response(rules.registration_by_token(token))


def qr_response(registration) -> Response:
    if not ticket_is_valid(registration):
        abort(404)
    response = Response(qr_png(registration.ticket_secret), mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/r/<token>/certificate.pdf")
@limiter.limit(lambda: current_app.config["RATELIMIT_MANAGE_LINK"])
def certificate(token: str):
    """The attendance certificate, once the organiser has issued it."""
    from ..services.certificates import certificate_of, number
    from .organiser.certificates import pdf_response

    registration = rules.registration_by_token(token)
    issued = certificate_of(registration)
    if issued is None:
        abort(404)
    return pdf_response(issued, f"certificate-{number(issued)}.pdf")
