"""Organiser pages for an event's registrations: list, add by phone, change, cancel, export."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import BooleanField

from ...extensions import db
from ...models import RegistrationSource, RegistrationStatus
from ...services import ServiceError, ValidationFailed, access, audit
from ...services import registration as rules
from ...services.registration_lists import (
    attendance_rows,
    registration_of_event,
    registrations_count,
    registrations_csv,
    registrations_query,
    registrations_xlsx,
)
from ...services.spreadsheet import COMMA, SEMICOLON, XLSX_TYPE
from ...timezones import utcnow
from ..boundary import discard
from ..forms import add_errors, page_arg
from ..registration import ConfirmForm, PartySizeForm, qr_response
from ..registration_form import RegistrationForm, activity_choices_of, submit_registration
from ..same_origin import same_origin_only
from ..stats_exports import attachment
from . import bp


class PhoneRegistrationForm(RegistrationForm):
    consent = BooleanField(
        _l("The person agreed that their data is processed for this registration.")
    )
    follow_up_consent = BooleanField(
        _l(
            "The person agrees that the social service contacts them afterwards if they cannot "
            "come (optional; ask them)."
        ),
        description=_l("They can withdraw it at any time, also by calling you."),
    )


@bp.get("/events/<int:event_id>/registrations")
def registrations(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    wanted = request.args.get("status", "")
    status = RegistrationStatus(wanted) if wanted in RegistrationStatus._value2member_map_ else None
    search = request.args.get("q", "")[:100]
    page = db.paginate(
        registrations_query(event, search, status),
        page=page_arg(),
        per_page=100,
        max_per_page=100,
        error_out=False,
    )
    return render_template(
        "organiser/registrations.html",
        event=event,
        page=page,
        places=rules.availability(event),
        status=status,
        statuses=list(RegistrationStatus),
        search=search,
        positions=rules.waitlist_positions(event.id),
        activity_positions=rules.activity_waitlist_positions(event.id),
    )


@bp.route("/events/<int:event_id>/registrations/new", methods=["GET", "POST"])
def add_registration(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    places = rules.availability(event)
    form = PhoneRegistrationForm()
    form.activity_ids.choices = activity_choices_of(event, places)
    status = 200
    if form.is_submitted():
        submitted = submit_registration(
            form, event.id, RegistrationSource.ORGANISER, by_user=current_user
        )
        outcome, status = submitted.outcome, submitted.status
        if submitted.refusal:
            flash(submitted.refusal, "error")
        if outcome is not None:
            flash(
                _("The registration is saved: the place is reserved.")
                if outcome.status is RegistrationStatus.CONFIRMED
                else _("The registration is saved on the waiting list."),
                "success",
            )
            for choice in outcome.activities:
                if choice.position:
                    flash(
                        _(
                            "“%(title)s” is full: on its waiting list, position %(n)d.",
                            title=choice.activity.title,
                            n=choice.position,
                        ),
                        "success",
                    )
            return redirect(
                url_for(".registration", event_id=event.id, registration_id=outcome.registration.id)
            )
    return render_template(
        "organiser/registration_form.html", event=event, form=form, places=places
    ), status


@bp.get("/events/<int:event_id>/registrations/<int:registration_id>")
def registration(event_id: int, registration_id: int, party_form=None, status=200):
    event = access.event_for_manager(current_user, event_id)
    item = registration_of_event(event, registration_id)
    return render_template(
        "organiser/registration.html",
        event=event,
        registration=item,
        position=rules.waitlist_position(item),
        choices=rules.activity_choices(item),
        party_form=party_form or PartySizeForm(party_size=item.party_size),
        restore=rules.restore_preview(item, utcnow(), by_user=current_user)
        if item.status is RegistrationStatus.CANCELLED
        else None,
        restore_form=ConfirmForm(),
    ), status


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/party-size")
def registration_party_size(event_id: int, registration_id: int):
    event = access.event_for_manager(current_user, event_id)
    item = registration_of_event(event, registration_id)
    form = PartySizeForm()
    if form.validate_on_submit():
        try:
            rules.change_party_size(item, form.party_size.data, utcnow(), by_user=current_user)
        except ValidationFailed as exc:
            add_errors(form, exc.errors)
        except ServiceError as exc:
            form.party_size.errors = [*form.party_size.errors, exc.message]
        else:
            flash(_("The number of people is changed."), "success")
            return redirect(url_for(".registration", event_id=event.id, registration_id=item.id))
    return registration(event_id, registration_id, party_form=form, status=422)


@bp.route(
    "/events/<int:event_id>/registrations/<int:registration_id>/cancel", methods=["GET", "POST"]
)
def cancel_registration(event_id: int, registration_id: int):
    """GET asks first (what cancelling does to the places and who is told); POST cancels."""
    event = access.event_for_manager(current_user, event_id)
    item = registration_of_event(event, registration_id)
    form = ConfirmForm()
    if request.method == "GET":
        places = rules.availability(event)
        return render_template(
            "organiser/cancel_registration.html",
            event=event,
            registration=item,
            places=places,
            # The activities whose places would go to their own waiting lists at once.
            contested=[
                a
                for a in item.activities
                if item.status is RegistrationStatus.CONFIRMED
                and places.activities[a.id].waiting_parties
            ],
            form=form,
        )
    if not form.validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
    else:
        try:
            promoted = rules.cancel_registration(item, utcnow(), by_user=current_user)
        except ServiceError as exc:
            discard()  # refused, answered with a flash and a redirect: keep nothing of it
            flash(exc.message, "error")
        else:
            flash(_cancelled_message(len(promoted)), "success")
    return redirect(url_for(".registration", event_id=event.id, registration_id=item.id))


def _cancelled_message(n: int) -> str:
    if n == 0:
        return _("The registration is cancelled.")
    return ngettext(
        "The registration is cancelled; %(num)d party from the waiting list got a place.",
        "The registration is cancelled; %(num)d parties from the waiting list got a place.",
        n,
    )


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/restore")
def restore_registration(event_id: int, registration_id: int):
    """Undo a cancellation, while places allow (services/registration.py says how)."""
    event = access.event_for_manager(current_user, event_id)
    item = registration_of_event(event, registration_id)
    if not ConfirmForm().validate_on_submit():
        flash(_("The form had expired. Please send it again."), "error")
    else:
        try:
            outcome = rules.restore_registration(item, utcnow(), by_user=current_user)
        except ServiceError as exc:
            discard()
            flash(exc.message, "error")
        else:
            flash(_restored_message(item, outcome), "success")
    return redirect(url_for(".registration", event_id=event.id, registration_id=item.id))


def _restored_message(item, outcome: rules.RestoreOutcome) -> str:
    """One plain paragraph: where the party stands now, and what the person was told."""
    if outcome.status is RegistrationStatus.CONFIRMED:
        parts = [_("The cancellation is undone: the registration is confirmed again.")]
    else:
        parts = [
            _(
                "The cancellation is undone: the party is back on the waiting list, "
                "position %(n)d.",
                n=outcome.waitlist_position or 0,
            )
        ]
    parts += [
        _(
            "“%(title)s” is full: on its waiting list, position %(n)d.",
            title=choice.activity.title,
            n=choice.position,
        )
        for choice in outcome.activities
        if choice.position
    ]
    if outcome.notified:
        parts.append(
            _("%(email)s gets an email that the registration is valid again.", email=item.email)
        )
    elif outcome.withdrawn:
        parts.append(_("The cancellation email had not gone out yet: nothing was sent."))
    elif not item.email:
        parts.append(
            _("There is no email address: if you told them of the cancellation, phone them.")
        )
    return " ".join(parts)


# The CSV's separators: semicolons for Excel set to Latvian (or Russian), as an organiser's
# computer here is; commas for other programs (and Excel in English).
CSV_SEPARATORS = {"semicolon": SEMICOLON, "comma": COMMA}


@bp.get("/events/<int:event_id>/registrations.csv")
@same_origin_only
def registrations_export(event_id: int):
    """?separator=comma for the plain CSV; anything else gets Latvian Excel's semicolons."""
    event = access.event_for_manager(current_user, event_id)
    separator = request.args.get("separator", "semicolon")
    separator = separator if separator in CSV_SEPARATORS else "semicolon"
    body = registrations_csv(event, CSV_SEPARATORS[separator])
    _record_export(event, "CSV" if separator == "comma" else "CSV (;)")
    return attachment(body, "text/csv", f"registrations-event-{event.id}.csv")


@bp.get("/events/<int:event_id>/registrations.xlsx")
@same_origin_only
def registrations_xlsx_export(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    body = registrations_xlsx(event, utcnow())
    _record_export(event, "XLSX")
    return attachment(body, XLSX_TYPE, f"registrations-event-{event.id}.xlsx")


def _record_export(event, kind: str) -> None:
    audit.record_export(
        current_user,
        audit.Action.EXPORT_REGISTRATIONS,
        event=event,
        rows=registrations_count(event),
        detail=audit.part(audit.N_("file: %(kind)s"), kind=kind),
    )


@bp.get("/events/<int:event_id>/attendance-sheet")
@same_origin_only
def attendance_sheet(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    rows = attendance_rows(event)
    page = render_template(
        "organiser/attendance_sheet.html",
        event=event,
        rows=rows,
        total=sum(r.party_size for r in rows),
    )
    audit.record_export(
        current_user, audit.Action.EXPORT_ATTENDANCE_SHEET, event=event, rows=len(rows)
    )
    return page


@bp.get("/events/<int:event_id>/registrations/<int:registration_id>/ticket")
def registration_ticket(event_id: int, registration_id: int):
    """The same printable ticket a resident gets, for one registered by phone."""
    event = access.event_for_manager(current_user, event_id)
    item = registration_of_event(event, registration_id)
    return render_template(
        "registration/ticket.html",
        registration=item,
        event=event,
        qr_url=url_for(".registration_qr", event_id=event.id, registration_id=item.id),
    )


@bp.get("/events/<int:event_id>/registrations/<int:registration_id>/qr.png")
def registration_qr(event_id: int, registration_id: int):
    event = access.event_for_manager(current_user, event_id)
    return qr_response(registration_of_event(event, registration_id))
