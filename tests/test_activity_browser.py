"""A resident on a phone (Chromium, 390×844): a festival with a full workshop, the manage page
that frees a workshop place, and a registration refused after the deadline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import Activity, OutboxMessage, Registration, RegistrationStatus
from eventsvc.services import registration as rules
from eventsvc.services.mailer import compose

from . import factories
from .test_accessibility import axe_violations

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True}

# Browser pages look the same whichever database is behind them: these run once, on SQLite.
on_sqlite = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


def phone_page(browser, live_server, language: str = "lv"):
    # bypass_csp: only so that axe-core can be injected (the CSP is tested elsewhere).
    context = browser.new_context(bypass_csp=True, **PHONE)
    context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
    return context, context.new_page()


@pytest.fixture
def festival(world, in_days, now):
    """100 places; the card workshop's 2 places are taken by one party."""
    event = factories.event(
        world.org_b, in_days(10), capacity=100, hours=6, title="Križu pagalma svētki"
    )
    for title, capacity in (("Kartīšu darbnīca", 2), ("Eglīšu rotājumu darbnīca", 20)):
        event.activities.append(
            Activity(
                title=title, starts_at=event.starts_at, ends_at=event.ends_at, capacity=capacity
            )
        )
    _db.session.commit()
    holder = rules.register(
        event.id,
        factories.registration_request(
            name="Aija Liepiņa", party_size=2, activity_ids=[event.activities[0].id]
        ),
        now,
    ).registration
    _db.session.commit()
    return event, holder


@on_sqlite
def test_a_full_workshop_waits_and_is_promoted_when_a_place_frees(festival, live_server, browser):
    event, holder = festival
    workshop = event.activities[0]
    context, page = phone_page(browser, live_server)
    page.goto(f"{live_server}/events/{event.id}")
    full = page.get_by_label(re.compile(r"^Kartīšu darbnīca .*vietu nav – var pieteikties rindā"))
    assert full.is_visible()
    page.fill("#name", "Inta Zariņa")
    page.fill("#email", "inta@example.lv")
    full.check()
    page.check("#consent")
    page.get_by_role("button", name="Reģistrēties").click()
    page.wait_for_url(re.compile(r"/events/\d+/registered"))
    status = page.get_by_role("status")
    assert "ir rezervēta" in status.inner_text()  # the festival place
    assert "vietu nav; jūs esat tās rindā 1. vietā" in page.inner_text("main")
    assert axe_violations(page) == []
    context.close()

    waiting = _db.session.scalar(
        select(Registration).where(Registration.email == "inta@example.lv")
    )
    assert waiting.status is RegistrationStatus.CONFIRMED
    assert [w.activity_id for w in waiting.activity_waits] == [workshop.id]

    # The other party opens its private link and leaves the workshop out.
    context, page = phone_page(browser, live_server)
    page.goto(f"{live_server}/r/{holder.manage_token}")
    page.get_by_label(re.compile(r"^Kartīšu darbnīca")).uncheck()
    page.get_by_role("button", name="Saglabāt izmaiņas").click()
    page.wait_for_url(f"{live_server}/r/{holder.manage_token}#main")
    assert "Jūsu reģistrācija ir mainīta." in page.get_by_role("status").inner_text()
    context.close()

    _db.session.expire_all()
    promoted = _db.session.get(Registration, waiting.id)
    assert [a.id for a in promoted.activities] == [workshop.id]
    message = _db.session.scalar(
        select(OutboxMessage).where(
            OutboxMessage.registration_id == waiting.id, OutboxMessage.kind == "activity_promoted"
        )
    )
    mail = compose(message)
    assert mail.recipients == ["inta@example.lv"]
    assert "Kartīšu darbnīca" in mail.subject and "atbrīvojās vieta" in mail.body

    context, page = phone_page(browser, live_server)
    page.goto(f"{live_server}/r/{waiting.manage_token}")
    assert "Kartīšu darbnīca" in page.inner_text(".facts")
    assert "jūsu vieta ir rezervēta" in page.inner_text(".facts")
    assert axe_violations(page) == []
    context.close()


@on_sqlite
@pytest.mark.parametrize("language", ["lv", "ru"])
def test_a_refusal_after_the_deadline_is_at_the_top_and_has_the_focus(
    world, in_days, now, live_server, browser, language
):
    event = factories.event(world.org_a, in_days(3), title="Diskusija Tumē")
    context, page = phone_page(browser, live_server, language)
    page.goto(f"{live_server}/events/{event.id}")
    page.fill("#name", "Jānis Ozols")
    page.fill("#email", "janis@example.lv")
    page.check("#consent")
    event.registration_closes_at = now - timedelta(minutes=1)  # closes while the form is filled
    _db.session.commit()
    page.locator("form.form button[type=submit]").click()
    page.wait_for_load_state()
    refusal = page.get_by_role("alert")
    assert refusal.is_visible()
    assert page.evaluate("document.activeElement.id") == "refusal"  # read out, and seen
    box = refusal.bounding_box()
    assert box["y"] < 844  # on the first screen of the phone
    assert {"lv": "Reģistrācija nenotika", "ru": "Вы не зарегистрированы"}[language] in (
        refusal.inner_text()
    )
    assert page.locator("form.form").count() == 0  # no form as if nothing had happened
    assert _db.session.scalar(select(Registration.id)) is None
    assert axe_violations(page) == []
    context.close()
