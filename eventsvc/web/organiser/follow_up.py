"""The follow-up list after an event: people who agreed to be contacted and did not come, for
the event's organisers to call (services/follow_up.py)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import IntegerField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import HiddenInput

from ...i18n import choices
from ...models import FollowUpOutcome
from ...services import NotFound, ServiceError, ValidationFailed, access, measures
from ...services import follow_up as service
from ...timezones import utcnow
from ..boundary import discard
from ..forms import FlaskForm
from . import bp


class CallForm(FlaskForm):
    """One row's "called" mark: which person, and how the call went (optional)."""

    registration_id = IntegerField(
        widget=HiddenInput(), validators=[InputRequired(_l("Choose a person from the list."))]
    )
    outcome = SelectField(
        _l("Outcome"),
        choices=lambda: [SelectChoice("", _l("— not noted —")), *choices(FollowUpOutcome)],
        validators=[Optional()],
    )


@bp.route("/events/<int:event_id>/follow-up", methods=["GET", "POST"])
def follow_up(event_id: int):
    access.event_for_manager(current_user, event_id)
    now = utcnow()
    form = CallForm()
    status, problem = 200, None
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                outcome = service.parse_outcome(form.outcome.data)
                marked = service.mark_called(
                    current_user, event_id, form.registration_id.data, outcome, now
                )
            except NotFound:
                raise
            except ValidationFailed as exc:
                discard()
                form.outcome.errors = [*form.outcome.errors, exc.errors.get("outcome", exc.message)]
                status = 422
            except ServiceError as exc:  # not ended yet, or no longer on the list
                discard()  # refused, answered with a flash and a redirect: keep nothing of it
                flash(exc.message, "error")
                return redirect(url_for(".follow_up", event_id=event_id))
            else:
                flash(_("The call to %(name)s is noted.", name=marked.name), "success")
                return redirect(
                    url_for(".follow_up", event_id=event_id, _anchor=f"person-{marked.id}")
                )
        else:
            status = 422
    listing = service.follow_up_list(current_user, event_id, now)
    error_for = None
    if status == 422:
        listed = {r.id for r in listing.people}
        if form.outcome.errors and form.registration_id.data in listed:
            error_for = form.registration_id.data  # the message goes next to that row's field
        problem = (
            f"{_('Outcome')}: {' '.join(map(str, form.outcome.errors))}"
            if form.outcome.errors
            else _("The form had expired, or no person was chosen. Please try again.")
        )
    return render_template(
        "organiser/follow_up.html",
        event=listing.event,
        listing=listing,
        form=form,
        problem=problem,
        error_for=error_for,
        outcomes=choices(FollowUpOutcome),
        measure=measures.EVERY_MEASURE["follow_up_calls"],
    ), status
