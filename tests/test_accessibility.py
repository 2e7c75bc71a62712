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
from eventsvc.models import Event, EventKind, Registration, RegistrationStatus
from eventsvc.services.demo import DEMO_PASSWORD, load_demo

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
    context.close()

    context, page = new_page(browser, live_server, language)
    sign_in(page, live_server, ORGANISER)
    page.goto(f"{live_server}/manage/")
    check("organiser's event list")
    page.goto(f"{live_server}/manage/events/{festival.id}/edit")
    check("event editor")
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
    }.items():
        page.goto(live_server + path)
        measure(name)
    page.click(".site-header .link-button")  # sign out
    sign_in(page, live_server, DOOR)
    measure("door: coming events")
    context.close()
    assert too_wide == {}, "\n".join(
        f"{name}: {width}px; {culprits}" for name, (width, culprits) in too_wide.items()
    )


@on_sqlite
def test_event_text_keeps_its_own_language(demo, live_server, browser):
    """Screen readers must read a Latvian title with Latvian rules on the English page."""
    festival, _ = demo
    context, page = new_page(browser, live_server, "en")
    page.goto(f"{live_server}/events/{festival.id}")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.get_attribute("h1", "lang") == festival.language == "lv"
    page.goto(f"{live_server}/")
    assert page.locator(f'a[href="/events/{festival.id}"]').first.get_attribute("lang") == "lv"
    context.close()


@on_sqlite
def test_the_other_pages_pass_axe_too(demo, live_server, browser):
    """Beyond the resident's path: sign-in, privacy, the organiser's and the admin's pages (in Latvian)."""
    festival, confirmed = demo
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
