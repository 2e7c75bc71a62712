"""Organiser pages for events: the list, the event form, publish / unpublish / cancel, and
the panel (speakers) and activities of an event."""

from __future__ import annotations

from datetime import datetime
from typing import overload

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ...extensions import db
from ...models import (
    Activity,
    ActivityKind,
    Campaign,
    Event,
    EventFormat,
    EventKind,
    EventStatus,
    Municipality,
    Speaker,
    SpeakerRole,
    TargetGroup,
    translation_columns,
)
from ...services import (
    ServiceError,
    ValidationFailed,
    access,
    follow_up,
    measures,
    phone_calls,
)
from ...services import events as event_service
from ...services.events import ActivityData, EventData, SpeakerData
from ...services.mailer import describe_changes
from ...services.needs_digest import event_needs
from ...services.registration import registration_window
from ...timezones import inclusive_deadline_day, riga_local_to_utc, to_riga, utcnow
from ..boundary import discard
from ..forms import add_errors
from . import bp
from .checkin import DOOR_ENDPOINTS
from .forms import ActivityForm, EventForm, SpeakerForm

# Service field names that a form shows under another name.
FORM_FIELD_FOR = {"registration_closes_at": "registration_closes_on"}


@overload
def _wall_clock(moment: datetime) -> datetime: ...
@overload
def _wall_clock(moment: None) -> None: ...
def _wall_clock(moment: datetime | None) -> datetime | None:
    return to_riga(moment).replace(tzinfo=None) if moment else None


def _add_errors(form, errors: dict[str, str]) -> None:
    add_errors(form, errors, FORM_FIELD_FOR)


@bp.before_request
@login_required
def require_organiser():
    if request.endpoint in DOOR_ENDPOINTS:  # also for the door role; each checks its event
        access.require_door(current_user)
    else:
        access.require_organiser(current_user)


@bp.get("/")
def events():
    wanted = request.args.get("status", "")
    status = EventStatus(wanted) if wanted in EventStatus._value2member_map_ else None
    items = event_service.events_for_manager(current_user, status)
    return render_template(
        "organiser/events.html",
        events=items,
        people=measures.event_people([e.id for e in items]),
        to_call=phone_calls.open_counts([e.id for e in items]),
        status=status,
        statuses=list(EventStatus),
        now=utcnow(),
        empty=measures.EventPeople(),
        measures=measures.EVERY_MEASURE,
        organisations=access.organisations_managed_by(current_user),
    )


def _event_form(event=None) -> EventForm:
    form = EventForm(obj=None)
    form.organisation_id.choices = [
        SelectChoice(o.id, o.name) for o in access.organisations_managed_by(current_user)
    ]
    form.municipality_id.choices = [
        SelectChoice(m.id, m.name)
        for m in db.session.scalars(select(Municipality).order_by(Municipality.name))
    ]
    form.campaign_id.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(c.id, c.name)
        for c in db.session.scalars(select(Campaign).order_by(Campaign.name))
    ]
    if event is not None and request.method == "GET":
        _fill(form, event)
    return form


def _fill(form: EventForm, event) -> None:
    for name in (
        "title",
        "summary",
        "description",
        "organisation_id",
        "municipality_id",
        "campaign_id",
        "venue_name",
        "venue_address",
        "stream_url",
        "stream_public",
        "remind_day_before",
        "remind_two_hours",
        "capacity",
        "accessibility",
        "language",
        *(column for field in Event.TRANSLATED for column in translation_columns(field)),
    ):
        form[name].data = getattr(event, name)
    form.kind.data = event.kind.value
    form.format.data = event.format.value
    form.target_groups.data = [g.value for g in event.target_groups]
    form.starts_at.data = _wall_clock(event.starts_at)
    form.ends_at.data = _wall_clock(event.ends_at)
    form.desk_opens_at.data = (
        _wall_clock(event.desk_opens_at).time() if event.desk_opens_at else None
    )
    form.registration_opens_at.data = _wall_clock(event.registration_opens_at)
    if event.registration_closes_at is not None:
        day = inclusive_deadline_day(event.registration_closes_at)
        if day is not None:
            form.registration_closes_on.data = day
        else:
            local = _wall_clock(event.registration_closes_at)
            form.registration_closes_on.data, form.registration_closes_time.data = (
                local.date(),
                local.time(),
            )


def _event_data(form: EventForm) -> EventData:
    starts_local = form.starts_at.data
    closes = event_service.registration_deadline(
        form.registration_closes_on.data, form.registration_closes_time.data
    )
    return EventData(
        kind=EventKind(form.kind.data),
        title=form.title.data.strip(),
        summary=(form.summary.data or "").strip(),
        description=(form.description.data or "").strip(),
        organisation_id=form.organisation_id.data,
        municipality_id=form.municipality_id.data,
        campaign_id=form.campaign_id.data,
        venue_name=(form.venue_name.data or "").strip(),
        venue_address=(form.venue_address.data or "").strip(),
        starts_at=riga_local_to_utc(starts_local),
        ends_at=riga_local_to_utc(form.ends_at.data),
        desk_opens_at=(
            riga_local_to_utc(datetime.combine(starts_local.date(), form.desk_opens_at.data))
            if form.desk_opens_at.data
            else None
        ),
        registration_opens_at=riga_local_to_utc(form.registration_opens_at.data)
        if form.registration_opens_at.data
        else None,
        registration_closes_at=closes,
        capacity=form.capacity.data,
        format=EventFormat(form.format.data),
        stream_url=(form.stream_url.data or "").strip() or None,
        stream_public=bool(form.stream_public.data),
        accessibility=(form.accessibility.data or "").strip(),
        language=form.language.data,
        target_groups=[TargetGroup(v) for v in form.target_groups.data or []],
        remind_day_before=bool(form.remind_day_before.data),
        remind_two_hours=bool(form.remind_two_hours.data),
        **_translations(form, Event.TRANSLATED),
    )


def _translations(form, names) -> dict[str, str | None]:
    """The form's Russian and English text; empty means none (the Latvian is shown)."""
    return {
        column: (form[column].data or "").strip() or None
        for name in names
        for column in translation_columns(name)
    }


@bp.route("/events/new", methods=["GET", "POST"])
def new_event():
    form = _event_form()
    if request.method == "GET":  # the organiser's own place, not the first of the list
        home = next(
            (o.municipality_id for o in access.organisations_managed_by(current_user)), None
        )
        form.municipality_id.data = home
    if form.validate_on_submit():
        try:
            event = event_service.create_event(current_user, _event_data(form))
        except ValidationFailed as exc:
            discard()  # refused: messages the form has no field for come as flashes, with a 200
            _add_errors(form, exc.errors)
        else:
            flash(_("The event was saved as a draft. Publish it when it is ready."), "success")
            return redirect(url_for(".event", event_id=event.id))
    return render_template(
        "organiser/event_form.html", form=form, event=None
    ), 422 if form.errors else 200


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def edit_event(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    form = _event_form(event)
    choice = request.form.get("notify")  # asked before a change that registrants are told of
    if form.validate_on_submit() and choice != "edit":
        data = _event_data(form)
        try:
            if choice not in ("yes", "no"):
                changes = event_service.changes_to_tell(current_user, event, data)
                if changes:  # nothing is saved before the organiser chooses
                    return _ask_whether_to_tell(event, changes)
            changed = event_service.update_event(
                current_user, event, data, utcnow(), notify=choice != "no"
            )
        except ServiceError as exc:
            discard()  # refused; the form comes again (with a 200 when no field is to blame)
            if isinstance(exc, ValidationFailed):
                _add_errors(form, exc.errors)
            else:
                flash(exc.message, "error")
        else:
            flash(_saved_message(changed, choice), "success")
            return redirect(url_for(".event", event_id=event.id))
    return render_template(
        "organiser/event_form.html", form=form, event=event
    ), 422 if form.errors else 200


def _ask_whether_to_tell(event, changes: dict[str, list]):
    """What the change tells whom (by email, or by phone), and the choice; the submitted form
    goes along as hidden fields, to be posted again with the answer (and a fresh CSRF token)."""
    carried = [
        (name, value)
        for name, values in request.form.lists()
        if name not in ("csrf_token", "notify")
        for value in values
    ]
    return render_template(
        "organiser/notify_preview.html",
        event=event,
        changes=describe_changes(changes),
        reach=phone_calls.reach(event.id),
        carried=carried,
    )


def _saved_message(changed: set[str], choice: str | None) -> str:
    if not changed:
        return _("Nothing was changed.")
    if choice == "yes":
        return _("Your changes were saved and registrants are being told.")
    if choice == "no":
        return _("Your changes were saved. Registrants were not told.")
    return _("Your changes were saved.")


@bp.get("/events/<int:event_id>")
def event(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    now = utcnow()
    return render_template(
        "organiser/event.html",
        event=event,
        people=measures.event_people([event.id])[event.id],
        measures=measures.EVERY_MEASURE,
        window=registration_window(event, now),
        now=now,
        follow_up=follow_up.follow_up_counts(event, now),
        needs=event_needs(event.id),
        to_call=phone_calls.open_counts([event.id]).get(event.id, 0),
    )


def _state_change(event_id: int, action, done_message: str):
    event = access.event_for_manager(current_user, event_id)
    try:
        action(event)
    except ValidationFailed as exc:
        discard()  # refused, answered with a flash and a redirect: keep nothing of it
        flash(_("The event cannot be published yet:") + " " + exc.message, "error")
    except ServiceError as exc:
        discard()
        flash(exc.message, "error")
    else:
        flash(done_message, "success")
    return redirect(url_for(".event", event_id=event_id))


@bp.post("/events/<int:event_id>/publish")
def publish(event_id: int):
    event = access.event_for_manager(current_user, event_id)
    warnings = event_service.publish_warnings(event, utcnow())
    if warnings and request.form.get("confirm") != "yes":
        return render_template("organiser/publish.html", event=event, warnings=warnings)
    return _state_change(
        event_id,
        lambda e: event_service.publish_event(current_user, e, utcnow()),
        _("The event is published."),
    )


@bp.post("/events/<int:event_id>/unpublish")
def unpublish(event_id: int):
    return _state_change(
        event_id,
        lambda e: event_service.unpublish_event(current_user, e),
        _("The event is a draft again and hidden from the public."),
    )


@bp.route("/events/<int:event_id>/cancel", methods=["GET", "POST"])
def cancel(event_id: int):
    if request.method == "GET":
        event = access.event_for_manager(current_user, event_id)
        told = event.status is EventStatus.PUBLISHED  # a draft's cancellation tells nobody
        return render_template(
            "organiser/cancel.html",
            event=event,
            reach=phone_calls.reach(event.id) if told else phone_calls.Reach(),
        )
    notify = request.form.get("notify") != "no"  # told unless the organiser chose otherwise
    return _state_change(
        event_id,
        lambda e: event_service.cancel_event(current_user, e, utcnow(), notify=notify),
        _("The event is cancelled.")
        if notify
        else _("The event is cancelled. Registrants were not told."),
    )


# --- speakers and activities ---------------------------------------------------------


def _child(event, model, child_id):
    child = db.session.get(model, child_id)
    if child is None or child.event_id != event.id:
        abort(404)
    return child


def _save_part(event, form, existing, build, save, template: str, anchor: str, saved: str):
    """The shared flow of the speaker and activity forms: validate, save, or show errors."""
    if form.validate_on_submit():
        try:
            save(current_user, event, build(form), existing)
        except ValidationFailed as exc:
            discard()  # refused: messages the form has no field for come as flashes, with a 200
            _add_errors(form, exc.errors)
        else:
            flash(saved, "success")
            return redirect(url_for(".event", event_id=event.id) + anchor)
    return render_template(
        template, form=form, event=event, existing=existing
    ), 422 if form.errors else 200


def _remove_part(event_id: int, model, part_id: int, anchor: str, removed: str):
    event = access.event_for_manager(current_user, event_id)
    event_service.remove_part(current_user, event, _child(event, model, part_id))
    flash(removed, "success")
    return redirect(url_for(".event", event_id=event.id) + anchor)


def _speaker_data(form: SpeakerForm) -> SpeakerData:
    return SpeakerData(
        name=form.name.data.strip(),
        title=(form.title.data or "").strip(),
        organisation=(form.organisation.data or "").strip(),
        role=SpeakerRole(form.role.data),
        position=form.position.data or 0,
        **_translations(form, Speaker.TRANSLATED),
    )


def _activity_data(form: ActivityForm) -> ActivityData:
    return ActivityData(
        title=form.title.data.strip(),
        kind=ActivityKind(form.kind.data),
        description=(form.description.data or "").strip(),
        starts_at=riga_local_to_utc(form.starts_at.data),
        ends_at=riga_local_to_utc(form.ends_at.data),
        location=(form.location.data or "").strip(),
        capacity=form.capacity.data,
        position=form.position.data or 0,
        **_translations(form, Activity.TRANSLATED),
    )


@bp.route(
    "/events/<int:event_id>/speakers/new", methods=["GET", "POST"], defaults={"speaker_id": None}
)
@bp.route("/events/<int:event_id>/speakers/<int:speaker_id>", methods=["GET", "POST"])
def speaker(event_id: int, speaker_id: int | None):
    event = access.event_for_manager(current_user, event_id)
    existing = _child(event, Speaker, speaker_id) if speaker_id else None
    form = SpeakerForm(obj=existing)
    if request.method == "GET":
        if existing is not None:
            form.role.data = existing.role.value
        else:
            form.position.data = len(event.speakers) + 1
    return _save_part(
        event,
        form,
        existing,
        _speaker_data,
        event_service.save_speaker,
        "organiser/speaker_form.html",
        "#speakers",
        _("The speaker was saved."),
    )


@bp.post("/events/<int:event_id>/speakers/<int:speaker_id>/delete")
def delete_speaker(event_id: int, speaker_id: int):
    return _remove_part(event_id, Speaker, speaker_id, "#speakers", _("The speaker was removed."))


@bp.route(
    "/events/<int:event_id>/activities/new", methods=["GET", "POST"], defaults={"activity_id": None}
)
@bp.route("/events/<int:event_id>/activities/<int:activity_id>", methods=["GET", "POST"])
def activity(event_id: int, activity_id: int | None):
    event = access.event_for_manager(current_user, event_id)
    existing = _child(event, Activity, activity_id) if activity_id else None
    form = ActivityForm(obj=existing)
    if request.method == "GET":
        if existing is not None:
            form.kind.data = existing.kind.value
            form.starts_at.data = _wall_clock(existing.starts_at)
            form.ends_at.data = _wall_clock(existing.ends_at)
        else:
            form.starts_at.data = _wall_clock(event.starts_at)
            form.ends_at.data = _wall_clock(event.ends_at)
            form.position.data = len(event.activities) + 1

    def save(user, event, data, existing):
        return event_service.save_activity(user, event, data, existing, utcnow())

    return _save_part(
        event,
        form,
        existing,
        _activity_data,
        save,
        "organiser/activity_form.html",
        "#activities",
        _("The activity was saved."),
    )


@bp.post("/events/<int:event_id>/activities/<int:activity_id>/delete")
def delete_activity(event_id: int, activity_id: int):
    return _remove_part(
        event_id, Activity, activity_id, "#activities", _("The activity was removed.")
    )
