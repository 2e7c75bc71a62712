"""Administrators' pages: staff accounts, organisations and municipalities, the mail outbox."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TelField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..extensions import db
from ..i18n import choices
from ..models import Organisation, OrganisationKind, OutboxMessage, OutboxStatus, Role, User
from ..services import NotFound, ValidationFailed, access
from ..services import accounts as account_service
from ..services import organisations as organisation_service
from ..services.mailer import retry
from ..timezones import utcnow
from .auth import sign_in
from .forms import FlaskForm, MultiCheckboxField, add_errors

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    access.require_admin(current_user)


@bp.get("/outbox")
def outbox():
    status = request.args.get("status", OutboxStatus.FAILED.value)
    status = (
        OutboxStatus(status) if status in OutboxStatus._value2member_map_ else OutboxStatus.FAILED
    )
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    messages = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status == status)
        .order_by(OutboxMessage.id.desc())
        .limit(200)
    ).all()
    return render_template(
        "admin/outbox.html",
        messages=messages,
        counts=counts,
        status=status,
        statuses=list(OutboxStatus),
        form=FlaskForm(),
    )


@bp.post("/outbox/<int:message_id>/retry")
def retry_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound()
    if FlaskForm().validate_on_submit() and message.status is OutboxStatus.FAILED:
        retry(message, utcnow())
        flash(_("The message will be sent again."), "success")
    return redirect(url_for(".outbox"))


# --- saving a form through a service ----------------------------------------------------


def _saved(form, save):
    """Run the service's `save()`: returned (and committed when the request ends), or None
    with its messages next to the form's fields (the form comes back as an error answer, 422,
    and nothing is kept)."""
    try:
        return save()
    except ValidationFailed as exc:
        add_errors(form, exc.errors)
        return None


def _form_page(template: str, form, existing):
    return render_template(
        template, form=form, existing=existing
    ), 422 if request.method == "POST" else 200


# --- staff accounts ---------------------------------------------------------------------


class UserForm(FlaskForm):
    name = StringField(_l("Name and surname"), validators=[InputRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=lambda: choices(Role))
    organisations = MultiCheckboxField(
        _l("Organisations"),
        coerce=int,
        description=_l(
            "An organiser manages the events of these organisations; door staff check people"
            " in at them."
        ),
    )
    password = PasswordField(_l("Password"), validators=[Optional(), Length(max=200)])
    active = BooleanField(_l("The account may sign in"), default=True)


def _user_form(existing: User | None) -> UserForm:
    form = UserForm(obj=existing)
    form.organisations.choices = [
        SelectChoice(o.id, o.name) for o in organisation_service.list_organisations_plain()
    ]
    if existing is None:
        form.password.description = _(
            "At least %(n)d characters; tell it to the person by phone, not by email.",
            n=account_service.MIN_PASSWORD_LENGTH,
        )
    else:
        form.password.description = _("Leave empty to keep the current password.")
    if request.method == "GET" and existing is not None:
        form.role.data = existing.role.value
        form.organisations.data = [o.id for o in existing.organisations]
        form.active.data = existing.is_active_account
    return form


@bp.get("/users")
def users():
    return render_template("admin/users.html", users=account_service.list_users())


@bp.route("/users/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id: int | None):
    existing = db.session.get(User, user_id) if user_id else None
    if user_id and existing is None:
        raise NotFound()
    form = _user_form(existing)
    if form.validate_on_submit():
        chosen = set(form.organisations.data or [])
        data = account_service.UserData(
            email=form.email.data,
            name=form.name.data,
            role=Role(form.role.data),
            organisations=[
                o for o in organisation_service.list_organisations_plain() if o.id in chosen
            ],
            password=form.password.data or None,
            active=form.active.data,
        )
        own_reset = existing is not None and existing.id == current_user.id and data.password
        remembered = bool(current_user.current_session and current_user.current_session.remembered)
        saved = _saved(form, lambda: account_service.save_user(current_user, data, existing))
        if saved is not None and own_reset:
            # The reset ended every session of the account, this one too: this device goes
            # on with a fresh one.
            sign_in(current_user._get_current_object(), remember=remembered)
        if saved is not None:
            flash(_("The account %(email)s was saved.", email=saved.email), "success")
            return redirect(url_for(".users"))
    return _form_page("admin/user_form.html", form, existing)


# --- organisations and municipalities ------------------------------------------------------


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    kind = SelectField(_l("Kind of organisation"), choices=lambda: choices(OrganisationKind))
    municipality_id = SelectField(_l("Municipality"), coerce=int, validate_choice=False)
    slug = StringField(
        _l("Short name (for addresses and the command line)"),
        validators=[Optional(), Length(max=80)],
        description=_l("Leave empty to make one from the name."),
    )
    email = EmailField(_l("Contact email"), validators=[Optional(), Length(max=254)])
    phone = TelField(_l("Contact phone"), validators=[Optional(), Length(max=40)])


class MunicipalityForm(FlaskForm):
    name = StringField(
        _l("New municipality"),
        validators=[InputRequired(), Length(max=120)],
        description=_l("e.g. Ludzas novads"),
    )


@bp.get("/organisations")
def organisations():
    return render_template(
        "admin/organisations.html",
        organisations=organisation_service.list_organisations(),
        municipalities=organisation_service.list_municipalities(),
        municipality_form=MunicipalityForm(),
    )


@bp.post("/municipalities")
def add_municipality():
    form = MunicipalityForm()
    if form.validate_on_submit():
        municipality = _saved(
            form, lambda: organisation_service.add_municipality(current_user, form.name.data)
        )
        if municipality is not None:
            flash(_("%(name)s was added.", name=municipality.name), "success")
            return redirect(url_for(".organisations"))
    return render_template(
        "admin/organisations.html",
        organisations=organisation_service.list_organisations(),
        municipalities=organisation_service.list_municipalities(),
        municipality_form=form,
    ), 422


@bp.route("/organisations/new", methods=["GET", "POST"], defaults={"organisation_id": None})
@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
def organisation(organisation_id: int | None):
    existing = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation_id and existing is None:
        raise NotFound()
    form = OrganisationForm(obj=existing)
    form.municipality_id.choices = [SelectChoice(0, _("None (national)"))] + [
        SelectChoice(m.id, m.name) for m in organisation_service.list_municipalities()
    ]
    if request.method == "GET" and existing is not None:
        form.kind.data = existing.kind.value
        form.municipality_id.data = existing.municipality_id or 0
    if form.validate_on_submit():
        data = organisation_service.OrganisationData(
            name=form.name.data,
            kind=OrganisationKind(form.kind.data),
            municipality_id=form.municipality_id.data or None,
            slug=form.slug.data or "",
            email=form.email.data,
            phone=form.phone.data,
        )
        saved = _saved(
            form, lambda: organisation_service.save_organisation(current_user, data, existing)
        )
        if saved is not None:
            flash(_("%(name)s was saved.", name=saved.name), "success")
            return redirect(url_for(".organisations"))
    return _form_page("admin/organisation_form.html", form, existing)
