"""Organiser pages for an event's registrations: list, add by phone, change, cancel, export."""

from __future__ import annotations

import enum

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from wtforms import BooleanField

from ...extensions import db
from ...i18n import label
from ...models import RegistrationSource, RegistrationStatus
from ...services import ServiceError, ValidationFailed, access, audit
from ...services import registration as rules
from ...services.registration_lists import (
    registration_of_event,
    registrations_count,
    registrations_csv,
    registrations_query,
)
from ...timezones import utcnow
from ..boundary import discard
from ..forms import add_errors, page_arg
from ..registration import ConfirmForm, PartySizeForm, qr_response
from ..registration_form import RegistrationForm, activity_choices_of, submit_registration
from ..same_origin import same_origin_only
from . import bp

CSV_HEADERS = {
    "id": _l("No."),
    "status": _l("Status"),
    "name": _l("Name"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "party_size": _l("People"),
    "attendance": _l("Taking part"),
    "activities": _l("Activities"),
    "needs": _l("Accessibility needs"),
    "language": _l("Language"),
    "source": _l("Registered via"),
    "registered_at": _l("Registered at"),
}


class PhoneRegistrationForm(RegistrationForm):
    consent = BooleanField(
        _l("The person agreed that their data is processed for this registration.")
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
        cancel_form=ConfirmForm(),
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


@bp.post("/events/<int:event_id>/registrations/<int:registration_id>/cancel")
def cancel_registration(event_id: int, registration_id: int):
    event = access.event_for_manager(current_user, event_id)
    item = registration_of_event(event, registration_id)
    if not ConfirmForm().validate_on_submit():
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


@bp.get("/events/<int:event_id>/registrations.csv")
@same_origin_only
def registrations_export(event_id: int):
    event = access.event_for_manager(current_user, event_id)

    def labels(value):
        return label(value) if isinstance(value, enum.Enum) else str(CSV_HEADERS[value])

    body = registrations_csv(event, labels)
    audit.record_export(
        current_user,
        audit.Action.EXPORT_REGISTRATIONS,
        event=event,
        rows=registrations_count(event),
    )
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="registrations-event-{event.id}.csv"'
        },
    )


@bp.get("/events/<int:event_id>/attendance-sheet")
@same_origin_only
def attendance_sheet(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    rows = sorted(
        db.session.scalars(registrations_query(event, status=RegistrationStatus.CONFIRMED)),
        key=lambda r: r.name.lower(),
    )
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
