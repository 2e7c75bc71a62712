"""Feedback after an event: a short form for each person who was let in, anonymous once given.

- The organiser picks 3 to 5 questions from a fixed set (QUESTIONS) for each event.
- After the event ends, `flask mail feedback` (a timer, like the reminders) invites every
  confirmed registration whose people were let in, in its language, through the outbox: a
  private link with a random token (only its hash is stored), valid for FEEDBACK_LINK_DAYS.
- Answering uses the token once: the invitation is marked used (the day only) and the answers
  are stored with the event alone — no registration, no invitation, no time, a random key —
  so that nothing joins an answer to a person (models/feedback.py).
- The Ministry and organisers see totals by municipality, campaign, kind and month; a figure
  resting on fewer than MIN_GROUP answers is hidden, and so is the next smallest where one
  hidden figure could be worked out from the total (secondary suppression: the rule of
  services/disclosure.py, which the needs totals follow too). Free text is shown only to the
  event's own organisers.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, case, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from ..extensions import db, rows_matched
from ..models import (
    Event,
    EventStatus,
    FeedbackAnswer,
    FeedbackInvitation,
    Registration,
    RegistrationStatus,
    User,
)
from ..timezones import to_riga
from . import NotFound, ServiceError, ValidationFailed, audit
from .access import can_manage_organisation, require_organiser
from .disclosure import MIN_GROUP as MIN_GROUP  # the pages read it from here too
from .disclosure import Figure
from .disclosure import hide_small as _hide_small
from .disclosure import suppress as _suppress
from .notifications import notify
from .stats import GroupBy, StatsFilter, filtered

FEEDBACK_LINK_DAYS = 30  # the link expires
SEND_WITHIN = timedelta(days=7)  # events that ended longer ago get no invitation (first run)
MIN_QUESTIONS, MAX_QUESTIONS = 3, 5
MAX_TEXT = 2000
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Question:
    key: str  # the column of FeedbackAnswer
    kind: str  # "scale" (1–5), "choice" or "text"
    text: LazyString
    options: tuple[tuple[str, LazyString], ...] = ()  # (value, label)


YES, PARTLY, NO = ("yes", _l("Yes")), ("partly", _l("Partly")), ("no", _l("No"))
QUESTIONS: dict[str, Question] = {
    q.key: q
    for q in (
        Question(
            "usefulness",
            "scale",
            _l("How useful was the event for you? (1 – not at all, 5 – very)"),
        ),
        Question(
            "come_again",
            "choice",
            _l("Would you come to an event like this again?"),
            (YES, ("maybe", _l("Not sure")), NO),
        ),
        Question(
            "needs_met",
            "choice",
            _l("Were your needs met (access, seating, interpreting, other help)?"),
            (YES, PARTLY, NO, ("none", _l("I had no special needs"))),
        ),
        Question(
            "information",
            "choice",
            _l("Was the information before the event clear and enough?"),
            (YES, PARTLY, NO),
        ),
        Question(
            "improve", "text", _l("What should we improve? (optional; please write no names)")
        ),
    )
}
DEFAULT_QUESTIONS = ("usefulness", "come_again", "needs_met", "improve")


def questions_of(event: Event) -> list[Question]:
    keys = [k for k in (event.feedback_questions or "").split(",") if k in QUESTIONS]
    return [QUESTIONS[k] for k in keys] or [QUESTIONS[k] for k in DEFAULT_QUESTIONS]


def set_questions(user: User, event: Event, keys: list[str]) -> None:
    """The organiser's choice of 3 to 5 questions, in the order of QUESTIONS."""
    require_organiser(user)
    if not can_manage_organisation(user, event.organisation_id):
        raise NotFound()
    chosen = [k for k in QUESTIONS if k in set(keys)]
    if len(set(keys) - set(QUESTIONS)) or not MIN_QUESTIONS <= len(chosen) <= MAX_QUESTIONS:
        raise ValidationFailed(
            {
                "questions": _(
                    "Choose %(min)d to %(max)d questions.", min=MIN_QUESTIONS, max=MAX_QUESTIONS
                )
            }
        )
    before = event.feedback_questions
    event.feedback_questions = ",".join(chosen)
    db.session.flush()
    if before != event.feedback_questions:
        audit.record(
            audit.Action.EVENT_UPDATE,
            actor=user,
            target_type="event",
            target_id=event.id,
            event=event,
            detail=audit.part(audit.N_("feedback questions: %(q)s"), q=",".join(chosen)),
        )


# --- invitations --------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitations_due(now: datetime) -> list[Registration]:
    """Confirmed registrations whose people were let in at an event that ended (within the
    last week), with an address and no invitation yet."""
    return list(
        db.session.scalars(
            select(Registration)
            .join(Event, Event.id == Registration.event_id)
            .outerjoin(FeedbackInvitation, FeedbackInvitation.registration_id == Registration.id)
            .where(
                Event.status == EventStatus.PUBLISHED,
                Event.ends_at <= now,
                Event.ends_at > now - SEND_WITHIN,
                Registration.status == RegistrationStatus.CONFIRMED,
                Registration.checked_in_people > 0,
                Registration.email.is_not(None),
                Registration.anonymised_at.is_(None),
                FeedbackInvitation.id.is_(None),
            )
            .order_by(Registration.id)
        )
    )


def invite(registration: Registration, now: datetime) -> bool:
    """Queue the feedback mail for `registration` (its token in the message, its hash here).
    A second run, or a second timer at the same moment, finds the invitation there (unique per
    registration) and queues nothing. True if this call queued it."""
    token = secrets.token_urlsafe(32)
    try:
        with db.session.begin_nested():
            db.session.add(
                FeedbackInvitation(
                    registration_id=registration.id,
                    token_hash=_hash(token),
                    created_at=now,
                    expires_at=now + timedelta(days=FEEDBACK_LINK_DAYS),
                )
            )
    except IntegrityError:
        return False
    notify(
        "event_feedback",
        registration,
        now,
        {"token": token, "expires": (now + timedelta(days=FEEDBACK_LINK_DAYS)).isoformat()},
    )
    db.session.flush()
    return True


# --- answering ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Form:
    event: Event
    questions: list[Question]
    language: str  # the registrant's: the form speaks it unless the visitor chose another


class LinkUsed(ServiceError):
    pass


class LinkExpired(ServiceError):
    pass


def _invitation(token: str) -> FeedbackInvitation:
    if not isinstance(token, str) or not TOKEN.match(token):
        raise NotFound()
    invitation = db.session.scalar(
        select(FeedbackInvitation).where(FeedbackInvitation.token_hash == _hash(token))
    )
    if invitation is None:
        raise NotFound()
    return invitation


def language_of(token: str) -> str:
    """The registrant's language, for whatever the link shows (NotFound for a wrong link)."""
    invitation = _invitation(token)
    return db.session.execute(
        select(Registration.language).where(Registration.id == invitation.registration_id)
    ).scalar_one()


def open_form(token: str, now: datetime) -> Form:
    """What the link shows; LinkUsed / LinkExpired say why it shows nothing to answer."""
    invitation = _invitation(token)
    if invitation.used_on is not None:
        raise LinkUsed(_("Thank you: these questions have already been answered."))
    if invitation.expires_at <= now:
        raise LinkExpired(_("This link has expired: feedback was possible for 30 days."))
    registration = db.session.get_one(Registration, invitation.registration_id)
    event = registration.event
    return Form(event, questions_of(event), registration.language)


def submit(token: str, answers: Mapping[str, Any], now: datetime) -> None:
    """Store the answers once, with the event alone. ValidationFailed for answers that do not
    fit the questions (nothing is stored, the link stays usable)."""
    form = open_form(token, now)
    values: dict[str, int | str] = {}
    errors: dict[str, str] = {}
    for question in form.questions:
        raw = answers.get(question.key)
        raw = raw.strip() if isinstance(raw, str) else raw
        if raw in (None, ""):
            continue
        if question.kind == "scale":
            if raw not in ("1", "2", "3", "4", "5", 1, 2, 3, 4, 5):
                errors[question.key] = _("Choose a number from 1 to 5.")
                continue
            values[question.key] = int(raw)
        elif question.kind == "choice":
            if raw not in {value for value, _label in question.options}:
                errors[question.key] = _("Choose one of the answers.")
                continue
            values[question.key] = raw
        else:
            if not isinstance(raw, str) or len(raw) > MAX_TEXT:
                errors[question.key] = _("Please keep this under %(n)d characters.", n=MAX_TEXT)
                continue
            values[question.key] = raw
    if errors:
        raise ValidationFailed(errors)
    if not values:
        raise ValidationFailed({form.questions[0].key: _("Answer at least one question.")})
    # Single use, also for two submissions at the same moment: only one update finds the
    # invitation unused. The day, not the moment, so that it matches no answer by time.
    used = rows_matched(
        update(FeedbackInvitation)
        .where(
            FeedbackInvitation.token_hash == _hash(token),
            FeedbackInvitation.used_on.is_(None),
            FeedbackInvitation.expires_at > now,
        )
        .values(used_on=to_riga(now).date())
        .execution_options(synchronize_session=False)
    )
    if not used:
        raise LinkUsed(_("Thank you: these questions have already been answered."))
    db.session.add(FeedbackAnswer(event_id=form.event.id, **values))
    db.session.flush()


# --- totals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackRow:
    key: str
    label: str
    answers: Figure  # value: the number of answers (hidden below MIN_GROUP)
    usefulness: Figure  # mean, 1–5
    come_again: Figure  # share answering yes
    needs_met: Figure  # share answering yes, of those who had needs
    information: Figure  # share answering yes


FIGURES = ("answers", "usefulness", "come_again", "needs_met", "information")


def _columns() -> list[ColumnElement[Any]]:
    def share(
        column: InstrumentedAttribute[str | None], yes: str = "yes", skip: str | None = None
    ) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
        counted = column.is_not(None) if skip is None else column.is_not(None) & (column != skip)
        return (
            func.sum(case((counted, 1), else_=0)),
            func.sum(case((column == yes, 1), else_=0)),
        )

    return [
        func.count(FeedbackAnswer.id),
        func.sum(case((FeedbackAnswer.usefulness.is_not(None), 1), else_=0)),
        func.sum(func.coalesce(FeedbackAnswer.usefulness, 0)),
        *share(FeedbackAnswer.come_again),
        *share(FeedbackAnswer.needs_met, skip="none"),
        *share(FeedbackAnswer.information),
    ]


def _figures(row: Sequence[Any]) -> dict[str, Figure]:
    answers, n_use, sum_use, n_again, yes_again, n_needs, yes_needs, n_info, yes_info = (
        int(v or 0) for v in row
    )
    return {
        "answers": Figure(answers, float(answers)),
        "usefulness": Figure(n_use, sum_use / n_use if n_use else None),
        "come_again": Figure(n_again, yes_again / n_again if n_again else None),
        "needs_met": Figure(n_needs, yes_needs / n_needs if n_needs else None),
        "information": Figure(n_info, yes_info / n_info if n_info else None),
    }


def feedback_headline(filters: StatsFilter, organisations: set[int] | None) -> dict[str, Figure]:
    query = filtered(
        select(*_columns())
        .select_from(FeedbackAnswer)
        .join(Event, Event.id == FeedbackAnswer.event_id),
        filters,
        organisations,
    )
    figures = _figures(db.session.execute(query).one())
    return {name: _hide_small(f) for name, f in figures.items()}


def feedback_breakdown(
    group_by: GroupBy, filters: StatsFilter, organisations: set[int] | None
) -> list[FeedbackRow]:
    """Totals of the answers per municipality / campaign / kind / month (not by target group:
    too fine to stay above the minimum group size)."""
    from .stats import _labels, _plain

    key = {
        GroupBy.MUNICIPALITY: Event.municipality_id,
        GroupBy.CAMPAIGN: func.coalesce(Event.campaign_id, literal(0)),
        GroupBy.KIND: Event.kind,
        GroupBy.MONTH: Event.local_month,
    }[group_by]
    query = filtered(
        select(key.label("key"), *_columns())
        .select_from(FeedbackAnswer)
        .join(Event, Event.id == FeedbackAnswer.event_id),
        filters,
        organisations,
    ).group_by(key)
    rows = [(_plain(row[0]), _figures(row[1:])) for row in db.session.execute(query)]
    total = feedback_headline(filters, organisations)
    columns = {
        name: _suppress([figures[name] for _key, figures in rows], total[name]) for name in FIGURES
    }
    labels = _labels(group_by, [k for k, _figures in rows])
    result = [
        FeedbackRow(str(k), labels[k], **{name: columns[name][i] for name in FIGURES})
        for i, (k, _figures) in enumerate(rows)
    ]
    return sorted(result, key=lambda r: r.key if group_by is GroupBy.MONTH else r.label.lower())


@dataclass(frozen=True)
class EventFeedback:
    invited: int
    answered: int
    figures: dict[str, Figure]
    texts: list[str]  # free text, in alphabetical order (not the order they came in)


def event_feedback(user: User, event: Event) -> EventFeedback:
    """What the event's own organisers see: its totals (the same minimum group) and the free
    text."""
    require_organiser(user)
    if not can_manage_organisation(user, event.organisation_id):
        raise NotFound()
    invited, answered = db.session.execute(
        select(
            func.count(FeedbackInvitation.id),
            func.sum(case((FeedbackInvitation.used_on.is_not(None), 1), else_=0)),
        )
        .join(Registration, Registration.id == FeedbackInvitation.registration_id)
        .where(Registration.event_id == event.id)
    ).one()
    figures = _figures(
        db.session.execute(select(*_columns()).where(FeedbackAnswer.event_id == event.id)).one()
    )
    texts = sorted(
        filter(  # the query leaves out empty answers; the filter says so to the type checker
            None,
            db.session.scalars(
                select(FeedbackAnswer.improve).where(
                    FeedbackAnswer.event_id == event.id,
                    FeedbackAnswer.improve.is_not(None),
                    FeedbackAnswer.improve != "",
                )
            ),
        ),
        key=str.lower,
    )
    return EventFeedback(
        int(invited or 0),
        int(answered or 0),
        {name: _hide_small(f) for name, f in figures.items()},
        texts,
    )
