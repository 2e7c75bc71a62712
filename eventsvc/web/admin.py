"""Administrators' pages: the mail outbox (what failed, what waits)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from ..extensions import db
from ..models import OutboxMessage, OutboxStatus
from ..services import NotFound, access
from ..services.mailer import retry
from ..timezones import utcnow
from .forms import FlaskForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def require_admin():
    access.require_admin(current_user)


@bp.get("/outbox")
def outbox():
    status = request.args.get("status", OutboxStatus.FAILED.value)
    status = OutboxStatus(status) if status in OutboxStatus._value2member_map_ else OutboxStatus.FAILED
    counts = dict(db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.status == status).order_by(OutboxMessage.id.desc()).limit(200)
    ).all()
    return render_template(
        "admin/outbox.html", messages=messages, counts=counts, status=status, statuses=list(OutboxStatus), form=FlaskForm()
    )


@bp.post("/outbox/<int:message_id>/retry")
def retry_message(message_id: int):
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound()
    if FlaskForm().validate_on_submit() and message.status is OutboxStatus.FAILED:
        retry(message, utcnow())
        db.session.commit()
        flash(_("The message will be sent again."), "success")
    return redirect(url_for(".outbox"))
