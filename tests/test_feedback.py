"""Feedback after an event: who is asked, in which language, once; answers that nothing joins
to a person; a link that expires and works once; totals that hide small groups; free text only
for the event's own organisers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Base,
    FeedbackAnswer,
    FeedbackInvitation,
    OutboxMessage,
    Registration,
    RegistrationStatus,
)
from eventsvc.services import ValidationFailed, feedback
from eventsvc.services import checkin as door
from eventsvc.services import registration as rules
from eventsvc.services.mailer import compose
from eventsvc.services.stats import GroupBy, StatsFilter

from . import factories
from .conftest import login, post_form


@pytest.fixture
def ended(world, now):
    """A training that ended an hour ago: Olga (Russian) and Jānis were let in, Pēteris did
    not come, Inta was let in but left only a phone number."""
    event = factories.event(world.org_a, now + timedelta(days=1), title="Apmācības Tukumā")
    people = {}
    for name, language, email in (
        ("Olga", "ru", "olga@example.lv"),
        ("Jānis", "lv", "janis@example.lv"),
        ("Pēteris", "lv", "peteris@example.lv"),
        ("Inta", "lv", None),
    ):
        request = factories.registration_request(
            name=name, language=language, email=email, phone=None if email else "+37120000001"
        )
        people[name] = rules.register(event.id, request, now).registration
    _db.session.commit()
    for name in ("Olga", "Jānis", "Inta"):
        door.check_in_registration(event, people[name].id, world.organiser_a, now)
    event.starts_at, event.ends_at = now - timedelta(hours=3), now - timedelta(hours=1)
    _db.session.commit()
    return event, people


def _invite_all(runner):
    result = runner.invoke(args=["mail", "feedback"])
    assert result.exit_code == 0, result.output
    return result.output


def _token_of(registration) -> str:
    message = _db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.registration_id == registration.id,
            OutboxMessage.kind == "event_feedback",
        )
    )
    return message.payload["token"]


def test_everyone_let_in_with_an_address_is_asked_once_in_their_language(runner, world, now, ended):
    _event, people = ended
    old = factories.event(world.org_a, now - timedelta(days=20), title="Sen")
    _db.session.add(  # let in at an event that ended long ago: not asked now
        Registration(
            event_id=old.id,
            status=RegistrationStatus.CONFIRMED,
            name="Sena",
            email="sena@example.lv",
            checked_in_people=1,
        )
    )
    _db.session.commit()

    assert "queued 2 feedback forms" in _invite_all(runner)
    assert "queued 0 feedback forms" in _invite_all(runner)  # a second run sends nothing
    messages = _db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "event_feedback")
    ).all()
    assert sorted(m.recipient for m in messages) == ["janis@example.lv", "olga@example.lv"]

    olga = next(m for m in messages if m.recipient == "olga@example.lv")
    assert olga.language == "ru"
    mail = compose(olga)
    token = olga.payload["token"]
    assert mail.subject == "Как всё прошло? Apmācības Tukumā"
    assert f"/feedback/{token}" in mail.body and f"/feedback/{token}" in mail.html
    assert not mail.attachments  # no ticket, no calendar file
    # Only a hash of the token is kept with the registration.
    invitation = _db.session.scalar(
        select(FeedbackInvitation).where(FeedbackInvitation.registration_id == people["Olga"].id)
    )
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64


def test_the_form_speaks_the_registrants_language_and_stores_the_answers_once(
    client, runner, ended
):
    event, people = ended
    _invite_all(runner)
    token = _token_of(people["Olga"])
    page = client.get(f"/feedback/{token}").get_data(as_text=True)
    assert '<html lang="ru"' in page and "Насколько мероприятие было полезным" in page
    response = post_form(
        client,
        f"/feedback/{token}",
        {
            "usefulness": "5",
            "come_again": "yes",
            "needs_met": "none",
            "improve": "Больше перерывов",
        },
    )
    assert response.status_code == 302 and response.location.endswith("/feedback/thanks")
    assert "Спасибо" in client.get("/feedback/thanks").get_data(as_text=True)
    answer = _db.session.scalar(select(FeedbackAnswer))
    assert (answer.event_id, answer.usefulness, answer.come_again, answer.needs_met) == (
        event.id,
        5,
        "yes",
        "none",
    )
    assert answer.improve == "Больше перерывов" and answer.information is None  # not asked
    again = client.get(f"/feedback/{token}")
    assert again.status_code == 410
    assert "уже" in again.get_data(as_text=True)  # "already answered"


def test_an_answer_cannot_be_joined_to_a_person(db, runner, ended, now):
    """No column, key or time of an answer points to a registration or an invitation, nor
    does anything point to an answer; the invitation keeps only the day it was used."""
    table = Base.metadata.tables["feedback_answers"]
    assert set(table.columns.keys()) == {
        "id",
        "event_id",
        "usefulness",
        "come_again",
        "needs_met",
        "information",
        "improve",
    }
    assert {fk.column.table.name for fk in table.foreign_keys} == {"events"}
    for other in Base.metadata.tables.values():
        assert all(fk.column.table.name != "feedback_answers" for fk in other.foreign_keys)
    invitation_columns = set(Base.metadata.tables["feedback_invitations"].columns.keys())
    assert invitation_columns == {
        "id",
        "registration_id",
        "token_hash",
        "created_at",
        "expires_at",
        "used_on",
    }
    # The database as migrated has the same shape (no column added by hand).
    columns = {c["name"] for c in inspect(_db.engine).get_columns("feedback_answers")}
    assert columns == set(table.columns.keys())

    _event, people = ended
    _invite_all(runner)
    keys = []
    for name in ("Olga", "Jānis"):
        feedback.submit(_token_of(people[name]), {"usefulness": "4"}, now)
        _db.session.commit()
    keys = sorted(_db.session.scalars(select(FeedbackAnswer.id)))
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)  # random, not a sequence
    used = _db.session.scalars(select(FeedbackInvitation.used_on)).all()
    assert all(day is None or not hasattr(day, "hour") for day in used)  # a day, not a moment


def test_a_link_expires_after_30_days_and_stores_nothing(client, runner, ended, now):
    _event, people = ended
    _invite_all(runner)
    token = _token_of(people["Jānis"])
    invitation = _db.session.scalar(
        select(FeedbackInvitation).where(FeedbackInvitation.registration_id == people["Jānis"].id)
    )
    assert invitation.expires_at - invitation.created_at == timedelta(days=30)
    invitation.expires_at = now - timedelta(minutes=1)
    _db.session.commit()
    response = client.get(f"/feedback/{token}")
    assert response.status_code == 410 and "beidzies" in response.get_data(as_text=True)
    with pytest.raises(feedback.LinkExpired):
        feedback.submit(token, {"usefulness": "3"}, now)
    _db.session.rollback()
    assert _db.session.scalar(select(FeedbackAnswer.id)) is None
    assert client.get("/feedback/" + "x" * 43).status_code == 404  # a guessed link


def test_a_link_works_once(runner, ended, now):
    _event, people = ended
    _invite_all(runner)
    token = _token_of(people["Jānis"])
    with pytest.raises(ValidationFailed):  # a bad answer uses nothing up
        feedback.submit(token, {"usefulness": "9"}, now)
    _db.session.rollback()
    feedback.submit(token, {"usefulness": "3"}, now)
    _db.session.commit()
    with pytest.raises(feedback.LinkUsed):
        feedback.submit(token, {"usefulness": "1"}, now)
    _db.session.rollback()
    assert _db.session.scalars(select(FeedbackAnswer.usefulness)).all() == [3]


def _answers(event, n, usefulness=4):
    for i in range(n):
        _db.session.add(
            FeedbackAnswer(
                event_id=event.id, usefulness=usefulness, come_again="yes" if i % 2 else "no"
            )
        )
    _db.session.commit()


def test_figures_of_fewer_than_5_answers_are_hidden(app, db, world, now):
    from eventsvc.models import Municipality, Organisation, OrganisationKind

    riga = Municipality(name="Rīga", slug="riga")
    org_c = Organisation(
        name="Rīgas Sociālais dienests",
        slug="riga-sd",
        kind=OrganisationKind.SOCIAL_SERVICE,
        municipality=riga,
    )
    _db.session.add_all([riga, org_c])
    _db.session.commit()
    tukums = factories.event(world.org_a, now - timedelta(days=2))
    daugavpils = factories.event(world.org_b, now - timedelta(days=2))
    rigas = factories.event(org_c, now - timedelta(days=2))
    _answers(tukums, 6, usefulness=5)
    _answers(daugavpils, 3, usefulness=1)
    _answers(rigas, 7, usefulness=3)

    with app.test_request_context("/"):
        rows = {
            r.label: r
            for r in feedback.feedback_breakdown(GroupBy.MUNICIPALITY, StatsFilter(), None)
        }
    assert rows["Daugavpils valstspilsēta"].usefulness.hidden  # 3 answers
    assert rows["Daugavpils valstspilsēta"].answers.hidden
    # Tukums (6) is hidden too: otherwise the total minus Tukums and Rīga gives Daugavpils.
    assert rows["Tukuma novads"].usefulness.hidden and rows["Tukuma novads"].answers.hidden
    assert not rows["Rīga"].usefulness.hidden and rows["Rīga"].usefulness.value == 3
    total = feedback.feedback_headline(StatsFilter(), None)
    assert total["answers"].n == 16 and total["usefulness"].value == pytest.approx(
        (6 * 5 + 3 * 1 + 7 * 3) / 16
    )
    only_daugavpils = feedback.feedback_headline(
        StatsFilter(municipality_id=world.daugavpils.id), None
    )
    assert only_daugavpils["usefulness"].hidden and only_daugavpils["usefulness"].value is None


def test_free_text_only_for_the_events_own_organisers(client, world, now):
    event = factories.event(world.org_a, now - timedelta(days=2), title="Tukuma pasākums")
    _db.session.add(FeedbackAnswer(event_id=event.id, usefulness=4, improve="Vairāk krēslu"))
    _db.session.commit()
    login(client, world.organiser_a.email)
    own = client.get(f"/manage/events/{event.id}/feedback").get_data(as_text=True)
    assert "Vairāk krēslu" in own
    client.post("/logout", data={})
    other = client.application.test_client()
    login(other, world.organiser_b.email)
    assert other.get(f"/manage/events/{event.id}/feedback").status_code == 404
    ministry = client.application.test_client()
    login(ministry, world.ministry.email)
    assert ministry.get(f"/manage/events/{event.id}/feedback").status_code == 403
    totals = ministry.get("/stats/feedback").get_data(as_text=True)
    assert totals and "Vairāk krēslu" not in totals


def test_the_organiser_picks_3_to_5_questions(client, world, now, runner, ended):
    event, people = ended
    login(client, world.organiser_a.email)
    url = f"/manage/events/{event.id}/feedback"
    refused = post_form(client, url, {"questions": ["usefulness", "improve"]})
    assert refused.status_code == 422 and "Izvēlieties 3 līdz 5 jautājumus." in refused.get_data(
        as_text=True
    )
    saved = post_form(client, url, {"questions": ["usefulness", "information", "come_again"]})
    assert saved.status_code == 302
    _db.session.expire_all()
    assert [q.key for q in feedback.questions_of(event)] == [
        "usefulness",
        "come_again",
        "information",
    ]
    _invite_all(runner)
    page = client.get(f"/feedback/{_token_of(people['Jānis'])}").get_data(as_text=True)
    assert 'name="information"' in page and 'name="improve"' not in page
