"""WCAG 2.1 A/AA in a real browser: axe-core on every page a person meets, in every language;
registration with the keyboard alone; 320 px at the largest text size without sideways scrolling.

axe-core is vendored under tests/vendor/axe-core (npm, MPL-2.0). It is injected into each page;
the page's own Content-Security-Policy would refuse a foreign script, so these contexts bypass
it (the CSP itself is tested elsewhere, without bypass).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from eventsvc.extensions import db as _db
from eventsvc.models import (
    Event,
    EventKind,
    OutboxMessage,
    OutboxStatus,
    Registration,
    RegistrationStatus,
)
from eventsvc.services.demo import DEMO_PASSWORD, load_demo
from eventsvc.services.phone_calls import note_undelivered
from eventsvc.timezones import utcnow

AXE = Path(__file__).parent / "vendor/axe-core/axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = ("lv", "ru", "en")

# The organiser of the festival and the Ministry's reader, as the demo data creates them.
ORGANISER = "daugavpils-sd@demo.eventsvc.lv"
MINISTRY = "ministrija@demo.eventsvc.lv"
DOOR = "durvis@demo.eventsvc.lv"  # a volunteer at the festival's door (check-in only)

# Browser pages look the same whichever database is behind them: these run once, on SQLite.
on_sqlite = pytest.mark.parametrize("app", ["sqlite"], indirect=True)


@pytest.fixture
def demo(app, db, now):
    load_demo(now)
    _db.session.commit()
    festival = _db.session.scalar(select(Event).where(Event.kind == EventKind.FESTIVAL))
    confirmed = _db.session.scalar(
        select(Registration)
        .where(
            Registration.event_id == festival.id,
            Registration.status == RegistrationStatus.CONFIRMED,
        )
        .order_by(Registration.id)
        .limit(1)
    )
    return festival, confirmed


def feedback_link(registration) -> str:
    """A feedback invitation for `registration` (the timer sends them after the event)."""
    import hashlib
    from datetime import timedelta

    from eventsvc.models import FeedbackInvitation
    from eventsvc.timezones import utcnow

    token = "a11y" + "0" * 39
    _db.session.add(
        FeedbackInvitation(
            registration_id=registration.id,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            created_at=utcnow(),
            expires_at=utcnow() + timedelta(days=30),
        )
    )
    _db.session.commit()
    return token


def issued_certificate():
    """The demo's training with one person let in and given a certificate."""
    from eventsvc.models import User
    from eventsvc.services import certificates
    from eventsvc.services import checkin as door
    from eventsvc.services.registration import RegistrationRequest, register
    from eventsvc.timezones import utcnow

    now = utcnow()
    training = _db.session.scalar(select(Event).where(Event.kind == EventKind.TRAINING))
    admin = _db.session.scalar(select(User).where(User.email == "admin@demo.eventsvc.lv"))
    attendee = register(
        training.id,
        RegistrationRequest(
            name="Ģirts Ķirsis", email="girts@example.lv", consent=True, attendance=None
        ),
        now,
    ).registration
    _db.session.commit()
    door.check_in_registration(training, attendee.id, admin, now)
    certificates.issue(admin, training, "5", now)
    _db.session.commit()
    return training, attendee


def new_page(browser, live_server, language: str, **context_args):
    context = browser.new_context(bypass_csp=True, **context_args)
    context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
    return context, context.new_page()


def axe_violations(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
    ]


def sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_load_state()
    assert "/login" not in page.url, "sign-in failed"


@on_sqlite
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe(language, demo, live_server, browser):
    festival, confirmed = demo
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        assert page.evaluate("document.documentElement.lang") == language, name
        found[name] = axe_violations(page)

    context, page = new_page(browser, live_server, language)
    page.goto(live_server + "/")
    check("calendar")
    page.goto(f"{live_server}/events/{festival.id}")
    check("event page with the empty form")
    page.click("form.form button[type=submit]")
    page.wait_for_selector(".error-summary")
    check("registration form with errors")
    page.fill("#name", "Anna Bērziņa")
    page.fill("#email", f"anna.{language}@example.lv")
    page.check("#consent")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/events/\d+/registered"))
    check("confirmation")
    page.goto(f"{live_server}/r/{confirmed.manage_token}")
    check("manage page")
    page.goto(f"{live_server}/r/{confirmed.manage_token}/ticket")
    check("ticket")
    page.click(
        "footer >> text="
        + {
            "lv": "Piekļūstamības paziņojums",
            "ru": "Заявление о доступности",
            "en": "Accessibility statement",
        }[language]
    )
    page.wait_for_url(f"{live_server}/accessibility")
    check("accessibility statement")
    page.goto(f"{live_server}/feedback/{feedback_link(confirmed)}")
    check("feedback form")
    page.click("form.form button[type=submit]")  # nothing answered: an error
    page.wait_for_selector(".error-summary")
    check("feedback form with an error")
    page.check("#q-usefulness-4")
    page.click("form.form button[type=submit]")
    page.wait_for_url(re.compile(r"/feedback/thanks"))
    check("feedback thanks")
    context.close()

    context, page = new_page(browser, live_server, language)
    sign_in(page, live_server, ORGANISER)
    page.goto(f"{live_server}/manage/")
    check("organiser's event list")
    page.goto(f"{live_server}/manage/events/{festival.id}/edit")
    check("event editor")
    page.goto(f"{live_server}/manage/organisations/{festival.organisation_id}")
    check("the organisation's public contacts")
    page.goto(f"{live_server}/manage/events/{festival.id}/registrations")
    check("registrations list")
    page.goto(f"{live_server}/manage/events/{festival.id}/checkin")
    page.wait_for_selector("#door[data-list-size]")
    check("check-in")
    page.fill("#code", confirmed.booking_code)
    page.press("#code", "Enter")
    page.wait_for_selector("#result .result-title")
    page.fill("#q", confirmed.name.split()[0])
    page.wait_for_selector("#found li")
    page.click(".door-menu summary")
    check("check-in: a scan, names found, the menu open")
    page.fill("#q", "zzzz")
    page.wait_for_selector("#found-status:not(:empty)")
    check("check-in: nothing found")
    page.goto(f"{live_server}/account/")
    check("account: sessions and password")
    page.click("form[action*='/account/password'] button[type=submit]")
    page.wait_for_selector(".error-summary")
    check("password change with errors")
    page.goto(f"{live_server}/manage/events/{festival.id}/feedback")
    check("organiser's feedback page")
    concert = _db.session.scalar(
        select(Event).where(Event.title == "Senioru dienas koncerts Križos")
    )
    page.goto(f"{live_server}/manage/events/{concert.id}")
    check("an ended event's page, with its follow-up list")
    page.click(f'a[href="/manage/events/{concert.id}/follow-up"]')
    page.wait_for_selector("#follow-up-caption")
    check("follow-up list after the event")
    page.select_option("form.call-form select >> nth=1", index=2)
    page.click("form.call-form button >> nth=1")
    page.wait_for_selector(".flash-success")
    check("follow-up list: a call marked")
    context.close()

    context, page = new_page(browser, live_server, language)
    sign_in(page, live_server, DOOR)
    assert page.url.endswith("/manage/door")
    check("door: coming events")
    page.click(f'a[href="/manage/events/{festival.id}/checkin"]')
    page.wait_for_selector("#door[data-list-size]")
    check("check-in as door staff")
    context.close()

    context, page = new_page(browser, live_server, language)
    sign_in(page, live_server, MINISTRY)
    page.goto(f"{live_server}/stats/")
    check("ministry dashboard")
    page.goto(f"{live_server}/stats/feedback")
    check("ministry feedback totals")
    context.close()

    training, attendee = issued_certificate()
    context, page = new_page(browser, live_server, language)
    sign_in(page, live_server, "admin@demo.eventsvc.lv")
    page.goto(f"{live_server}/manage/events/{training.id}/certificates")
    check("certificates of a training")
    context.close()
    context, page = new_page(browser, live_server, language)
    page.goto(f"{live_server}/r/{attendee.manage_token}")
    check("manage page with a certificate")
    context.close()

    assert {name: v for name, v in found.items() if v} == {}


def test_axe_reports_what_it_should(browser):
    """The checker itself: a page without a language, an image without text, an unlabeled field."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content(
        '<html><head><title>x</title></head><body><main><img src="x.png"><input type="text"></main></body></html>'
    )
    ids = {line.split(" ")[0] for line in axe_violations(page)}
    context.close()
    assert {"html-has-lang", "image-alt", "label"} <= ids


def focus_by_tab(page, selector: str, limit: int = 60) -> None:
    """Press Tab until `selector` has the focus; every stop on the way must show where it is."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement, s = getComputedStyle(e);
                       return {visible: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
                               what: e.outerHTML.slice(0, 80)}; }"""
        )
        assert focused["visible"], f"no visible focus on {focused['what']}"
        if page.evaluate("s => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@on_sqlite
def test_registration_with_the_keyboard_alone(demo, live_server, browser):
    festival, _ = demo
    context, page = new_page(browser, live_server, "lv")
    page.goto(f"{live_server}/events/{festival.id}")

    # The skip link comes first and jumps over the header to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    focus_by_tab(page, "#name")
    page.keyboard.type("Ilze Kalniņa")
    focus_by_tab(page, "#email")
    page.keyboard.type("ilze@example.lv")
    focus_by_tab(page, "#party_size")
    page.keyboard.press("Control+A")
    page.keyboard.type("2")
    focus_by_tab(page, "#consent")
    page.keyboard.press("Space")  # a checkbox is ticked with the space bar
    focus_by_tab(page, "form.form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/events/\d+/registered"))
    context.close()

    _db.session.expire_all()
    registration = _db.session.scalar(
        select(Registration).where(Registration.email == "ilze@example.lv")
    )
    assert (registration.name, registration.party_size, registration.status) == (
        "Ilze Kalniņa",
        2,
        RegistrationStatus.CONFIRMED,
    )


@on_sqlite
def test_errors_are_announced_and_lead_to_their_fields(demo, live_server, browser):
    festival, _ = demo
    context, page = new_page(browser, live_server, "en")
    page.goto(f"{live_server}/events/{festival.id}")
    page.fill("#party_size", "0")
    page.click("form.form button[type=submit]")
    summary = page.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.get_attribute("#name", "aria-invalid") == "true"
    assert "name-error" in page.get_attribute("#name", "aria-describedby").split()
    assert page.inner_text("#name-error").strip().endswith("Enter your name.")
    summary.locator('a[href="#name"]').click()
    assert page.evaluate("document.activeElement.id") == "name"
    context.close()


@on_sqlite
def test_text_size_is_remembered_across_pages(demo, live_server, browser):
    festival, _ = demo
    context, page = new_page(browser, live_server, "lv")
    page.goto(f"{live_server}/events/{festival.id}")
    normal = page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    page.click(".text-sizes a:has-text('A++')")
    assert page.url.endswith(f"/events/{festival.id}")  # back on the same page
    page.goto(f"{live_server}/")
    assert page.evaluate("document.documentElement.className") == "text-largest"
    assert (
        page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
        >= normal * 1.4
    )
    assert page.locator(".text-sizes [aria-current]").inner_text().startswith("A++")
    context.close()


@on_sqlite
@pytest.mark.parametrize("language", ["lv", "ru"])
def test_320px_wide_at_the_largest_text_needs_no_sideways_scrolling(
    language, demo, live_server, browser, tmp_path
):
    """WCAG 1.4.10: 320 CSS px is also what 1280 px at 400 % zoom (or 640 px at 200 %) leaves."""
    from PIL import Image

    festival, confirmed = demo
    context, page = new_page(browser, live_server, language, viewport={"width": 320, "height": 640})
    context.add_cookies([{"name": "text_size", "value": "largest", "url": live_server}])
    pages = {
        "calendar": "/",
        "event": f"/events/{festival.id}",
        "manage": f"/r/{confirmed.manage_token}",
        "ticket": f"/r/{confirmed.manage_token}/ticket",
        "privacy": "/privacy",
        "accessibility statement": "/accessibility",
    }
    too_wide = {}

    def measure(name: str) -> None:
        width = page.evaluate("document.documentElement.scrollWidth")
        shot = tmp_path / f"{name}.png"
        page.screenshot(path=str(shot), full_page=True)  # kept under tmp_path to look at
        with Image.open(shot) as image:
            shot_width = image.width
        if width > 320 or shot_width > 320:
            culprits = page.evaluate(
                "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 321)"
                ".slice(0, 5).map(e => e.outerHTML.slice(0, 100))"
            )
            too_wide[name] = (width, culprits)

    for name, path in pages.items():
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.className") == "text-largest"
        measure(name)
    page.goto(f"{live_server}/events/{festival.id}")
    page.click("form.form button[type=submit]")
    page.wait_for_selector(".error-summary")
    measure("form with errors")
    context.close()

    context, page = new_page(browser, live_server, language, viewport={"width": 320, "height": 640})
    context.add_cookies([{"name": "text_size", "value": "largest", "url": live_server}])
    sign_in(page, live_server, ORGANISER)
    for name, path in {
        "organiser": "/manage/",
        "check-in": f"/manage/events/{festival.id}/checkin",
        "editor": f"/manage/events/{festival.id}/edit",
        "account": "/account/",
    }.items():
        page.goto(live_server + path)
        measure(name)
    page.click(".site-menu > summary")  # a phone's menu folds behind one button
    page.click(".site-header .link-button")  # sign out
    sign_in(page, live_server, DOOR)
    measure("door: coming events")
    context.close()
    assert too_wide == {}, "\n".join(
        f"{name}: {width}px; {culprits}" for name, (width, culprits) in too_wide.items()
    )


@on_sqlite
def test_event_text_keeps_its_own_language(demo, live_server, browser):
    """Screen readers must read a Latvian title with Latvian rules on the English page: text
    written in English is marked en, text that falls back to Latvian is marked lv."""
    festival, _ = demo
    training = _db.session.scalar(select(Event).where(Event.title.like("Mācības%")))
    assert training.title_en is None
    context, page = new_page(browser, live_server, "en")
    page.goto(f"{live_server}/events/{festival.id}")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.get_attribute("h1", "lang") == "en"
    assert page.locator("h1").inner_text() == "Križi neighbourhood courtyard festival"
    page.goto(f"{live_server}/events/{training.id}")
    assert page.get_attribute("h1", "lang") == "lv"
    page.goto(f"{live_server}/")
    assert page.locator(f'a[href="/events/{festival.id}"]').first.get_attribute("lang") == "en"
    assert page.locator(f'a[href="/events/{training.id}"]').first.get_attribute("lang") == "lv"
    context.close()


@on_sqlite
def test_a_russian_phone_reads_the_tume_discussion_in_russian(demo, live_server, browser):
    """A first visit from a Russian phone (no language chosen yet): the page and the event's
    own text in Russian, marked ru; the Ministry's A++ text size as a senior would set it."""
    tume = _db.session.scalar(select(Event).where(Event.title.like("Sociālais darbs kopienā%")))
    context = browser.new_context(
        bypass_csp=True, locale="ru-RU", viewport={"width": 390, "height": 844}
    )
    context.add_cookies([{"name": "text_size", "value": "largest", "url": live_server}])
    page = context.new_page()
    page.goto(f"{live_server}/")
    assert page.evaluate("document.documentElement.lang") == "ru"
    page.get_by_role("link", name="Социальная работа в общине: как идти дальше вместе").click()
    page.wait_for_url(f"{live_server}/events/{tume.id}")
    heading = page.locator("h1")
    assert heading.inner_text() == "Социальная работа в общине: как идти дальше вместе"
    assert heading.get_attribute("lang") == "ru"
    assert page.locator("p.lead").get_attribute("lang") == "ru"
    assert "Заключительная дискуссия" in page.locator("p.lead").inner_text()
    assert page.get_by_text("В доме культуры есть пандус").get_attribute("lang") == "ru"
    assert page.get_by_text("старший эксперт").get_attribute("lang") == "ru"
    assert "Sociālais darbs kopienā" not in page.locator("main").inner_text()
    assert axe_violations(page) == []
    context.close()


@on_sqlite
def test_the_other_pages_pass_axe_too(demo, live_server, browser):
    """Beyond the resident's path: sign-in, privacy, the organiser's and the admin's pages (in Latvian)."""
    festival, confirmed = demo
    # A message that could not be delivered: on the event's to-call list, to phone the person.
    message = OutboxMessage(
        kind="registration_confirmed",
        registration_id=confirmed.id,
        recipient=confirmed.email or "nobody@example.lv",
        status=OutboxStatus.FAILED,
        last_error="550 5.1.1 mailbox unavailable",
    )
    _db.session.add(message)
    _db.session.flush()
    note_undelivered(message.id, utcnow())
    _db.session.commit()
    found: dict[str, list[str]] = {}

    def visit(path: str) -> None:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        found[path] = axe_violations(page)

    context, page = new_page(browser, live_server, "lv")
    for path in ("/login", "/privacy", f"/r/{confirmed.manage_token}/cancel"):
        visit(path)
    context.close()

    context, page = new_page(browser, live_server, "lv")
    sign_in(page, live_server, ORGANISER)
    registration_id = confirmed.id
    activity_id = festival.activities[0].id
    for path in (
        f"/manage/events/{festival.id}",
        "/manage/events/new",
        f"/manage/events/{festival.id}/cancel",
        f"/manage/events/{festival.id}/activities/{activity_id}",
        f"/manage/events/{festival.id}/speakers/new",
        f"/manage/events/{festival.id}/registrations/new",
        f"/manage/events/{festival.id}/registrations/{registration_id}",
        f"/manage/events/{festival.id}/registrations/{registration_id}/ticket",
        "/stats/",
        f"/stats/events?municipality={festival.municipality_id}",
        "/account/tokens",
    ):
        visit(path)
    page.goto(f"{live_server}/manage/events/{festival.id}")
    assert page.locator("#to-call-title").inner_text() == "1 cilvēkam jāpiezvana"
    context.close()

    context, page = new_page(browser, live_server, "lv")
    sign_in(page, live_server, "admin@demo.eventsvc.lv")
    for path in (
        "/admin/users",
        "/admin/users/new",
        "/admin/organisations",
        "/admin/organisations/new",
        "/admin/outbox",
    ):
        visit(path)
    context.close()

    assert {path: v for path, v in found.items() if v} == {}


@on_sqlite
@pytest.mark.parametrize("language", ("lv", "ru"))
def test_on_a_phone_at_a_plus_plus_the_header_keeps_to_a_quarter_of_the_screen(
    language, demo, live_server, browser
):
    festival, _ = demo
    context, page = new_page(browser, live_server, language, viewport={"width": 390, "height": 844})
    context.add_cookies([{"name": "text_size", "value": "largest", "url": live_server}])
    page.goto(f"{live_server}/events/{festival.id}")
    header = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    assert header <= 844 / 4, header
    # The page's own title and the way to the form start on the first screen.
    assert page.evaluate("document.querySelector('h1').getBoundingClientRect().top") < 844 / 2
    assert page.locator(".jump-to-form a").is_visible()
    # The menu folds behind one button that the keyboard opens.
    assert not page.get_by_role("link", name=re.compile("Darbinieku|Вход для")).is_visible()
    page.focus(".site-menu > summary")
    page.keyboard.press("Enter")
    assert page.get_by_role("link", name=re.compile("Darbinieku|Вход для")).is_visible()
    # The language switch shows LV/RU/EN, and screen readers hear the language's name.
    english = page.locator(".languages a[hreflang=en]")
    assert english.inner_text().startswith("EN") and "English" in english.text_content()
    context.close()


@on_sqlite
def test_on_a_wide_screen_the_menu_stands_open(demo, live_server, browser):
    context, page = new_page(browser, live_server, "lv", viewport={"width": 1366, "height": 900})
    page.goto(f"{live_server}/")
    assert page.get_by_role("link", name="Darbinieku pieteikšanās").is_visible()
    assert not page.locator(".site-menu > summary").is_visible()
    assert page.locator(".languages a[hreflang=en]").inner_text() == "English"
    context.close()


@on_sqlite
@pytest.mark.parametrize("language", ["lv", "ru"])
def test_the_totals_fit_1366_px_and_reflow_on_a_phone(language, demo, live_server, browser):
    """The Ministry's tables show every column at 1366 px (no column hidden off the side); on a
    390 px phone at the largest text each row becomes a card of labelled numbers."""
    context, page = new_page(
        browser, live_server, language, viewport={"width": 1366, "height": 900}
    )
    sign_in(page, live_server, MINISTRY)
    page.goto(f"{live_server}/stats/")
    overflowing = page.evaluate(
        "[...document.querySelectorAll('.table-scroll')].filter(e => e.scrollWidth > e.clientWidth).length"
    )
    assert overflowing == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    context.close()

    context, page = new_page(browser, live_server, language, viewport={"width": 390, "height": 844})
    context.add_cookies([{"name": "text_size", "value": "largest", "url": live_server}])
    sign_in(page, live_server, MINISTRY)
    page.goto(f"{live_server}/stats/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert (
        page.evaluate("getComputedStyle(document.querySelector('table.totals tbody tr')).display")
        == "block"
    )
    label = page.evaluate(
        "getComputedStyle(document.querySelector('table.totals td'), '::before').content"
    )
    assert label.strip('"') == {"lv": "Pasākumi", "ru": "Мероприятия"}[language]
    context.close()


@on_sqlite
@pytest.mark.parametrize("language", LANGUAGES)
def test_refused_input_passes_axe(language, demo, live_server, browser):
    """What a person meets when a value is refused (tests/test_hostile_input.py): a control
    character in a name, a description, a walk-in's name, a date outside 1900-2999 in a
    filter. The message stands next to its field; the page still passes axe."""
    festival, _ = demo
    found: dict[str, list[str]] = {}

    context, page = new_page(browser, live_server, language)
    page.goto(f"{live_server}/events/{festival.id}")
    page.fill("#name", "Anna\u001bBērziņa")  # an escape pasted with the name
    page.fill("#email", "anna@example.lv")
    page.check("#consent")
    page.click("form.form button[type=submit]")
    page.wait_for_selector("#name-error")
    found["registration"] = axe_violations(page)
    assert page.goto(f"{live_server}/?date_to=9999-12-31").status == 400
    assert page.locator("#date_to-error").count() == 1
    found["calendar"] = axe_violations(page)
    context.close()

    context, page = new_page(browser, live_server, language)
    sign_in(page, live_server, ORGANISER)
    page.goto(f"{live_server}/manage/events/{festival.id}/edit")
    page.fill("#description", "Programma:\n\x0c12:00 Atklāšana")  # a form feed from a PDF
    page.click("form.form button[type=submit]")
    page.wait_for_selector("#description-error")
    found["event form"] = axe_violations(page)
    page.goto(f"{live_server}/manage/events/{festival.id}/checkin")
    page.wait_for_selector("#door[data-list-size]")
    page.fill("#walkin-name", "Pēteris\u0007")
    page.click("#walkin-form button[type=submit]")
    # Refused next to the field (plain form) or in the result line (the page's script).
    page.wait_for_selector("#walkin-name-error, #result .result-title")
    found["door"] = axe_violations(page)
    context.close()

    context, page = new_page(browser, live_server, language)
    sign_in(page, live_server, MINISTRY)
    assert page.goto(f"{live_server}/stats/events?date_from=0001-01-01").status == 400
    assert page.locator(".error-summary").count() == 1
    found["events behind the totals"] = axe_violations(page)
    context.close()

    assert {name: v for name, v in found.items() if v} == {}


@on_sqlite
@pytest.mark.parametrize("language", LANGUAGES)
def test_cancelling_undoing_and_the_attendance_sheet_pass_axe(language, demo, live_server, browser):
    """The organiser's question before cancelling, "Cancelled. Undo" (and why an undo is not
    possible), the attendance sheet on screen; the resident's question and undo."""
    from eventsvc.services import registration as rules
    from eventsvc.timezones import utcnow

    festival, confirmed = demo
    others = _db.session.scalars(
        select(Registration)
        .where(
            Registration.event_id == festival.id,
            Registration.status == RegistrationStatus.CONFIRMED,
            Registration.id != confirmed.id,
        )
        .order_by(Registration.id)
        .limit(2)
    ).all()
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        assert page.evaluate("document.documentElement.lang") == language, name
        found[name] = axe_violations(page)

    context, page = new_page(browser, live_server, language)
    sign_in(page, live_server, ORGANISER)
    page.goto(f"{live_server}/manage/events/{festival.id}/attendance-sheet")
    check("attendance sheet")
    registration = f"{live_server}/manage/events/{festival.id}/registrations/{others[0].id}"
    page.goto(registration + "/cancel")
    check("organiser: cancel the registration?")
    page.click("form.actions button[type=submit]")
    page.wait_for_selector(".notice-undo button")
    check("organiser: cancelled, undo")
    page.click(".notice-undo button")
    page.wait_for_selector(".flash-success")
    check("organiser: undone")
    # Its places gone to someone else: the page says why there is no undo.
    rules.cancel_registration(_db.session.get(Registration, others[1].id), utcnow())
    festival.capacity = rules.availability(festival).confirmed_people
    _db.session.commit()
    page.goto(f"{live_server}/manage/events/{festival.id}/registrations/{others[1].id}")
    assert page.locator(".notice-undo button").count() == 0
    check("organiser: cancelled, no undo")
    context.close()

    context, page = new_page(browser, live_server, language)
    page.goto(f"{live_server}/r/{confirmed.manage_token}/cancel")
    check("resident: cancel?")
    page.click("form.actions button[type=submit]")
    page.wait_for_selector(".notice-undo")
    check("resident: cancelled, undo")
    context.close()

    assert {name: v for name, v in found.items() if v} == {}
